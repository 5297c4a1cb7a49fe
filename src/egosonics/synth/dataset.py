"""``egosonics synth``: write N synthetic clips (MP4 + WAV + timeline JSON each) and a manifest.

For clip ``i`` of seed ``S`` the folder gets ``NAME.mp4`` (H.264 + AAC, for the video side of the pipeline),
``NAME.wav`` (the exact clean audio, 16-bit) and ``NAME.json`` (the ``Timeline``), NAME = ``{mode}-{S}-{i:05d}``
(a pair: ``pair-{S}-{i:05d}-wood`` and ``-metal``). ``manifest.jsonl`` lists the clips, one JSON object per line;
running again into the same folder (another seed, say) adds to it, replacing clips of the same name.
"""

from __future__ import annotations

import json
import logging
import os
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path

from egosonics.errors import EgoSonicsError
from egosonics.media.audio import write_audio
from egosonics.media.video import write_video
from egosonics.synth.scene import SynthScene, render_pair, render_scene
from egosonics.synth.settings import SynthSettings
from egosonics.utils.logging import progress
from egosonics.utils.output import atomic_output, check_writable

log = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"


@dataclass(frozen=True)
class ClipRecord:
    """One manifest line. Paths are relative to the manifest's folder."""

    name: str
    video: str
    audio: str
    timeline: str
    seed: int
    index: int
    mode: str
    pair: str | None
    duration_s: float
    n_events: int
    classes: list[str]
    narration: str


@dataclass
class SynthReport:
    """What a run wrote: the records (in index order), the manifest, and the wall time."""

    records: list[ClipRecord]
    manifest: Path
    seconds: float

    @property
    def clips_per_second(self) -> float:
        return len(self.records) / self.seconds if self.seconds > 0 else float("inf")


def video_options(settings: SynthSettings) -> dict[str, str]:
    """libx264 options: one thread, so that the bytes do not depend on the machine's core count."""
    return {"preset": settings.video_preset, "crf": str(settings.video_crf), "threads": "1"}


def write_scene(scene: SynthScene, out_dir: Path, settings: SynthSettings) -> ClipRecord:
    """Write one rendered clip's MP4, WAV and JSON into ``out_dir``; returns its manifest record."""
    tl = scene.timeline
    paths = {kind: out_dir / f"{tl.name}.{ext}" for kind, ext in (("video", "mp4"), ("audio", "wav"), ("json", "json"))}
    write_video(paths["video"], scene.frames, tl.fps, audio=scene.audio, sample_rate=tl.sample_rate,
                options=scene.video_options or video_options(settings))
    write_audio(paths["audio"], scene.audio, tl.sample_rate)
    tl.save(paths["json"])
    log.debug("wrote %s (.mp4, .wav, .json)", out_dir / tl.name)
    return ClipRecord(name=tl.name, video=paths["video"].name, audio=paths["audio"].name,
                      timeline=paths["json"].name, seed=tl.seed, index=tl.index, mode=tl.mode, pair=tl.pair,
                      duration_s=tl.duration_s, n_events=len(tl.events),
                      classes=sorted({e.cls for e in tl.events}), narration=tl.narration)


def _make_clip(task: tuple[int, int, SynthSettings, str]) -> list[ClipRecord]:
    """Render and write clip ``index`` (two clips in pair mode). Runs in worker processes too."""
    seed, index, settings, out_dir = task
    scenes = render_pair(seed, index=index, settings=settings) if settings.mode == "pair" else (
        render_scene(seed, index=index, settings=settings),)
    return [write_scene(scene, Path(out_dir), settings) for scene in scenes]


def prepare_output(out_dir: str | os.PathLike[str]) -> Path:
    """Create the output folder if needed; a ``EgoSonicsError`` naming it when it cannot be used."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise EgoSonicsError(f"{out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EgoSonicsError(f"{out}: cannot create the output folder ({exc.strerror or exc})") from None
    check_writable(out / MANIFEST)
    return out


def read_manifest(path: str | os.PathLike[str]) -> list[ClipRecord]:
    """The records of a manifest (an empty list when it does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            records.append(ClipRecord(**json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            raise EgoSonicsError(f"{path}:{number}: not a synth manifest line ({exc})") from None
    return records


def synthesize(out_dir: str | os.PathLike[str], *, n: int, seed: int, settings: SynthSettings,
               workers: int = 1, show_progress: bool | None = None) -> SynthReport:
    """Render and write clips 0..n-1 of ``seed`` (n pairs in pair mode) and update the manifest.

    Args:
        out_dir: output folder (created if missing).
        n: number of clips (pairs in pair mode).
        seed: the run's seed; clip i is ``render_scene(seed, index=i, settings=settings)``.
        settings: what the clips contain.
        workers: processes rendering in parallel (the output does not depend on it).
        show_progress: a progress bar on stderr; None shows it for more than 3 clips when stderr is a terminal.

    Returns:
        A ``SynthReport``.
    """
    # 1. Check inputs and the output folder.
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    out = prepare_output(out_dir)
    started = time.perf_counter()

    # 2. Record the run's settings next to its outputs.
    run = {"seed": seed, "n": n, "workers": workers, "settings": settings.to_dict()}
    with atomic_output(out / f"synth-{settings.mode}-{seed}.json") as tmp:
        tmp.write_text(json.dumps(run, indent=1) + "\n")

    # 3. Render and write the clips, in index order whatever the number of workers.
    tasks = [(seed, i, settings, str(out)) for i in range(n)]
    # tqdm's disable: True hides, False shows, None shows only on a terminal.
    disable = (True if n <= 3 else None) if show_progress is None else not show_progress
    records: list[ClipRecord] = []
    if workers == 1:
        for task in progress(tasks, desc="synth", total=n, unit="clip", disable=disable):
            records.extend(_make_clip(task))
    else:
        with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
            for batch in progress(pool.map(_make_clip, tasks), desc="synth", total=n, unit="clip",
                                  disable=disable):
                records.extend(batch)

    # 4. The manifest: earlier clips kept, clips of the same name replaced, sorted by name.
    manifest = out / MANIFEST
    merged = {r.name: r for r in read_manifest(manifest)}
    merged.update({r.name: r for r in records})
    with atomic_output(manifest) as tmp:
        tmp.write_text("".join(json.dumps(asdict(merged[k])) + "\n" for k in sorted(merged)))
    seconds = time.perf_counter() - started
    log.info("wrote %d clips to %s in %.1f s (%.2f clips/s); manifest %s", len(records), out, seconds,
             len(records) / seconds, manifest)
    return SynthReport(records=records, manifest=manifest, seconds=seconds)
