"""Muxing a new audio track: the video stream copied byte for byte, audio as long as the video, atomic output."""

from __future__ import annotations

import os
import re
from pathlib import Path

import av
import numpy as np
import pytest

from egosonics.errors import MediaError
from egosonics.media import mux
from egosonics.media.audio import read_audio
from egosonics.media.mux import mux_audio
from egosonics.media.video import video_duration_s, video_span_s, write_video
from tests.conftest import (
    audio_span_s,
    chirp,
    click_onsets,
    clicks,
    numbered_frames,
    stream_spans,
    unknown_codec_copy,
    video_packets,
)

SR = 22_050
NEW_CLICKS = [0.3, 1.0, 1.6]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """2 s source videos at 25 fps: H.264 in MP4 with/without audio, in MKV (B-frames), VP9 + Opus in WebM, MPEG-TS."""
    folder = tmp_path_factory.mktemp("sources")
    frames, old_audio = numbered_frames(50), chirp(2 * SR)
    made = {
        "silent.mp4": {},
        "h264_aac.mp4": {"audio": old_audio},
        "h264_aac.mkv": {"audio": old_audio},
        "vp9_opus.webm": {"audio": old_audio, "video_codec": "libvpx-vp9", "audio_codec": "libopus"},
        "h264_aac.ts": {"audio": old_audio},
    }
    for name, kwargs in made.items():
        write_video(folder / name, frames, 25, sample_rate=SR, **kwargs)
    return {name: folder / name for name in made}


def nal_units(packet: bytes) -> list[bytes]:
    """The H.264 NAL units of a packet in Annex B (start codes, MPEG-TS) or MP4 (4-byte lengths) framing."""
    if packet.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        return [unit.strip(b"\x00") for unit in re.split(b"\x00\x00\x01", packet) if unit.strip(b"\x00")]
    units, at = [], 0
    while at < len(packet):
        size = int.from_bytes(packet[at:at + 4], "big")
        units.append(packet[at + 4:at + 4 + size].strip(b"\x00"))
        at += 4 + size
    return units


def check_output(src: Path, out: Path, fps: float = 25) -> None:
    """The two promises of mux_audio: video packets unchanged, and the new audio spans the video within a frame."""
    if src.suffix == ".ts" and out.suffix != ".ts":  # the same NAL units, each container framing them its own way
        assert [nal_units(p) for p in video_packets(out)] == [nal_units(p) for p in video_packets(src)]
    else:
        assert video_packets(out) == video_packets(src)
    start, end = video_span_s(out)
    assert end - start == pytest.approx(video_duration_s(src), abs=1e-3)
    with av.open(str(out)) as container:
        origin = container.start_time / av.time_base if container.start_time is not None else 0.0
    audio_start, audio_end = audio_span_s(out)
    assert audio_start - origin == pytest.approx(start, abs=1 / fps)
    assert audio_end - origin == pytest.approx(end, abs=1 / fps)


@pytest.mark.parametrize(("src_name", "out_name"), [
    ("h264_aac.mp4", "out.mp4"),  # replaces the audio
    ("silent.mp4", "out.mp4"),  # adds audio to a silent video
    ("h264_aac.mp4", "out.mov"),
    ("h264_aac.mp4", "out.mkv"),
    ("h264_aac.mkv", "out.mp4"),  # Matroska gives the first packets no decoding timestamp
    ("vp9_opus.webm", "out.webm"),  # VP9 + Opus
    ("vp9_opus.webm", "out.mkv"),
    ("h264_aac.ts", "out.mp4"),  # MPEG-TS: the video starts after 0; H.264 goes from Annex B to MP4 framing
])
def test_video_copied_and_audio_as_long_as_the_video(sources: dict[str, Path], out_dir: Path, src_name: str,
                                                     out_name: str) -> None:
    src, out = sources[src_name], out_dir / out_name
    assert mux_audio(src, clicks(NEW_CLICKS, 2 * SR), SR, out) == out
    check_output(src, out)
    with av.open(str(out)) as container:
        assert [s.type for s in container.streams] == ["video", "audio"]
        expected = "opus" if out.suffix == ".webm" else "aac"
        assert container.streams.audio[0].codec_context.name == expected
    # The new audio is what was muxed, placed from the video's start.
    start, _ = video_span_s(out)
    audio = read_audio(out)
    onsets = click_onsets(audio, [start + t for t in NEW_CLICKS])
    assert onsets == pytest.approx([start + t for t in NEW_CLICKS], abs=1e-3)
    assert [p.name for p in out_dir.iterdir()] == [out_name]


