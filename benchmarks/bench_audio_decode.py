"""Audio-only decoding + RMS of a 10-minute AAC soundtrack, on one CPU core.

Input (generated here, about 20 s): a 10-minute MP4, H.264 640 × 360 at 30 fps (libx264 preset ultrafast, a panning
texture) with stereo 44.1 kHz AAC (noise plus tones, different per channel), packets interleaved second by second.

Measured, each case in a fresh child process pinned to CPU 0 (``os.sched_setaffinity``, one BLAS/OpenMP thread):
  * ``egosonics.media.audio.read_audio(path, sample_rate=None)`` + ``rms_dbfs``, as real-time factor (seconds of
    audio per second of wall time); median of 3 runs, and the first run of the process alone;
  * the same with ``sample_rate=22050`` (channel mean, then libswresample);
  * floor: PyAV decoding the audio packets only, frames dropped (no conversion, no RMS);
  * a naive pipeline: demux and decode every packet of both streams with PyAV (video frames decoded and dropped,
    audio frames averaged to mono), then the RMS.

Target (foundation issue): read_audio + rms_dbfs at the native rate ≥ 300× real time on one core.
"""

from __future__ import annotations

import argparse
import os
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

from common import (
    add_target,
    child_reply,
    median,
    median_or_none,
    new_result,
    peak_rss_mb,
    pin_to_one_core,
    run_child,
    time_call,
)
from testmedia import panned_frame, texture

NAME = "audio_decode"
TITLE = "audio-only decode + RMS of a 10-minute stereo 44.1 kHz AAC track, one core"

DURATION_S = 600
FPS = 30
WIDTH, HEIGHT = 640, 360
SAMPLE_RATE = 44_100
RUNS = 3
TARGET_REALTIME = 300.0


