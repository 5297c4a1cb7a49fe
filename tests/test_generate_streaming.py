"""``egosonics generate`` in flat memory: frames decoded once and cut into windows, joins streamed, audio spooled."""

from __future__ import annotations

import logging
import tracemalloc
import weakref
from dataclasses import replace

import numpy as np
import pytest
import torch

import egosonics.generate as generate_module
from egosonics.generate import AudioSpool, CrossfadeJoiner, GenerateOptions, crossfade_join, generate_files
from egosonics.loading import load_pipeline
from egosonics.media.audio import read_audio
from egosonics.media.video import FrameStream, read_frames, write_video
from egosonics.media.windows import split_windows, window_frames
from egosonics.pipeline import EgoSonicsPipeline

SR = 22_050
FAST = GenerateOptions(steps=2, guidance=1.0, griffin_lim_iters=4, batch_size=4)


def make_video(path, seconds: float, fps: float = 15, size=(32, 48)):
    """A video whose frames all differ (a counter in the pixels), written in one go."""
    n = round(seconds * fps)
    frames = np.zeros((n, *size, 3), np.uint8)
    frames[:, :, :, 0] = (np.arange(n) % 256)[:, None, None]
    frames[:, :, :, 1] = (np.arange(n) // 256 * 40 % 256)[:, None, None]
    write_video(path, frames, fps, options={"preset": "ultrafast"})
    return path


def reference_join(pieces, windows, sample_rate, total):
    """The all-at-once join the streaming joiner replaced (kept here as the specification)."""
    out = np.zeros(total, np.float32)
    written_to = 0
    for piece, window in zip(pieces, windows, strict=True):
        start = round(window.start_s * sample_rate)
        piece = piece[: max(0, total - start)]
        overlap = max(0, min(written_to - start, len(piece)))
        if overlap:
            theta = np.linspace(0.0, np.pi / 2, overlap, dtype=np.float32)
            region = slice(start, start + overlap)
            out[region] = out[region] * np.cos(theta) + piece[:overlap] * np.sin(theta)
        out[start + overlap:start + len(piece)] = piece[overlap:]
        written_to = max(written_to, start + len(piece))
    return out


@pytest.mark.parametrize(("total_s", "hop_s"), [(25.0, 8.0), (61.3, 7.5), (30.0, 4.0), (30.0, 10.0), (4.0, 8.0)])
def test_joiner_streams_the_same_samples_holding_at_most_one_window(total_s, hop_s):
    rng = np.random.default_rng(1)
    windows = split_windows(total_s, window_s=10.0, hop_s=hop_s)
    pieces = [rng.standard_normal(10 * SR).astype(np.float32) for _ in windows]
    total = round(total_s * SR)
    joiner = CrossfadeJoiner(windows, SR, total)
    parts = []
    for piece in pieces:
        parts.append(joiner.add(piece))
        assert len(joiner.pending) <= 10 * SR  # never more than one window held
    parts.append(joiner.finish())
    joined = np.concatenate(parts)
    assert len(joined) == total
    np.testing.assert_allclose(joined, reference_join(pieces, windows, SR, total), atol=1e-6)
    assert np.array_equal(crossfade_join(pieces, windows, SR, total), joined)
    # One crossfade per window after the first, each as long as the overlap (shorter only at the end).
    assert len(joiner.joins) == (len(windows) - 1 if hop_s < 10 else 0)


def test_every_join_is_equal_power():
    """At each join the faded-out and faded-in gains g_out = cos θ, g_in = sin θ keep g_out² + g_in² = 1: the level of
    uncorrelated windows stays that of one window through the whole overlap, and a window joined to itself (fully
    correlated) rises to at most √2 and never dips."""
    windows = split_windows(60.0, window_s=10.0, hop_s=8.0)
    total = 60 * SR
    ones = crossfade_join([np.ones(10 * SR, np.float32)] * len(windows), windows, SR, total)
    assert ones.min() >= 1.0 - 1e-6 and ones.max() <= np.sqrt(2) + 1e-6
    rng = np.random.default_rng(0)
    pieces = [rng.standard_normal(10 * SR).astype(np.float32) for _ in windows]
    joiner = CrossfadeJoiner(windows, SR, total)
    joined = np.concatenate([*(joiner.add(p) for p in pieces), joiner.finish()])
    assert len(joiner.joins) == len(windows) - 1
    frame = SR // 10  # 100 ms
    for start, length in joiner.joins:
        assert length == 2 * SR
        region = joined[start:start + length]
        rms = np.sqrt((region[: length // frame * frame].reshape(-1, frame) ** 2).mean(axis=1))
        assert np.all(np.abs(rms - 1.0) < 0.12), (start / SR, rms.round(3))


def test_windows_from_one_decode_equal_a_seek_and_decode_per_window(tmp_path):
    src = make_video(tmp_path / "v.mp4", 27.0, fps=24)
    windows = split_windows(27.0, window_s=10.0, hop_s=8.0)
    stream = FrameStream(src, duration_s=windows[-1].start_s + 10.0, fps=30, size=16, crop=True)
    streamed = list(window_frames(stream, windows, 30))
    assert len(streamed) == len(windows) == 4
    for window, frames in zip(windows, streamed, strict=True):
        expected = read_frames(src, start_s=window.start_s, duration_s=10.0, fps=30, size=16, crop=True).frames
        assert frames.shape == (300, 16, 16, 3)
        assert np.array_equal(frames, expected), window
    assert stream.num_valid == round(27.0 * 30)


def test_window_frames_refuses_a_stream_that_ends_early():
    windows = split_windows(25.0, window_s=10.0, hop_s=8.0)
    frames = (np.zeros((2, 2, 3), np.uint8) for _ in range(500))
    with pytest.raises(ValueError, match="the frames end at frame 500"):
        list(window_frames(frames, windows, 30))


def test_audio_spool_round_trips_in_blocks_and_limits_them_as_a_whole():
    from egosonics.media.audio import limit_peak, limit_reach

    rng = np.random.default_rng(0)
    parts = [rng.standard_normal(n).astype(np.float32) for n in (0, 5, 70_000, 3)]
    with AudioSpool() as spool:
        for part in parts:
            spool.write(part)
        whole = np.concatenate(parts)
        assert spool.num_samples == len(whole)
        blocks = list(spool.blocks(block=1000))
        assert max(len(b) for b in blocks) == 1000
        assert np.array_equal(np.concatenate(blocks), whole)
        assert np.array_equal(spool.read(), whole)
        # Standard normal noise goes above 1 everywhere: limited block by block, with the limiter's reach of context,
        # it is exactly the whole limited at once, peaks at block edges included.
        assert limit_reach() > 0 and np.abs(whole).max() > 3
        limited = limit_peak(whole)
        for block in (1000, 333, 100_000):
            assert np.array_equal(np.concatenate(list(spool.limited_blocks(block=block))), limited), block
        assert np.array_equal(spool.read(limited=True), limited)


@pytest.fixture(scope="module")
def tiny_pipe(tmp_path_factory):
    folder = tmp_path_factory.mktemp("model") / "tiny"
    EgoSonicsPipeline.from_preset("tiny", seed=0).save_pretrained(folder)
    pipe = load_pipeline(folder)
    pipe.set_progress_bar_config(disable=True)
    return pipe


def measure_generate(pipe, src, out, monkeypatch, options):
    """(most decoded frames alive at once, peak bytes of Python/numpy allocations) of one generate_files call."""
    alive = {"now": 0, "max": 0}
    seen: set[int] = set()

    def gone(key):
        alive["now"] -= 1
        seen.discard(key)

    class CountingStream(FrameStream):
        def __iter__(self):
            for frame in super().__iter__():
                if id(frame) not in seen:  # a frame may be yielded more than once
                    seen.add(id(frame))
                    alive["now"] += 1
                    alive["max"] = max(alive["max"], alive["now"])
                    weakref.finalize(frame, gone, id(frame))
                yield frame

    monkeypatch.setattr(generate_module, "FrameStream", CountingStream)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        report = generate_files(pipe, [src], out, options)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert not report.failed, report.failed
    return alive["max"], peak


def test_memory_does_not_grow_with_the_length(tiny_pipe, tmp_path, monkeypatch, caplog):
    """A 90 s video holds as many frames at once as a 30 s one (one window's worth), and its peak of Python and numpy
    allocations (frames, windows, joined audio, muxing) is no larger: nothing the length of the video is held.

    Both lengths take several batches of 2 windows, so they differ only in how many; a short warm-up run first fills
    the caches that stay (STFT windows), which would otherwise count in the first measured run only."""
    caplog.set_level(logging.INFO, logger="egosonics.generate")
    options = replace(FAST, batch_size=2)
    generate_files(tiny_pipe, [make_video(tmp_path / "warm.mp4", 3)], tmp_path / "warm.out.mp4", options)
    results = {}
    for seconds in (30, 90):
        src = make_video(tmp_path / f"v{seconds}.mp4", seconds)
        out = tmp_path / f"v{seconds}.out.mp4"
        results[seconds] = measure_generate(tiny_pipe, src, out, monkeypatch, options)
        assert abs(len(read_audio(out)) / SR - seconds) <= 1 / 30
    (frames_30, peak_30), (frames_90, peak_90) = results[30], results[90]
    assert frames_90 == frames_30 <= 300 + 2, results
    # Joined in memory, the 90 s soundtrack and its windows would add about 11 MB over the 30 s ones.
    assert peak_90 <= peak_30 + 1_000_000, results
    assert "v90.mp4: window 11/11, 90.0 of 90.0 s" in caplog.text  # progress, also when no bar is shown


@pytest.mark.parametrize("seconds", [1.5, 2.0, 3.0])
def test_mux_and_wav_from_pieces_equal_mux_and_wav_from_one_array(tmp_path, seconds):
    """A streamed soundtrack (an iterator of pieces, trimmed or padded to the video as it goes) gives the same files as
    the whole array."""
    from egosonics.media.audio import write_audio
    from egosonics.media.mux import mux_audio

    src = make_video(tmp_path / "v.mp4", 2.0)
    wave = (0.3 * np.sin(np.arange(round(seconds * SR)) / 9.0)).astype(np.float32)
    mux_audio(src, wave, SR, tmp_path / "whole.mp4")
    mux_audio(src, iter(np.array_split(wave, 7)), SR, tmp_path / "pieces.mp4")
    assert np.array_equal(read_audio(tmp_path / "whole.mp4"), read_audio(tmp_path / "pieces.mp4"))
    write_audio(tmp_path / "whole.wav", wave, SR)
    write_audio(tmp_path / "pieces.wav", iter(np.array_split(wave, 7)), SR)
    assert (tmp_path / "whole.wav").read_bytes() == (tmp_path / "pieces.wav").read_bytes()


@pytest.mark.parametrize("seconds", [10, 20])
def test_a_loud_contact_is_limited_where_it_is_and_the_rest_keeps_its_level(tiny_pipe, tmp_path, monkeypatch,
                                                                             seconds):
    """The onset-track models' contacts overshoot full scale 2-4 times; the written soundtrack is limited around
    them, not divided by its peak throughout (which made impacts quiet enough to be heard as footsteps), also where
    two windows' crossfade adds up their contacts (20 s: windows at 0 and 8 s, both loud at 9 s)."""
    from egosonics.media.audio import limit_peak, limit_reach
    from egosonics.pipeline import EgoSonicsPipelineOutput

    rng = np.random.default_rng(0)
    loud = (0.1 * rng.standard_normal(10 * SR)).astype(np.float32)
    for at in (1, 9):
        loud[at * SR:at * SR + 40] += 3.0 * np.hanning(40).astype(np.float32)

    def fake_call(self, frames, **_):
        batch = len(frames)
        return EgoSonicsPipelineOutput(waveforms=torch.from_numpy(np.tile(loud, (batch, 1))), spectrograms=None,
                                       model_images=None, video_embeddings=None)

    monkeypatch.setattr(EgoSonicsPipeline, "__call__", fake_call)
    src = make_video(tmp_path / "clip.mp4", seconds)
    generate_files(tiny_pipe, [src], tmp_path / "out.mp4", replace(FAST, write_wav=True))
    written = read_audio(tmp_path / "out.wav")
    windows = split_windows(float(seconds), window_s=10.0, hop_s=8.0)
    joined = crossfade_join([loud] * len(windows), windows, SR, seconds * SR)
    assert np.abs(joined).max() > 3.0  # what would have been divided by its peak
    assert np.abs(written).max() <= 1.0 and np.abs(written).max() > 0.99
    np.testing.assert_allclose(written, limit_peak(joined), atol=1e-4)  # 16-bit WAV
    far = np.ones(len(joined), bool)
    for contact in np.flatnonzero(np.abs(joined) > 1.0):
        far[max(0, contact - limit_reach()):contact + limit_reach() + 1] = False
    assert far.mean() > 0.9
    np.testing.assert_allclose(written[far], joined[far], atol=1e-4)  # the level kept away from the contacts