@pytest.mark.parametrize("seconds", [1.0, 2.0, 3.5])
def test_waveform_is_trimmed_or_padded_to_the_video(sources: dict[str, Path], out_dir: Path, seconds: float) -> None:
    src, out = sources["h264_aac.mp4"], out_dir / "out.mp4"
    mux_audio(src, chirp(round(seconds * SR)), SR, out)
    check_output(src, out)
    audio = read_audio(out)
    assert len(audio) == 2 * SR
    if seconds < 2:
        assert not np.any(audio[round(seconds * SR) + 1100:])  # zero padding (codec ringing aside)


def test_keep_original_audio(sources: dict[str, Path], out_dir: Path) -> None:
    src, out = sources["h264_aac.mp4"], out_dir / "both.mp4"
    mux_audio(src, clicks(NEW_CLICKS, 2 * SR), SR, out, keep_original_audio=True)
    check_output(src, out)
    with av.open(str(src)) as container:
        old_packets = [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]
    with av.open(str(out)) as container:
        assert [s.type for s in container.streams] == ["video", "audio", "audio"]
        kept = [bytes(p) for p in container.demux(container.streams.audio[1]) if p.size]
    assert kept == old_packets  # the original track copied, not re-encoded
    spans = stream_spans(out)
    assert spans[2][1] == pytest.approx(spans[0][1], abs=1 / 25)


def test_replacing_drops_the_old_audio(sources: dict[str, Path], out_dir: Path) -> None:
    out = out_dir / "new.mp4"
    mux_audio(sources["h264_aac.mp4"], np.zeros(2 * SR, np.float32), SR, out)
    with av.open(str(out)) as container:
        assert len(container.streams.audio) == 1
    assert not np.any(np.abs(read_audio(out)) > 1e-3)  # silence muxed, so no chirp left


def test_mkv_input_keeps_its_first_keyframe(sources: dict[str, Path], out_dir: Path) -> None:
    """Regression: packets without a decoding timestamp (the first ones from Matroska) were dropped."""
    src = sources["h264_aac.mkv"]
    with av.open(str(src)) as container:
        first = [p for p in container.demux(container.streams.video[0]) if p.size][:2]
        assert first[0].is_keyframe and any(p.dts is None for p in first)
    out = out_dir / "from_mkv.mp4"
    mux_audio(src, clicks(NEW_CLICKS, 2 * SR), SR, out)
    with av.open(str(out)) as container:
        frames = list(container.decode(video=0))
    assert len(frames) == 50 and frames[0].pts == 0


@pytest.mark.parametrize("spelling", ["same", "dot", "dotdot", "symlink", "hardlink"])
def test_refuses_to_overwrite_the_input(sources: dict[str, Path], tmp_path: Path, spelling: str) -> None:
    folder = tmp_path / "videos"
    (folder / "sub").mkdir(parents=True)
    src = folder / "in.mp4"
    src.write_bytes(sources["h264_aac.mp4"].read_bytes())
    before = src.read_bytes()
    out = {"same": src, "dot": folder / "." / "in.mp4", "dotdot": folder / "sub" / ".." / "in.mp4",
           "symlink": folder / "link.mp4", "hardlink": folder / "hard.mp4"}[spelling]
    if spelling == "symlink":
        out.symlink_to(src)
    if spelling == "hardlink":
        os.link(src, out)
    with pytest.raises(MediaError, match="refusing to overwrite an input") as info:
        mux_audio(src, np.zeros(SR, np.float32), SR, out)
    assert str(out) in str(info.value)
    assert src.read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == sorted({"in.mp4", "sub", out.name})


def test_output_folder_missing_or_not_a_folder(sources: dict[str, Path], tmp_path: Path) -> None:
    src = sources["h264_aac.mp4"]
    with pytest.raises(MediaError, match="does not exist") as info:
        mux_audio(src, np.zeros(SR, np.float32), SR, tmp_path / "missing" / "out.mp4")
    assert "missing" in str(info.value)
    a_file = tmp_path / "file.txt"
    a_file.write_text("not a folder")
    with pytest.raises(MediaError, match="is a file, not a folder"):
        mux_audio(src, np.zeros(SR, np.float32), SR, a_file / "out.mp4")


