"""On the real clips of ../shared/data/real_clips: does ground truth score better than the same audio shifted by 2 s
(circularly, so the sound's content and loudness are unchanged) and than another clip's audio (the next clip in name
order, tiled or cut to length)? For AV-Align (higher is better), onset F1 against the ground truth (higher is better)
and the cross-correlation offset (|offset| lower is better). Skipped when the clips are absent.

What we measured (25 clips; the table prints with ``pytest -s`` and is written to the test's output folder):

- onset F1: ground truth wins against both negatives on 22 of 25 clips. It loses where onset detection at delta 0.3
  finds almost nothing but the onset librosa reports at t ≈ 0 for every signal (zero padding), so that any audio
  matches: car_engine_revving and waterfall_stream (the shifted copy ties at 1.0), ego4d_painting_mural (the other
  clip's audio ties at 1.0).
- AV-Align: ground truth wins on only 8 of 25 clips (11 against the shift, 11 against the other clip). Real footage
  has 2–5 flow peaks per second (head and hand motion), so ±1 frame matches happen by chance as often as by sync; on
  average ground truth (0.175) beats the other clip's audio (0.148) but not the 2 s shift (0.177). Same at 224 px.
- offset: ground truth wins on 10 of 25 clips; its own estimate is often far from 0 (median |offset| 0.8 s), since
  motion onsets (frame differences) and sound onsets are only loosely related in real video. On average it is ordered
  as it should be: mean |offset| 0.80 s for ground truth, 0.98 s for the other clip, 1.24 s for the 2 s shift.

So the per-clip majority is asserted for onset F1, and recorded as a known failure (strict xfail: it alerts when it
starts passing) for AV-Align and the offset, whose dataset-level ordering is asserted instead.
"""

from __future__ import annotations

import functools
import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pytest

from egosonics.evaluation.sync.av_align import av_align, onset_envelope
from egosonics.evaluation.sync.clip import load_sync_clip
from egosonics.evaluation.sync.motion import farneback_trajectory, frame_difference
from egosonics.evaluation.sync.onset import detect_onsets, onset_f1
from egosonics.evaluation.sync.xcorr_offset import estimate_offset

pytest.importorskip("librosa")

# Frames are decoded with the short side at 112 px to keep the test fast (decoding 720p/1080p and Farneback flow
# dominate); at 224 px, our evaluation default, the table's aggregates were the same to ±0.01.
SHORT_SIDE = 112
SHIFT_S = 2.0
MAJORITY = 0.8
VARIANTS = ("truth", "shifted", "other")


@dataclass
class Scores:
    av_align: float
    audio_peaks: int
    video_peaks: int
    onset_f1: float
    offset_s: float


@dataclass
class ClipResult:
    name: str
    fps: float
    duration_s: float
    scores: dict[str, Scores]

    def better(self, metric: str, negative: str) -> bool:
        """Ground truth strictly better than ``negative`` on ``metric``."""
        truth, other = self.scores["truth"], self.scores[negative]
        if metric == "offset":
            return abs(truth.offset_s) < abs(other.offset_s)
        value = {"av_align": lambda s: s.av_align, "onset_f1": lambda s: s.onset_f1}[metric]
        return value(truth) > value(other)

    def wins(self, metric: str) -> bool:
        return self.better(metric, "shifted") and self.better(metric, "other")


def _load(path: Path) -> tuple[str, float, np.ndarray, np.ndarray, np.ndarray]:
    clip = load_sync_clip(path, short_side=SHORT_SIDE)
    return path.stem, clip.fps, clip.audio, farneback_trajectory(clip.frames), frame_difference(clip.frames)


@functools.cache
def measure(paths: tuple[Path, ...]) -> list[ClipResult]:
    """Every clip's scores for its own audio, the shifted copy and the next clip's audio."""
    with ThreadPoolExecutor(2) as pool:  # PyAV decoding and OpenCV flow release the GIL
        loaded = list(pool.map(_load, paths))
    results = []
    for i, (name, fps, audio, trajectory, motion) in enumerate(loaded):
        sr = 22_050
        audios = {"truth": audio, "shifted": np.roll(audio, round(SHIFT_S * sr)),
                  "other": np.resize(loaded[(i + 1) % len(loaded)][2], len(audio)).astype(np.float32)}
        scores: dict[str, Scores] = {}
        onsets = {}
        for variant, y in audios.items():
            envelope = onset_envelope(y, sr)  # shared by AV-Align's peaks and the onset detection
            onsets[variant] = detect_onsets(None, envelope=envelope) / sr
            av = av_align(None, sr, fps, trajectory=trajectory, envelope=envelope)
            f1 = onset_f1(onsets["truth"], onsets[variant]).f1
            offset = estimate_offset(y, sr, fps, motion=motion).offset_s
            scores[variant] = Scores(av.iou, av.num_audio_peaks, av.num_video_peaks, f1, offset)
        results.append(ClipResult(name, fps, len(audio) / sr, scores))
    print("\n" + table(results))  # once per session (cached); visible with pytest -s
    return results


