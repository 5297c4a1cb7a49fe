"""Full ``egosonics prepare`` (scan → threshold → extract → merge) in clips per second, per frame encoder.

Input (generated here, a few seconds): 4 × 30 s 640 × 360 30 fps H.264 files with 48 kHz stereo AAC (``testmedia``;
quiet stretches, so the -60 dBFS threshold rejects some windows), one video per shard.

Measured, each case in a fresh child process (both cores, torch's default threads):
  * encoder ``pixels`` (weight-free 16 × 16 thumbnails), ``workers=1``, and ``workers=2`` (a process per core);
  * encoder ``clip-vit-b32`` with a full-size CLIP ViT-B/32 vision model (random weights; written here with
    ``CLIPVisionModelWithProjection(config).save_pretrained`` and passed as ``clip_dir``), ``workers=1``, on the
    first 2 videos and at most one window each (every clip costs 300 ViT-B/32 forward passes).
clips/s = kept clips / the wall time of ``prepare`` (as its summary prints it), which includes loading the encoder.
For ``workers=1`` the extract stage is timed per part from outside (``stages.StageTimer``): frame decoding at the
encoder's size, audio decoding, the frame encoder, the spectrogram, writing the shard.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from common import child_reply, new_result, peak_rss_mb, run_child, time_call
from stages import StageTimer
from testmedia import write_av_file

NAME = "prepare_clips"
TITLE = "egosonics prepare end to end: clips/s with the pixels and a CLIP ViT-B/32-sized encoder"

FILES = 4
DURATION_S = 30.0
WIDTH, HEIGHT = 640, 360
THRESHOLD_DBFS = -60.0
CLIP_VISION = {"hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12, "num_attention_heads": 12,
               "image_size": 224, "patch_size": 32, "projection_dim": 512}
PARTS = ("scan", "extract", "extract/read_frames", "extract/read_audio", "extract/encoder", "extract/spectrogram",
         "extract/write_shard")


def write_clip_folder(folder: Path) -> None:
    """A full-size CLIP ViT-B/32 vision tower with random weights, in transformers format (about 350 MB)."""
    import torch
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # save_pretrained's "Writing model shards" bar
    torch.manual_seed(0)
    CLIPVisionModelWithProjection(CLIPVisionConfig(**CLIP_VISION)).save_pretrained(folder)


def _child(encoder: str, src: str, out: str, workers: int, clip_dir: str, max_windows: int) -> dict[str, Any]:
    import torch

    import egosonics.preprocess.prepare as prep
    from egosonics.preprocess.prepare import PrepareConfig, prepare

    config = PrepareConfig(src=src, out=out, rms_threshold_dbfs=THRESHOLD_DBFS, encoder=encoder,
                           clip_dir=clip_dir or None, videos_per_shard=1,
                           max_windows_per_video=max_windows if max_windows > 0 else None)
    timer = StageTimer()
    with timer:
        if workers == 1:  # the stages run in this process and can be timed
            timer.wrap(prep, "_scan_shard", "scan")
            timer.wrap(prep, "_extract_shard", "extract")
            timer.wrap(prep, "read_frames", "read_frames")
            timer.wrap(prep, "read_audio", "read_audio")
            timer.wrap(prep, "waveform_to_unit", "spectrogram")
            timer.wrap(prep, "write_shard", "write_shard")
            original = prep._frame_encoder

            def frame_encoder(config: Any) -> Any:
                model = original(config)
                if "forward" not in model.__dict__:
                    timer.wrap(model, "forward", "encoder")
                return model

            prep._frame_encoder = frame_encoder
        try:
            wall, summary = time_call(lambda: prepare(config, workers=workers))
        finally:
            if workers == 1:
                prep._frame_encoder = original
    return {"wall_s": wall, "summary": summary, "parts": {name: timer.total(name) for name in PARTS},
            "threads": torch.get_num_threads(), "peak_rss_mb": peak_rss_mb()}


def run(workdir: Path) -> dict[str, Any]:
    result = new_result(NAME, TITLE)
    src, src_clip = workdir / "src", workdir / "src-clip"
    src.mkdir()
    src_clip.mkdir()
    gen_s, _ = time_call(lambda: [write_av_file(src / f"kitchen{i}.mp4", DURATION_S, width=WIDTH, height=HEIGHT,
                                                seed=20 + i, quiet_every_s=50.0) for i in range(FILES)])
    for i in range(2):
        (src_clip / f"kitchen{i}.mp4").symlink_to(src / f"kitchen{i}.mp4")
    clip_dir = workdir / "clip-vit-b32"
    clip_write_s, _ = time_call(lambda: write_clip_folder(clip_dir))
    result["info"] = {"source": f"{FILES} × {DURATION_S:g} s {WIDTH}x{HEIGHT}@30 H.264 + AAC 48 kHz stereo",
                      "threshold_dBFS": THRESHOLD_DBFS, "generate_s": round(gen_s, 1),
                      "clip_folder_MB": round(sum(p.stat().st_size for p in clip_dir.iterdir()) / 1e6),
                      "clip_folder_write_s": round(clip_write_s, 1)}
    cases = [("pixels", src, 1, 0), ("pixels", src, 2, 0), ("clip-vit-b32", src_clip, 1, 1)]
    rows = []
    for encoder, folder, workers, max_windows in cases:
        out = workdir / f"out-{encoder}-{workers}"
        child = run_child(__file__, [encoder, str(folder), str(out), str(workers), str(clip_dir), str(max_windows)])
        summary = child["summary"]
        kept = summary["kept"]
        row = {"encoder": encoder, "workers": workers, "threads": child["threads"], "files": summary["files"],
               "windows": summary["windows"], "kept": kept, "prepare_s": summary["seconds"],
               "clips_per_s": kept / summary["seconds"], "s_per_clip": summary["seconds"] / max(kept, 1)}
        if workers == 1:
            parts = child["parts"]
            row.update({"scan_s": parts["scan"], "extract_s": parts["extract"],
                        "frames_s": parts["extract/read_frames"], "audio_s": parts["extract/read_audio"],
                        "encoder_s": parts["extract/encoder"], "spec_s": parts["extract/spectrogram"],
                        "write_s": parts["extract/write_shard"]})
        row["peak_rss_MB"] = child["peak_rss_mb"]
        rows.append(row)
    result["rows"] = rows
    clip_row = rows[2]
    result["notes"].append(f"with CLIP ViT-B/32 the frame encoder is {clip_row['encoder_s'] / clip_row['kept']:.1f} s "
                           f"of the {clip_row['s_per_clip']:.1f} s per clip (300 frames, batches of 64); "
                           "prepare_s includes loading the encoder once")
    result["notes"].append("the *_s part columns are totals over the run (workers=1 only); no issue target is "
                           "recorded for clips/s")
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", nargs=6, metavar=("ENCODER", "SRC", "OUT", "WORKERS", "CLIP_DIR", "MAX_WINDOWS"),
                        required=True)
    args = parser.parse_args()
    child_reply(_child(args.child[0], args.child[1], args.child[2], int(args.child[3]), args.child[4],
                       int(args.child[5])))
    sys.exit(0)