def test_unwritable_output_even_for_root(sources: dict[str, Path]) -> None:
    out = Path("/proc/egosonics-test-output.mp4")  # /proc takes no new files, whoever asks
    with pytest.raises(MediaError, match="output folder /proc is not writable") as info:
        mux_audio(sources["h264_aac.mp4"], np.zeros(SR, np.float32), SR, out)
    assert str(out) in str(info.value)
    assert not out.exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder(sources: dict[str, Path], tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        with pytest.raises(MediaError, match="not writable"):
            mux_audio(sources["h264_aac.mp4"], np.zeros(SR, np.float32), SR, folder / "out.mp4")
    finally:
        folder.chmod(0o755)


def test_failure_midway_leaves_no_partial_file(sources: dict[str, Path], out_dir: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    existing = out_dir / "out.mp4"
    existing.write_bytes(b"an older output")
    seen = []

    def encode_then_fail(out, stream, waveform, sample_rate, **kwargs):
        seen.append(sorted(p.name for p in out_dir.iterdir()))  # the temporary file exists by now
        raise RuntimeError("simulated failure while encoding")

    monkeypatch.setattr(mux, "encode_audio", encode_then_fail)
    with pytest.raises(RuntimeError, match="simulated"):
        mux_audio(sources["h264_aac.mp4"], np.zeros(2 * SR, np.float32), SR, existing)
    assert len(seen[0]) == 2 and any(".partial-" in name for name in seen[0])
    assert [p.name for p in out_dir.iterdir()] == ["out.mp4"]
    assert existing.read_bytes() == b"an older output"  # replaced only on success


def test_container_that_cannot_hold_the_codec(sources: dict[str, Path], out_dir: Path) -> None:
    with pytest.raises(MediaError, match=r"\.webm file cannot hold.*h264") as info:
        mux_audio(sources["h264_aac.mp4"], np.zeros(SR, np.float32), SR, out_dir / "out.webm")
    assert str(out_dir / "out.webm") in str(info.value)
    with pytest.raises(MediaError, match=r"cannot hold.*aac"):  # the kept AAC track cannot go into WebM
        mux_audio(sources["vp9_opus.webm"], np.zeros(SR, np.float32), SR, out_dir / "out.webm",
                  keep_original_audio=False, audio_codec="aac")
    assert list(out_dir.iterdir()) == []


def test_bad_inputs(sources: dict[str, Path], tmp_path: Path, out_dir: Path) -> None:
    with pytest.raises(ValueError, match=r"\(2, 100\)"):
        mux_audio(sources["h264_aac.mp4"], np.zeros((2, 100), np.float32), SR, out_dir / "out.mp4")
    with pytest.raises(MediaError, match="no such file"):
        mux_audio(tmp_path / "missing.mp4", np.zeros(SR, np.float32), SR, out_dir / "out.mp4")
    audio_only = tmp_path / "audio.wav"
    audio_only.write_bytes(b"")
    with pytest.raises(MediaError, match="empty"):
        mux_audio(audio_only, np.zeros(SR, np.float32), SR, out_dir / "out.mp4")
    with pytest.raises(MediaError, match="unknown codec"):
        mux_audio(unknown_codec_copy(sources["silent.mp4"], tmp_path / "zzzz.mp4"), np.zeros(SR, np.float32), SR,
                  out_dir / "out.mp4")
    assert list(out_dir.iterdir()) == []


def test_video_duration_from_packets(sources: dict[str, Path]) -> None:
    for name in ["silent.mp4", "h264_aac.mkv", "vp9_opus.webm", "h264_aac.ts"]:
        assert video_duration_s(sources[name]) == pytest.approx(2.0, abs=1e-3), name
    start, end = video_span_s(sources["h264_aac.ts"])
    assert 0 < start < 0.2 and end - start == pytest.approx(2.0, abs=1e-3)


@pytest.mark.parametrize("name", ["h264_aac.ts", "h264_aac.mkv"])
def test_mux_with_the_span_given_reads_the_input_once(name: str, sources: dict[str, Path], tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller that has probed the span (generate) passes it: the input is opened once, to copy its packets, and
    the output holds what it holds when mux_audio probes the span itself (also for MPEG-TS, whose video starts
    after the file's time origin)."""
    src, wave = sources[name], clicks(NEW_CLICKS, 2 * SR, SR)
    probed = mux_audio(src, wave, SR, tmp_path / "probed.mkv")
    opened: list[str] = []
    real_open = av.open
    monkeypatch.setattr(av, "open", lambda file, *a, **k: (opened.append(str(file)), real_open(file, *a, **k))[1])
    given = mux_audio(src, wave, SR, tmp_path / "given.mkv", span_s=video_span_s(src))
    assert opened.count(str(src)) == 2  # video_span_s above, then the copy: mux_audio itself opened it once
    check_output(src, given)
    assert video_packets(given) == video_packets(probed)
    assert stream_spans(given) == stream_spans(probed)
    np.testing.assert_array_equal(read_audio(given), read_audio(probed))
