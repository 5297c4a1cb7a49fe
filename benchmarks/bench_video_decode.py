"""Decoding a 10 s 1080p H.264 clip to the model's 300 frames at 224 × 224.

Input (generated here, a few seconds): 1920 × 1080, 30 fps, 10 s, H.264 yuv420p (libx264 preset ultrafast, a
textured scene panning in two directions, ~20 Mbit/s, like an action-camera recording).

Measured, each case in a fresh child process (both CPU cores, decoder threads as the library sets them), 3 runs:
  * ``egosonics.media.video.read_frames(path, size=224, crop=True)``: libswscale resizes while converting each frame;
  * ``read_frames(path)`` (size=None: 300 full-size RGB frames) then PIL resizes each frame to 224 × 224 (box
    filter over the centre 1080 × 1080 square, i.e. resize-and-centre-crop in one call) — the naive approach;
  * a streaming baseline: PyAV decodes, each frame becomes a full-size RGB array and PIL resizes it at once, so only
    224 × 224 frames are kept (separates the memory cost from the conversion cost);
  * floor: PyAV decoding the 300 frames without any conversion (what no approach can beat).
Reported: frames per second (median), the speed ratio against the naive approach, peak resident memory of each child
(VmHWM; ``rss_growth_MB`` subtracts the peak before the first run, i.e. after the imports), and the mean
absolute pixel difference between each approach's frames and ours (0–255 scale; the filters differ slightly).

Target (foundation issue): read_frames(size=224) faster than full-size decode + resize; the ratio is reported.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from common import child_reply, median, median_or_none, new_result, peak_rss_mb, run_child, time_call
from testmedia import panned_frame, texture

NAME = "video_decode"
TITLE = "10 s 1080p30 H.264 → 300 frames at 224 × 224"

WIDTH, HEIGHT, FPS, NUM_FRAMES = 1920, 1080, 30, 300
SIZE = 224
RUNS = 3


def write_test_video(path: Path, *, options: dict[str, str] | None = None, bit_rate: int | None = None) -> None:
    """1080p30, 10 s: a smoothed-noise texture panning along a Lissajous path, encoded straight from yuv420p planes.

    libx264 ``options`` (default: ultrafast) and ``bit_rate`` (default: the encoder's) let other benchmarks encode the
    same pictures at a realistic rate.
    """
    import av
    import numpy as np

    rng = np.random.default_rng(1)
    margin = 400
    luma, chroma = texture(rng, HEIGHT + margin, WIDTH + margin, 5), texture(rng, (HEIGHT + margin) // 2,
                                                                             (WIDTH + margin) // 2, 9)
    with av.open(str(path), mode="w") as out:
        video = out.add_stream("libx264", rate=FPS, options=options or {"preset": "ultrafast"})
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        if bit_rate is not None:
            video.bit_rate = bit_rate
        for n in range(NUM_FRAMES):
            x = int(margin / 2 * (1 + np.sin(n / 30)))
            y = int(margin / 2 * (1 + np.cos(n / 41)))
            for packet in video.encode(panned_frame(luma, chroma, x, y, WIDTH, HEIGHT, n)):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)


def count_decoded_frames(path: str | Path, limit: int | None = None) -> int:
    """Decode the video frames (PyAV, threaded) without converting them, up to ``limit``: the decoding floor."""
    import av

    n = 0
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for _ in container.decode(stream):
            n += 1
            if n == limit:
                break
    return n


def _pil_resize(rgb: Any) -> Any:
    """Full-size RGB [H, W, 3] → [224, 224, 3]: box filter over the centred square (resize + centre crop)."""
    import numpy as np
    from PIL import Image

    h, w = rgb.shape[:2]
    side = min(h, w)
    left, top = (w - side) // 2, (h - side) // 2
    image = Image.fromarray(rgb).resize((SIZE, SIZE), Image.Resampling.BOX, box=(left, top, left + side, top + side))
    return np.asarray(image)


def _child(case: str, path: str, out_npy: str, runs: int) -> dict[str, Any]:
    import av
    import numpy as np

    from egosonics.media.video import read_frames

    def ours() -> tuple[float, float | None, Any]:
        seconds, clip = time_call(lambda: read_frames(path, size=SIZE, crop=True))
        return seconds, None, clip.frames

    def full_then_resize() -> tuple[float, float | None, Any]:
        t_decode, full = time_call(lambda: read_frames(path).frames)  # [300, 1080, 1920, 3]
        t_resize, frames = time_call(lambda: np.stack([_pil_resize(f) for f in full]))
        return t_decode + t_resize, t_resize, frames

    def streaming() -> tuple[float, float | None, Any]:
        def decode() -> Any:
            frames = []
            with av.open(path) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for frame in container.decode(stream):
                    frames.append(_pil_resize(frame.to_ndarray(format="rgb24")))
                    if len(frames) == NUM_FRAMES:
                        break
            return np.stack(frames)
        seconds, frames = time_call(decode)
        return seconds, None, frames

    def decode_only() -> tuple[float, float | None, Any]:
        def decode() -> int:
            return count_decoded_frames(path, NUM_FRAMES)
        seconds, _ = time_call(decode)
        return seconds, None, np.zeros((NUM_FRAMES, SIZE, SIZE, 3), np.uint8)

    fn = {"ours": ours, "full": full_then_resize, "stream": streaming, "decode": decode_only}[case]
    rss_before = peak_rss_mb()
    results, frames = [], None
    for _ in range(runs):
        frames = None  # so a run's peak memory does not include the previous run's output
        seconds, resize_s, frames = fn()
        results.append((seconds, resize_s))
    np.save(out_npy, frames)
    return {"seconds": [r[0] for r in results], "resize_seconds": [r[1] for r in results],
            "shape": list(frames.shape), "peak_rss_mb": peak_rss_mb(), "rss_before_mb": rss_before}


def run(workdir: Path) -> dict[str, Any]:
    import numpy as np

    result = new_result(NAME, TITLE)
    path = workdir / "hd.mp4"
    gen_s, _ = time_call(lambda: write_test_video(path))
    result["info"] = {"file_MB": round(path.stat().st_size / 1e6, 1), "source": f"{WIDTH}x{HEIGHT}@{FPS} H.264",
                      "frames": NUM_FRAMES, "generate_s": round(gen_s, 1), "runs": RUNS}

    cases = [("ours", "read_frames(size=224, crop=True)"),
             ("full", "read_frames(size=None) + PIL resize"),
             ("stream", "PyAV full-size RGB + PIL resize, streaming"),
             ("decode", "floor: PyAV decode only, no conversion")]
    children = {}
    for case, _ in cases:
        children[case] = run_child(__file__, [case, str(path), str(workdir / f"{case}.npy"), str(RUNS)])
        assert children[case]["shape"] == [NUM_FRAMES, SIZE, SIZE, 3], children[case]["shape"]
    reference = np.load(workdir / "ours.npy").astype(np.int16)
    t_full = median(children["full"]["seconds"])
    rows = []
    for case, label in cases:
        child = children[case]
        t = median(child["seconds"])
        frames = np.load(workdir / f"{case}.npy").astype(np.int16)
        rows.append({"case": label, "median_s": t, "fps": NUM_FRAMES / t, "speedup_vs_full": t_full / t,
                     "resize_s": median_or_none(child["resize_seconds"]), "peak_rss_MB": child["peak_rss_mb"],
                     "rss_growth_MB": child["peak_rss_mb"] - child["rss_before_mb"],
                     "mean_abs_diff": float(np.abs(frames - reference).mean()) if case != "decode" else None})
    result["rows"] = rows
    ratio = rows[0]["speedup_vs_full"]
    result["targets"].append({"what": "read_frames(size=224) vs full-size decode + resize", "measured": ratio,
                              "threshold": 1.0, "unit": "×", "ok": ratio > 1.0,
                              "detail": f"{rows[0]['fps']:.0f} vs {rows[1]['fps']:.0f} frames/s, peak RSS "
                                        f"{rows[0]['peak_rss_MB']:.0f} vs {rows[1]['peak_rss_MB']:.0f} MB"})
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=4, metavar=("CASE", "PATH", "OUT_NPY", "RUNS"), required=True)
    args = parser.parse_args()
    child_reply(_child(args.child[0], args.child[1], args.child[2], int(args.child[3])))
    sys.exit(0)
