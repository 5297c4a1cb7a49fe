"""Audio reading (mono float32 at 22,050 Hz from any codec, windows on the file's clock), RMS in dBFS, writing."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
import soundfile as sf

from egosonics.errors import MediaError
from egosonics.media.audio import SILENCE_DBFS, encode_audio, read_audio, rms, rms_dbfs, write_audio
from egosonics.media.video import write_video
from tests.conftest import click_onsets, clicks, numbered_frames

SR = 22_050
CLICKS = [0.25, 0.7, 1.3, 1.85]
ONE_MS = 1e-3


def encode_file(path: Path, codec: str, rate: int, channels: int = 1, seconds: float = 2.0) -> Path:
    """Clicks at ``CLICKS`` (the same in every channel) encoded with PyAV, ``seconds`` long."""
    wave = clicks(CLICKS, round(seconds * rate), rate)
    layout = "mono" if channels == 1 else "stereo"
    with av.open(str(path), mode="w") as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        if channels == 1:
            encode_audio(out, stream, wave, rate)
        else:
            frame = av.AudioFrame.from_ndarray(np.repeat(wave[None], channels, axis=0), format="fltp", layout=layout)
            frame.sample_rate, frame.pts, frame.time_base = rate, 0, Fraction(1, rate)
            for packet in [*stream.encode(frame), *stream.encode(None)]:
                out.mux(packet)
    return path


FORMATS = {  # name: (codec, source rate, channels)
    "aac.m4a": ("aac", 44_100, 2),
    "aac.mp4": ("aac", 48_000, 1),
    "mp3.mp3": ("libmp3lame", 44_100, 2),
    "opus.webm": ("libopus", 48_000, 2),
    "opus.ogg": ("libopus", 48_000, 1),
    "flac.flac": ("flac", 44_100, 2),
    "pcm.wav": ("pcm_s16le", 16_000, 1),
}


@pytest.fixture(scope="module")
def audio_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("audio")
    return {name: encode_file(folder / name, *spec) for name, spec in FORMATS.items()}


@pytest.mark.parametrize("name", list(FORMATS))
def test_any_codec_gives_mono_float32_at_22050(audio_files: dict[str, Path], name: str) -> None:
    audio = read_audio(audio_files[name])
    assert audio.dtype == np.float32 and audio.ndim == 1 and audio.flags.c_contiguous
    assert abs(len(audio) - 2 * SR) <= 0.01 * SR  # 2 s (codec padding trimmed to the stream's length)
    assert np.isfinite(audio).all() and 0.5 < np.abs(audio).max() < 1.0
    # Stereo with the same signal in both channels averages to that signal, not to a +3 dB downmix.
    assert np.abs(audio).max() == pytest.approx(np.abs(clicks(CLICKS, 2 * SR)).max(), rel=0.1)
    assert click_onsets(audio, CLICKS) == pytest.approx(CLICKS, abs=ONE_MS)


@pytest.mark.parametrize("name", list(FORMATS))
@pytest.mark.parametrize(("start_s", "duration_s"), [(0.6, 0.3), (1.2, 0.5), (1.75, 1.0)])  # > 1 s may seek
def test_window_places_clicks_on_the_file_clock(audio_files: dict[str, Path], name: str, start_s: float,
                                                duration_s: float) -> None:
    audio = read_audio(audio_files[name], start_s=start_s, duration_s=duration_s)
    assert len(audio) == round(duration_s * SR) and audio.dtype == np.float32
    inside = [t for t in CLICKS if start_s + 0.01 < t < start_s + duration_s - 0.05]
    assert inside
    onsets = click_onsets(audio, [t - start_s for t in inside])
    assert onsets == pytest.approx([t - start_s for t in inside], abs=ONE_MS)
    if start_s + duration_s > 2.0:  # past the end: zeros
        assert not np.any(audio[round((2.0 - start_s) * SR) + 64:])


def test_window_starting_before_the_audio_is_zero_padded(tmp_path: Path) -> None:
    path = tmp_path / "late.mkv"
    wave = clicks([0.2], SR)  # 1 s of audio that starts 0.5 s after the video
    with av.open(str(path), "w") as out:
        video = out.add_stream("libx264", rate=30)
        video.width, video.height, video.pix_fmt = 80, 64, "yuv420p"
        audio = out.add_stream("flac", rate=SR, layout="mono")
        for rgb in numbered_frames(45):
            for packet in video.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        encode_audio(out, audio, wave, SR, start_pts=SR // 2)
    audio = read_audio(path, duration_s=1.5)
    assert len(audio) == round(1.5 * SR)
    assert not np.any(audio[: SR // 2 - 8])
    assert click_onsets(audio, [0.7]) == pytest.approx([0.7], abs=ONE_MS)


def test_stereo_is_averaged_exactly(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    left, right = (0.4 * rng.standard_normal((2, SR))).astype(np.float32)
    path = tmp_path / "stereo.wav"
    sf.write(path, np.stack([left, right], axis=1), SR, subtype="FLOAT")
    np.testing.assert_array_equal(read_audio(path, sample_rate=None), (left + right) / np.float32(2))
    np.testing.assert_allclose(read_audio(path), (left + right) / 2, atol=1e-6)  # same rate: no resampling
    opposite = tmp_path / "opposite.flac"  # L = -R cancels exactly; a downmix matrix would too, but not L = R
    sf.write(opposite, np.stack([left / 2, -left / 2], axis=1), SR, subtype="PCM_24")
    assert np.abs(read_audio(opposite, sample_rate=None)).max() == 0.0


def test_other_rates_and_none(audio_files: dict[str, Path]) -> None:
    native = read_audio(audio_files["flac.flac"], sample_rate=None)
    assert len(native) == 2 * 44_100
    at_16k = read_audio(audio_files["flac.flac"], sample_rate=16_000)
    assert len(at_16k) == pytest.approx(32_000, abs=16)
    assert click_onsets(at_16k, CLICKS, sr=16_000) == pytest.approx(CLICKS, abs=ONE_MS)


def test_truncated_audio_is_an_error_where_samples_are_missing(tmp_path: Path) -> None:
    path = tmp_path / "long.flac"
    rng = np.random.default_rng(0)
    sf.write(path, (0.3 * rng.standard_normal(4 * SR)).astype(np.float32), SR, subtype="PCM_24")
    cut = tmp_path / "cut.flac"
    data = path.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(MediaError, match=r"truncated.*audio stops at .* header declares 4.00 s") as info:
        read_audio(cut)
    assert str(cut) in str(info.value)
    assert len(read_audio(cut, duration_s=1.0)) == SR  # the part that is there still reads


def test_read_errors_name_the_file(tmp_path: Path) -> None:
    video_only = tmp_path / "video.mp4"
    write_video(video_only, numbered_frames(10), 30)
    with pytest.raises(MediaError, match="has no audio stream") as info:
        read_audio(video_only)
    assert str(video_only) in str(info.value)
    with pytest.raises(MediaError, match="no such file"):
        read_audio(tmp_path / "missing.wav")
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        read_audio(tmp_path / "empty.wav")
    (tmp_path / "noise.wav").write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(MediaError, match="invalid data"):
        read_audio(tmp_path / "noise.wav")


# ------------------------------------------------------------------------------------------------ RMS

def test_rms_dbfs_of_full_scale_sine_and_square() -> None:
    t = np.arange(SR) / SR
    sine = np.sin(2 * np.pi * 441 * t).astype(np.float32)  # whole periods
    assert rms(sine) == pytest.approx(1 / np.sqrt(2), rel=1e-6)
    assert rms_dbfs(sine) == pytest.approx(-3.0103, abs=1e-3)
    assert rms_dbfs(0.5 * sine) == pytest.approx(-9.0309, abs=1e-3)
    assert rms_dbfs(np.sign(sine + 1e-9)) == pytest.approx(0.0, abs=1e-6)


@pytest.mark.parametrize("signal", [np.zeros(SR, np.float32), np.zeros(0, np.float32), np.full(100, 1e-9)])
def test_silence_gives_the_floor(signal: np.ndarray) -> None:
    assert rms_dbfs(signal) == SILENCE_DBFS == -120.0


# ------------------------------------------------------------------------------------------------ writing

@pytest.mark.parametrize(("suffix", "step"), [(".wav", 1 / 32768), (".flac", 1 / 2 ** 23)])
def test_write_audio_round_trip(out_dir: Path, suffix: str, step: float) -> None:
    wave = clicks(CLICKS, 2 * SR) + 0.1 * np.sin(np.arange(2 * SR) / 7).astype(np.float32)
    path = out_dir / f"out{suffix}"
    write_audio(path, wave, SR)
    info = sf.info(path)
    assert (info.samplerate, info.channels, info.frames) == (SR, 1, 2 * SR)
    np.testing.assert_allclose(read_audio(path), wave, atol=step)
    assert [p.name for p in out_dir.iterdir()] == [path.name]  # no temporary file left


def test_write_audio_clips_and_checks(out_dir: Path, tmp_path: Path) -> None:
    path = out_dir / "loud.wav"
    write_audio(path, np.array([2.0, -2.0, 0.5], np.float32), SR)
    np.testing.assert_allclose(sf.read(path, dtype="float32")[0], [32767 / 32768, -1.0, 0.5])
    with pytest.raises(MediaError, match=r"'\.mp3'"):
        write_audio(out_dir / "x.mp3", np.zeros(10), SR)
    with pytest.raises(ValueError, match=r"\(2, 10\)"):
        write_audio(out_dir / "stereo.wav", np.zeros((2, 10)), SR)
    with pytest.raises(MediaError, match="input file"):
        write_audio(path, np.zeros(10), SR, inputs=(path,))
    with pytest.raises(MediaError, match="does not exist"):
        write_audio(tmp_path / "nowhere" / "x.wav", np.zeros(10), SR)
    assert sorted(p.name for p in out_dir.iterdir()) == ["loud.wav"]


def test_write_audio_failure_leaves_nothing(out_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    existing = out_dir / "keep.wav"
    write_audio(existing, np.zeros(100), SR)
    before = existing.read_bytes()

    def fail(path, *args, **kwargs):
        Path(path).write_bytes(b"RIFF partial")
        raise sf.LibsndfileError(2, prefix="Error writing: ")

    monkeypatch.setattr(sf, "write", fail)
    with pytest.raises(MediaError, match="cannot write") as info:
        write_audio(existing, np.ones(100), SR)
    assert str(existing) in str(info.value)
    assert existing.read_bytes() == before  # the old file is untouched, the partial one removed
    assert [p.name for p in out_dir.iterdir()] == ["keep.wav"]


def test_limit_peak_lowers_only_what_would_clip() -> None:
    from egosonics.media.audio import limit_peak

    quiet = np.array([0.5, -1.0, 0.25], np.float32)
    assert limit_peak(quiet) is quiet
    loud = np.array([0.5, -2.0, 1.0], np.float32)  # shorter than the hold: the whole waveform gets the peak's gain
    np.testing.assert_allclose(limit_peak(loud), [0.25, -1.0, 0.5])
    assert len(limit_peak(np.zeros(0, np.float32))) == 0


def test_one_loud_click_does_not_make_the_whole_soundtrack_quiet() -> None:
    """A generated contact overshooting full scale 3x (as the onset-track models' do) is brought to full scale where
    it is; the rest keeps its level (dividing the whole soundtrack by its peak made it 3x quieter throughout)."""
    from egosonics.media.audio import LIMIT_HOLD, limit_peak

    rng = np.random.default_rng(0)
    x = (0.1 * rng.standard_normal(SR)).astype(np.float32)
    click = 10_000
    x[click:click + 50] += 3.0 * np.hanning(50).astype(np.float32)
    limited = limit_peak(x)
    assert limited.dtype == np.float32 and limited.shape == x.shape
    assert np.abs(limited).max() <= 1.0 and np.abs(limited).max() > 0.99  # full scale at the click, not beyond
    far = np.ones(SR, bool)
    far[click - 2 * LIMIT_HOLD:click + 50 + 2 * LIMIT_HOLD] = False
    np.testing.assert_array_equal(limited[far], x[far])  # untouched away from it
    assert x.dtype == np.float32 and np.abs(x).max() > 2.9  # the input is not modified
    level = np.full(SR, 0.2, np.float32)
    level[click] = 3.0
    gain = limit_peak(level) / level
    assert gain[click] == pytest.approx(1 / 3, rel=1e-5)
    assert np.all(np.diff(gain[:click + 1]) <= 1e-7) and np.all(np.diff(gain[click:]) >= -1e-7)  # smooth, no jumps
    assert gain[click - 2 * LIMIT_HOLD] == 1.0 and gain[click + 2 * LIMIT_HOLD] == 1.0
    several = np.stack([x, 0.5 * x])  # [..., n]: each row limited on its own
    np.testing.assert_array_equal(limit_peak(several)[0], limited)
    assert np.abs(limit_peak(several)[1]).max() <= 1.0


def test_limit_peak_never_exceeds_full_scale_and_is_exactly_1_beyond_its_reach() -> None:
    from egosonics.media.audio import limit_peak, limit_reach

    rng = np.random.default_rng(1)
    for trial in range(60):
        n, hold = int(rng.integers(1, 3000)), int(rng.integers(0, 700))
        dtype = (np.float32, np.float64)[trial % 2]
        x = (rng.standard_normal(n) * rng.uniform(0.2, 4.0)).astype(dtype)
        x[[0, -1]] *= 5  # peaks at both edges
        y = limit_peak(x, hold)
        assert y.dtype == dtype and np.abs(y).max() <= 1.0, (n, hold)
        reach = limit_reach(hold)
        far = np.ones(n, bool)
        for k in np.flatnonzero(np.abs(x) > 1.0):
            far[max(0, k - reach):k + reach + 1] = False
        assert np.array_equal(y[far], x[far]), (n, hold, dtype)  # bit for bit, float64 too


def test_resample_is_polyphase_along_the_last_axis() -> None:
    from egosonics.media.audio import resample

    x = np.sin(2 * np.pi * 440 * np.arange(22_050) / 22_050).astype(np.float32)
    assert resample(x, 22_050, 22_050) is x
    y = resample(np.stack([x, x]), 22_050, 16_000)
    assert y.shape == (2, 16_000) and y.dtype == np.float32
    np.testing.assert_allclose(y[0, 1000:-1000], np.sin(2 * np.pi * 440 * np.arange(16_000) / 16_000)[1000:-1000],
                               atol=1e-2)
