"""``egosonics prepare``: a folder of long videos → 10 s clips in WebDataset shards, with a manifest of every window.

Stages (each resumable: a finished unit leaves a file, and a rerun skips it):

1. List the source files (sorted relative paths) and cut the list into shards of ``videos_per_shard`` videos. The
   assignment depends only on the sorted list, so it is the same for any number of workers, ranks or restarts.
2. Scan (audio only): per video, its duration, seeded random non-overlapping windows and each window's RMS.
   Writes ``scan/shard-K.jsonl``.
3. Threshold: a fixed dBFS value, or a percentile over every scanned window (after all ranks finish stage 2).
4. Extract: per kept window, E_V from the frame encoder (fp16 [300, 512]) and the normalised spectrogram
   (float32 [1024, 430], exactly the values the model input is computed from), written to ``shards/shard-K.tar``.
   With ``motion-onset`` the E_V's onset track is the window's own onsets (``spectrogram.onsets``), what a
   generator learns to follow (the encoder's head predicts it for silent video, in ``generate``);
   then ``parts/shard-K.jsonl`` with every window's row, the marker that shard K is done.
5. Merge (main rank): ``manifest.jsonl`` (every window and every unreadable file, with its reason) and
   ``summary.json``.

Ranks (``accelerate launch`` / ``torchrun``) take shards K ≡ rank (mod world size); worker processes split a rank's
shards further. A file that cannot be read is a manifest row with its reason; the run goes on.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import logging
import os
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP, ClipSpec
from egosonics.errors import EgoSonicsError
from egosonics.media.audio import read_audio, rms_dbfs
from egosonics.media.video import read_frames, video_duration_s
from egosonics.preprocess.metadata import VideoMeta, load_metadata
from egosonics.preprocess.segment import choose_windows, percentile_threshold, rms_decision
from egosonics.preprocess.shards import PREPARE_CONFIG, encode_sample, write_shard
from egosonics.spectrogram.params import DEFAULT_PARAMS
from egosonics.spectrogram.transform import waveform_to_unit
from egosonics.utils.logging import progress
from egosonics.utils.output import atomic_output

log = logging.getLogger(__name__)


@dataclass
class PrepareConfig:
    """Everything that determines the output (recorded in ``OUT/config.json``)."""

    src: str
    out: str
    seed: int = 0
    max_windows_per_video: int | None = None
    rms_threshold_dbfs: float | None = None
    rms_percentile: float | None = None
    encoder: str = "pixels"
    clip_dir: str | None = None
    videos_per_shard: int = 16
    metadata: str | None = None
    narrations: str | None = None
    scenarios: list[str] | None = None
    exclude: list[str] = field(default_factory=lambda: ["*.json", "*.jsonl"])
    clip: dict[str, Any] = field(default_factory=lambda: asdict(DEFAULT_CLIP))

    def __post_init__(self) -> None:
        if self.rms_threshold_dbfs is not None and self.rms_percentile is not None:
            raise ValueError("give an RMS threshold in dBFS or as a percentile, not both")
        if self.videos_per_shard < 1:
            raise ValueError(f"videos_per_shard must be >= 1, got {self.videos_per_shard}")


def _key(relative: str, start_s: float) -> str:
    """A WebDataset key: readable stem + a hash of the relative path + the start in ms (no dots or slashes)."""
    stem = Path(relative).stem.replace(".", "_").replace(" ", "_")[:40]
    digest = hashlib.sha1(relative.encode()).hexdigest()[:8]
    return f"{stem}-{digest}-{round(start_s * 1000):09d}"


def list_sources(src: Path, exclude: list[str] = ()) -> list[str]:
    """Every regular, non-hidden file under ``src`` whose name matches none of ``exclude`` (sidecar metadata), as
    sorted relative paths."""
    if not src.is_dir():
        raise EgoSonicsError(f"{src}: source folder not found")
    files = [p for p in src.rglob("*") if p.is_file() and not any(part.startswith(".") for part in
                                                                   p.relative_to(src).parts)
             and not any(fnmatch.fnmatch(p.name, pattern) for pattern in exclude)]
    return sorted(str(p.relative_to(src)) for p in files)


def sidecar_meta(video: Path) -> VideoMeta | None:
    """A narration from ``<video stem>.json`` beside the video (as ``egosonics synth`` writes), if there is one.

    The narration covers the whole file, so it is attached to every window of it.
    """
    sidecar = video.with_suffix(".json")
    if not sidecar.is_file():
        return None
    try:
        data = json.loads(sidecar.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    text = data.get("narration") if isinstance(data, dict) else None
    return VideoMeta(narrations=[(float("-inf"), text)]) if isinstance(text, str) and text else None


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    with atomic_output(path) as tmp:
        tmp.write_text("".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


# ----------------------------------------------------------------------------------------------- stage 2: scan
def _scan_video(src: Path, relative: str, config: PrepareConfig, meta: VideoMeta | None) -> list[dict[str, Any]]:
    """Rows for one video: one per window with its RMS, or one rejection row for the whole file."""
    clip = ClipSpec(**config.clip)
    base: dict[str, Any] = {"video": relative}
    if config.scenarios is not None and meta is not None and not meta.matches(set(config.scenarios)):
        return [{**base, "status": "rejected", "reason": "scenario not selected"}]
    path = src / relative
    try:
        duration = video_duration_s(path)
        audio = read_audio(path, sample_rate=clip.sample_rate, duration_s=duration)
    except EgoSonicsError as exc:
        return [{**base, "status": "rejected", "reason": str(exc).removeprefix(f"{path}: ")}]
    starts = choose_windows(duration, window_s=clip.duration_s, seed=config.seed, key=relative,
                            max_windows=config.max_windows_per_video)
    if not starts:
        return [{**base, "status": "rejected", "reason": f"shorter than one window ({duration:.2f} s)"}]
    rows = []
    for start in starts:
        begin = round(start * clip.sample_rate)
        level = rms_dbfs(audio[begin:begin + clip.num_samples])
        rows.append({**base, "start_s": start, "rms_dbfs": round(level, 3), "status": "scanned"})
    return rows


def _scan_shard(args: tuple[int, list[str], PrepareConfig, dict[str, VideoMeta]]) -> int:
    index, videos, config, metadata = args
    path = Path(config.out) / "scan" / f"shard-{index:06d}.jsonl"
    if path.exists():
        return 0
    rows = []
    for relative in videos:
        rows.extend(_scan_video(Path(config.src), relative, config, metadata.get(Path(relative).stem)))
    _write_jsonl(path, rows)
    return len(videos)


# ----------------------------------------------------------------------------------------------- stage 4: extract
_ENCODER_CACHE: dict[str, Any] = {}


def _frame_encoder(config: PrepareConfig):
    """The frame encoder, built once per process."""
    if config.encoder not in _ENCODER_CACHE:
        from egosonics.models.frame_encoder import build_frame_encoder

        _ENCODER_CACHE[config.encoder] = build_frame_encoder(config.encoder, config.clip_dir)
    return _ENCODER_CACHE[config.encoder]


def _extract_shard(args: tuple[int, list[dict[str, Any]], PrepareConfig, float | None,
                   dict[str, VideoMeta]]) -> tuple[int, int]:
    """Write shard ``index`` and its manifest part; returns (windows kept, windows considered)."""
    from egosonics.models.frame_encoder import MotionOnsetEncoder, frame_input_size
    from egosonics.spectrogram.onsets import spectrogram_onsets

    index, scanned, config, threshold, metadata = args
    out = Path(config.out)
    part = out / "parts" / f"shard-{index:06d}.jsonl"
    if part.exists():
        return 0, 0
    clip = ClipSpec(**config.clip)
    encoder = _frame_encoder(config)
    size = frame_input_size(encoder)
    shard_name = f"shard-{index:06d}.tar"
    samples, rows = [], []
    for row in scanned:
        if row["status"] != "scanned":
            rows.append(row)
            continue
        decision = rms_decision(row["rms_dbfs"], threshold)
        row = {**row, "duration_s": clip.duration_s}
        if not decision.keep:
            rows.append({**row, "status": "rejected", "reason": decision.reason})
            continue
        path = Path(config.src) / row["video"]
        try:
            frames = read_frames(path, start_s=row["start_s"], duration_s=clip.duration_s, fps=clip.fps, size=size,
                                 crop=True)
            audio = read_audio(path, sample_rate=clip.sample_rate, start_s=row["start_s"],
                               duration_s=clip.duration_s)
        except EgoSonicsError as exc:
            rows.append({**row, "status": "rejected", "reason": str(exc).removeprefix(f"{path}: ")})
            continue
        with torch.no_grad():
            spec = waveform_to_unit(torch.from_numpy(audio), DEFAULT_PARAMS)  # [1024, 430]
            if isinstance(encoder, MotionOnsetEncoder):  # the track of the target's own onsets, not the head's
                onsets = np.round(spectrogram_onsets(spec.numpy(), DEFAULT_PARAMS) * clip.fps)
                ev = torch.from_numpy(encoder.with_onset_track(encoder.motion.encode_video(frames.frames), onsets))
            else:
                ev = encoder(torch.from_numpy(frames.frames)[None])[0]  # [300, 512]
        meta = metadata.get(Path(row["video"]).stem) or sidecar_meta(path)
        key = _key(row["video"], row["start_s"])
        info = {"source": row["video"], "start_s": row["start_s"], "rms_dbfs": row["rms_dbfs"],
                "category": ", ".join(meta.scenarios) if meta else "",
                "narration": meta.narration_between(row["start_s"], row["start_s"] + clip.duration_s) if meta else "",
                "valid_frames": frames.num_valid, "encoder": config.encoder, "clip": config.clip,
                "spectrogram": DEFAULT_PARAMS.to_dict()}
        samples.append((key, encode_sample({"spec": spec.numpy().astype(np.float32),
                                            "ev": ev.numpy().astype(np.float16)}, info)))
        rows.append({**row, "status": "kept", "reason": decision.reason, "shard": shard_name, "key": key,
                     "narration": info["narration"], "category": info["category"]})
    if samples:
        write_shard(out / "shards" / shard_name, samples)
    _write_jsonl(part, rows)  # written last: the marker that this shard is complete
    return len(samples), sum(1 for r in rows if "start_s" in r)


# ----------------------------------------------------------------------------------------------- driver
def _distributed() -> tuple[int, int, Any]:
    """(rank, world size, state) from the launcher's environment (accelerate launch, torchrun), else (0, 1, None)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return 0, 1, None
    from accelerate import PartialState

    # Without a GPU (or with ACCELERATE_USE_CPU), ranks talk over gloo; PartialState needs to be told.
    cpu = os.environ.get("ACCELERATE_USE_CPU", "").lower() in ("1", "true", "yes") or not torch.cuda.is_available()
    state = PartialState(cpu=cpu)
    return state.process_index, state.num_processes, state