def table(results: list[ClipResult]) -> str:
    """Markdown table: per clip, truth / shifted / other for each metric, and whether truth won against both."""
    lines = ["| clip | fps | s | AV-Align t/s/o | #A #V | win | onset F1 t/s/o | win | offset s t/s/o | win |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        t, s, o = (r.scores[v] for v in VARIANTS)
        mark = {True: "yes", False: "**no**"}
        lines.append(f"| {r.name} | {r.fps:.2f} | {r.duration_s:.1f} | {t.av_align:.2f} / {s.av_align:.2f} / "
                     f"{o.av_align:.2f} | {t.audio_peaks} {t.video_peaks} | {mark[r.wins('av_align')]} | "
                     f"{t.onset_f1:.2f} / {s.onset_f1:.2f} / {o.onset_f1:.2f} | {mark[r.wins('onset_f1')]} | "
                     f"{t.offset_s:+.2f} / {s.offset_s:+.2f} / {o.offset_s:+.2f} | {mark[r.wins('offset')]} |")
    n = len(results)
    totals = {m: sum(r.wins(m) for r in results) for m in ("av_align", "onset_f1", "offset")}
    lines.append(f"| **ground truth wins** | | | | | {totals['av_align']}/{n} | | {totals['onset_f1']}/{n} | | "
                 f"{totals['offset']}/{n} |")
    means = {v: (np.nanmean([r.scores[v].av_align for r in results]),
                 np.mean([r.scores[v].onset_f1 for r in results]),
                 np.nanmean([abs(r.scores[v].offset_s) for r in results])) for v in VARIANTS}
    lines.append("| **mean (t/s/o)** | | | " + " / ".join(f"{means[v][0]:.3f}" for v in VARIANTS) + " | | | "
                 + " / ".join(f"{means[v][1]:.2f}" for v in VARIANTS) + " | | abs: "
                 + " / ".join(f"{means[v][2]:.2f}" for v in VARIANTS) + " | |")
    return "\n".join(lines)


@pytest.fixture
def results(real_clips: list[Path], out_dir: Path) -> list[ClipResult]:
    measured = measure(tuple(real_clips))
    text = table(measured)
    (out_dir / "real_clips_sync_table.md").write_text(text + "\n")
    (out_dir / "real_clips_sync.json").write_text(json.dumps([asdict(r) for r in measured], indent=1))
    return measured


@pytest.mark.real_clips
@pytest.mark.parametrize("metric", [
    "onset_f1",
    pytest.param("av_align", marks=pytest.mark.xfail(
        strict=True, reason="measured: ground truth beats both negatives on 8/25 clips; dense flow peaks match by "
                            "chance (module docstring)")),
    pytest.param("offset", marks=pytest.mark.xfail(
        strict=True, reason="measured: ground truth beats both negatives on 10/25 clips; the estimate is unreliable "
                            "per clip (module docstring)")),
])
def test_ground_truth_wins_on_most_clips(results: list[ClipResult], metric: str) -> None:
    wins = [r.name for r in results if r.wins(metric)]
    losses = [r.name for r in results if not r.wins(metric)]
    assert len(wins) >= MAJORITY * len(results), f"{metric}: ground truth lost on {losses}"


@pytest.mark.real_clips
def test_ground_truth_wins_on_average(results: list[ClipResult]) -> None:
    def mean(variant: str, metric: str) -> float:
        values = [getattr(r.scores[variant], metric) for r in results]
        return float(np.nanmean(np.abs(values) if metric == "offset_s" else values))

    assert mean("truth", "onset_f1") > mean("shifted", "onset_f1") and mean("truth", "onset_f1") > mean("other",
                                                                                                        "onset_f1")
    assert mean("truth", "offset_s") < mean("shifted", "offset_s")
    assert mean("truth", "offset_s") < mean("other", "offset_s")
    assert mean("truth", "av_align") > mean("other", "av_align")  # but not > shifted: see the module docstring
    assert all(math.isfinite(r.scores["truth"].av_align) for r in results)