def write_test_video(path: Path, duration_s: int = DURATION_S) -> None:
    """H.264 640 × 360 (a texture panning smoothly) + stereo AAC (noise and tones), interleaved every second."""
    import av
    import numpy as np

    rng = np.random.default_rng(0)
    luma, chroma = texture(rng, 2 * HEIGHT, 2 * WIDTH, 5), texture(rng, HEIGHT, WIDTH, 9)
    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=FPS, options={"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        audio = out.add_stream("aac", rate=SAMPLE_RATE, layout="stereo")
        for sec in range(duration_s):
            for i in range(FPS):
                n = sec * FPS + i
                x, y = int(WIDTH / 2 * (1 + np.sin(n / 300))), int(HEIGHT / 2 * (1 + np.sin(n / 410)))
                for packet in video.encode(panned_frame(luma, chroma, x, y, WIDTH, HEIGHT, n)):
                    out.mux(packet)
            t = (sec * SAMPLE_RATE + np.arange(SAMPLE_RATE)) / SAMPLE_RATE
            left = 0.1 * rng.standard_normal(SAMPLE_RATE) + 0.2 * np.sin(2 * np.pi * 440 * t)
            right = (0.05 * rng.standard_normal(SAMPLE_RATE)
                     + 0.2 * np.sin(2 * np.pi * (660 * t + 30 * np.sin(2 * np.pi * 0.2 * t))))
            frame = av.AudioFrame.from_ndarray(np.stack([left, right]).astype(np.float32), format="fltp",
                                               layout="stereo")
            frame.sample_rate, frame.pts, frame.time_base = SAMPLE_RATE, sec * SAMPLE_RATE, Fraction(1, SAMPLE_RATE)
            for packet in audio.encode(frame):
                out.mux(packet)
        for stream in (video, audio):
            for packet in stream.encode(None):
                out.mux(packet)


def _child(case: str, path: str, runs: int) -> dict[str, Any]:
    """Runs inside a child process pinned to CPU 0."""
    pin_to_one_core()
    import av
    import numpy as np

    from egosonics.media.audio import read_audio, rms_dbfs

    def ours(rate: int | None) -> tuple[float, float | None, float | None, int]:
        t_read, audio = time_call(lambda: read_audio(path, sample_rate=rate))
        t_rms, level = time_call(lambda: rms_dbfs(audio))
        return t_read + t_rms, t_rms, level, len(audio)

    def audio_only_raw() -> tuple[float, float | None, float | None, int]:
        def decode() -> int:
            n = 0
            with av.open(path) as container:
                for packet in container.demux(container.streams.audio[0]):
                    for frame in packet.decode():
                        n += frame.samples
            return n
        seconds, n = time_call(decode)
        return seconds, None, None, n

    def naive() -> tuple[float, float | None, float | None, int]:
        def decode() -> np.ndarray:
            chunks, video_frames = [], 0
            with av.open(path) as container:
                for packet in container.demux():  # every packet of every stream
                    for frame in packet.decode():
                        if isinstance(frame, av.AudioFrame):
                            chunks.append(frame.to_ndarray().mean(axis=0, dtype=np.float32))
                        else:
                            video_frames += 1
            return np.concatenate(chunks)
        t_decode, audio = time_call(decode)
        t_rms, level = time_call(lambda: rms_dbfs(audio))
        return t_decode + t_rms, t_rms, level, len(audio)

    cases = {"native": lambda: ours(None), "22050": lambda: ours(22_050), "raw": audio_only_raw, "naive": naive}
    rss_before = peak_rss_mb()
    results = [cases[case]() for _ in range(runs)]
    return {"seconds": [r[0] for r in results], "rms_seconds": [r[1] for r in results], "dbfs": results[0][2],
            "samples": results[0][3], "cpus": sorted(os.sched_getaffinity(0)),
            "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before}


def run(workdir: Path) -> dict[str, Any]:
    import av

    result = new_result(NAME, TITLE)
    path = workdir / "ten_minutes.mp4"
    gen_s, _ = time_call(lambda: write_test_video(path))
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        channels = audio.codec_context.channels
        duration = float(audio.duration * audio.time_base)
    result["info"] = {"file_MB": round(path.stat().st_size / 1e6, 1), "audio_s": round(duration, 2),
                      "channels": channels, "video": f"{WIDTH}x{HEIGHT}@{FPS} H.264", "generate_s": round(gen_s, 1),
                      "runs": RUNS}

    rows = []
    measured = {}
    cases = [("native", "read_audio(sample_rate=None) + rms_dbfs", SAMPLE_RATE),
             ("22050", "read_audio(sample_rate=22050) + rms_dbfs", 22_050),
             ("raw", "floor: PyAV audio packets only, no conversion", SAMPLE_RATE),
             ("naive", "naive: decode video + audio, then RMS", SAMPLE_RATE)]
    for case, label, rate in cases:
        child = run_child(__file__, [case, str(path), str(RUNS)], one_core=True)
        assert child["cpus"] == [0], child["cpus"]
        audio_s = child["samples"] / rate
        t = median(child["seconds"])
        measured[case] = t
        rows.append({"case": label, "out_rate": rate, "median_s": t, "first_run_s": child["seconds"][0],
                     "x_realtime": audio_s / t, "x_realtime_first": audio_s / child["seconds"][0],
                     "rms_s": median_or_none(child["rms_seconds"]), "rms_first_s": child["rms_seconds"][0],
                     "dBFS": child["dbfs"],
                     "peak_rss_MB": child["peak_rss_mb"]})
    for row, (case, *_) in zip(rows, cases, strict=True):
        row["naive_vs_this"] = measured["naive"] / measured[case]
    result["rows"] = rows
    native_rt = rows[0]["x_realtime"]
    add_target(result, "read_audio + rms_dbfs, native rate, median", native_rt, TARGET_REALTIME,
               detail=f"first run in a fresh process {rows[0]['x_realtime_first']:.0f}×")
    add_target(result, "read_audio + rms_dbfs, 22,050 Hz, median", rows[1]["x_realtime"], TARGET_REALTIME)
    result["notes"].append(f"decoding the video too (naive) is {measured['naive'] / measured['native']:.1f}× slower "
                           f"than audio-only read_audio at the native rate")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=3, metavar=("CASE", "PATH", "RUNS"), required=True)
    args = parser.parse_args()
    child_reply(_child(args.child[0], args.child[1], int(args.child[2])))
    sys.exit(0)