def prepare(config: PrepareConfig, *, workers: int = 1) -> dict[str, Any]:
    """Run every stage; returns the summary (also written to ``OUT/summary.json`` by the main rank)."""
    started = time.perf_counter()
    rank, world, state = _distributed()
    src, out = Path(config.src), Path(config.out)
    # 1. Sources, shards, and the run's configuration (a rerun must use the same one).
    videos = list_sources(src, config.exclude)
    for folder in ("scan", "parts", "shards"):
        (out / folder).mkdir(parents=True, exist_ok=True)
    config_path = out / PREPARE_CONFIG
    # The settings that determine the output (not where it is written, so a moved folder still resumes).
    config_json = json.dumps({k: v for k, v in asdict(config).items() if k != "out"}, sort_keys=True, indent=1)
    if config_path.exists() and config_path.read_text() != config_json:
        raise EgoSonicsError(f"{config_path}: {out} was prepared with other settings; use a new output folder")
    if rank == 0 and not config_path.exists():
        with atomic_output(config_path) as tmp:
            tmp.write_text(config_json)
    metadata = load_metadata(config.metadata, config.narrations)
    vps = config.videos_per_shard
    shards = [videos[i:i + vps] for i in range(0, len(videos), vps)]
    mine = [k for k in range(len(shards)) if k % world == rank]
    log.info("rank %d/%d: %d of %d shards (%d files in %s)", rank, world, len(mine), len(shards), len(videos), src)
    pool = ProcessPoolExecutor(workers) if workers > 1 else None
    run = pool.map if pool is not None else map
    try:
        # 2. Scan audio RMS.
        jobs = [(k, shards[k], config, metadata) for k in mine]
        for _ in progress(run(_scan_shard, jobs), desc="scan", total=len(jobs), unit="shard",
                          disable=None if rank == 0 else True):
            pass
        if state is not None:
            state.wait_for_everyone()
        # 3. Threshold.
        scanned = {k: _read_jsonl(out / "scan" / f"shard-{k:06d}.jsonl") for k in range(len(shards))}
        threshold = config.rms_threshold_dbfs
        if config.rms_percentile is not None:
            levels = [r["rms_dbfs"] for rows in scanned.values() for r in rows if r["status"] == "scanned"]
            threshold = percentile_threshold(levels, config.rms_percentile)
        # 4. Extract.
        jobs = [(k, scanned[k], config, threshold, metadata) for k in mine]
        bar = progress(run(_extract_shard, jobs), desc="extract", total=len(jobs), unit="shard",
                       disable=None if rank == 0 else True)
        kept_here = 0
        for kept, _considered in bar:
            kept_here += kept
            if hasattr(bar, "set_postfix"):
                bar.set_postfix(clips_per_s=f"{kept_here / max(time.perf_counter() - started, 1e-9):.2f}")
    finally:
        if pool is not None:
            pool.shutdown()
    if state is not None:
        state.wait_for_everyone()
    # 5. Merge (main rank).
    summary = merge(out, len(shards), threshold)
    summary["seconds"] = round(time.perf_counter() - started, 2)
    summary["ranks"] = world
    return summary


def merge(out: Path, num_shards: int, threshold: float | None) -> dict[str, Any]:
    """Concatenate the manifest parts in shard order; write ``manifest.jsonl`` and ``summary.json``."""
    rows: list[dict[str, Any]] = []
    for k in range(num_shards):
        part = out / "parts" / f"shard-{k:06d}.jsonl"
        if not part.exists():
            raise EgoSonicsError(f"{part}: missing; shard {k} did not finish (rerun to complete it)")
        rows.extend(_read_jsonl(part))
    reasons = Counter(r["reason"].split(" (")[0] for r in rows if r["status"] == "rejected")
    kept = [r for r in rows if r["status"] == "kept"]
    summary = {
        "files": len({r["video"] for r in rows}),
        "windows": sum(1 for r in rows if "start_s" in r),
        "kept": len(kept),
        "rejected": sum(reasons.values()),
        "rejected_by_reason": dict(sorted(reasons.items())),
        "hours_kept": round(len(kept) * (kept[0]["duration_s"] if kept else 0) / 3600, 4),
        "rms_threshold_dbfs": threshold,
        "shards": sorted({r["shard"] for r in kept}),
    }
    if int(os.environ.get("RANK", "0")) == 0:
        _write_jsonl(out / "manifest.jsonl", rows)
        with atomic_output(out / "summary.json") as tmp:
            tmp.write_text(json.dumps(summary, indent=1, sort_keys=True))
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """The summary as a small table for the terminal."""
    lines = [f"{'files':<28}{summary['files']:>8}", f"{'windows considered':<28}{summary['windows']:>8}",
             f"{'kept':<28}{summary['kept']:>8}", f"{'rejected':<28}{summary['rejected']:>8}"]
    lines += [f"  {reason[:40]:<40}{count:>6}" for reason, count in summary["rejected_by_reason"].items()]
    if summary.get("rms_threshold_dbfs") is not None:
        lines.append(f"{'RMS threshold (dBFS)':<28}{summary['rms_threshold_dbfs']:>8.1f}")
    lines.append(f"{'shards':<28}{len(summary['shards']):>8}")
    if "seconds" in summary:
        rate = summary["kept"] / max(summary["seconds"], 1e-9)
        lines.append(f"{'time (s)':<28}{summary['seconds']:>8.1f}   ({rate:.2f} clips/s)")
    return "\n".join(lines)
