"""``egosonics evaluate``: generated audio against ground truth, beside baselines and reference rows.

Stages:
1. Pair files by name (``NAME.mp4``/``NAME.wav`` in each folder; a ``.egosonics`` suffix is ignored).
2. Per clip, decode the ground-truth video once (frames at its own fps, short side ``short_side``) and its audio;
   optical flow and frame differences are computed once and shared by every system.
3. Per system, ground truth is resampled and cut to the system's protocol (length and rate: ours 10 s at 22,050 Hz,
   Diff-Foley 8 s at 16 kHz, Im2Wav 5 s, Make-An-Audio 10 s at 16 kHz; EVALUATION.md §7.5) and every weight-free
   metric runs (``suite.WeightFreeSuite``).
4. Reference rows, always: ground truth against itself and the Griffin-Lim vocoder ceiling; on request silence,
   white noise, another clip's audio, ground truth shifted by 0.5 s, and a click at every sudden stop of motion
   (``sync.click_track``, non-learned).
   Every system is also scored by the pooled onset F1, best lag and paired bootstrap against the other-clip row
   (``sync.pooled``; report key ``pooled_sync``, with a per-clip table).
5. With ``events`` (timeline JSON per clip, as ``egosonics synth`` writes), onsets are also scored against the true
   event times.
   With local weight files (``WeightBasedConfig``), the weight-based metrics run too: the Alignment Score at 30, 15
   and 4 fps (E_A of each system's audio, E_V of the ground-truth video; audio shorter than 10 s is zero-padded),
   FID of spectrogram images, SpecVQGAN's Melception FID/KID/KL/ISc. Missing files fail before any clip is decoded.
6. Write ``report.json``, ``report.md`` and ``report.html`` (comparison table, per-clip rows, spectrogram pairs, onset
   and offset-over-time plots).
"""

from __future__ import annotations

import html
import json
import logging
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.errors import EgoSonicsError
from egosonics.evaluation.suite import SuiteConfig, WeightFreeSuite, _jsonable
from egosonics.evaluation.sync.motion import farneback_trajectory, frame_difference
from egosonics.evaluation.sync.onset import condfoley_scores, detect_onsets, onset_f1
from egosonics.evaluation.sync.pooled import PooledConfig, PooledSync
from egosonics.evaluation.sync.pooled import markdown as pooled_markdown
from egosonics.media.files import atomic_output

log = logging.getLogger(__name__)

MEDIA_EXTENSIONS = {".mp4", ".mov", ".mkv", ".webm", ".m4v", ".avi", ".wav", ".flac", ".mp3", ".ogg", ".m4a"}


@dataclass(frozen=True)
class Protocol:
    """How long, and at which rate, a system's audio is compared."""

    duration_s: float
    sample_rate: int


PROTOCOLS = {
    "ours": Protocol(DEFAULT_CLIP.duration_s, DEFAULT_CLIP.sample_rate),
    "diff-foley": Protocol(8.0, 16_000),
    "im2wav": Protocol(5.0, 16_000),
    "make-an-audio": Protocol(10.0, 16_000),
}

REFERENCE_ROWS = ("ground-truth", "vocoder-ceiling", "silence", "noise", "other-clip", "shifted-0.5s", "click-stops")


@dataclass(frozen=True)
class WeightBasedConfig:
    """The weight-based metrics: local files switch them on (None leaves a metric off). Nothing is downloaded.

    Attributes:
        alignment_model: a trained alignment classifier folder (``egosonics train alignment``'s ``model/``).
        inception: pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` (spectrogram FID).
        melception, melception_stats: SpecVQGAN's Melception checkpoint and its training mel statistics.
        clip_dir: the local CLIP folder for E_V, when the classifier used CLIP and its recorded folder moved.
        fid_methods: Fréchet square-root variants of both FIDs, the first reported as ``fid`` (sqrtm as pytorch-fid).
    """

    alignment_model: str | None = None
    inception: str | None = None
    melception: str | None = None
    melception_stats: str | None = None
    clip_dir: str | None = None
    fid_methods: tuple[str, ...] = ("sqrtm", "eigh")


class _WeightedMetrics:
    """The weight-based metrics of every system, sharing one network each; built before any clip is decoded."""

    def __init__(self, config: WeightBasedConfig, names: list[str]) -> None:
        from egosonics.evaluation.alignment_score import AlignmentScore, frame_encoder_for
        from egosonics.evaluation.weight_based import MelceptionMetrics, SpectrogramFID

        self.align: dict[str, AlignmentScore] = {}
        self.fid: dict[str, SpectrogramFID] = {}
        self.melception: dict[str, MelceptionMetrics] = {}
        self.encoder = None
        if (config.melception is None) != (config.melception_stats is None):
            raise EgoSonicsError("the Melception metrics need both the weights (melception-21-05-10T09-28-40.pt) and "
                                 "the statistics file (train_means_stds_melspec_10s_22050hz.txt)")
        if config.alignment_model:
            first = AlignmentScore.load(config.alignment_model)
            self.encoder = frame_encoder_for(first.model, config.clip_dir)
            self.align = {name: AlignmentScore(first.model, heldout=first.heldout) for name in names}
        if config.inception:
            first_fid = SpectrogramFID.from_file(config.inception)
            self.fid = {name: SpectrogramFID(first_fid.network, weights_sha256=first_fid.weights_sha256,
                                             methods=config.fid_methods) for name in names}
        if config.melception:
            first_mel = MelceptionMetrics.from_files(config.melception, config.melception_stats)
            stats = np.concatenate([first_mel.means.numpy(), first_mel.stds.numpy()], axis=1)
            self.melception = {name: MelceptionMetrics(first_mel.network, stats,
                                                       weights_sha256=first_mel.weights_sha256,
                                                       stats_sha256=first_mel.stats_sha256,
                                                       methods=config.fid_methods) for name in names}
        self._cache: dict[tuple[str, int], Any] = {}

    def clip(self, path: Path) -> torch.Tensor | None:
        """Start a clip: E_V of its ground-truth video for the Alignment Score (None when off or unreadable); the
        ground-truth embeddings cached for the previous clip are dropped."""
        from egosonics.evaluation.alignment_score import video_embedding

        self._cache.clear()
        if self.encoder is None:
            return None
        try:
            return video_embedding(path, self.encoder)
        except EgoSonicsError as exc:
            log.warning("Alignment Score skipped for %s: %s", path.name, exc)
            return None

    def update(self, name: str, generated: np.ndarray, reference: np.ndarray, ev: torch.Tensor | None) -> None:
        """Score one system's clip; waveforms at 22,050 Hz cut to the system's length."""
        if ev is not None and name in self.align:
            self.align[name].update(video_embedding=ev, waveform=generated)
        same = np.array_equal(generated, reference)  # the ground-truth row: reuse its embedding
        for kind, metrics in (("fid", self.fid), ("mel", self.melception)):
            if name not in metrics:
                continue
            key = (kind, len(reference))
            if key not in self._cache:  # one ground-truth embedding per clip and length, shared by all systems
                self._cache[key] = metrics[name].embed(reference)
            gen = self._cache[key] if same else metrics[name].embed(generated)
            metrics[name].update(reference=self._cache[key], generated=gen, embedded=True)

    def results(self, name: str) -> dict[str, Any]:
        """The report entries of one system (metrics that cannot be computed are logged and left out)."""
        out: dict[str, Any] = {}
        for key, metric in (("alignment_score", self.align.get(name)), ("fid_spec_inception", self.fid.get(name)),
                            ("melception", self.melception.get(name))):
            if metric is None:
                continue
            try:
                out[key] = metric.compute()
            except ValueError as exc:
                log.warning("%s of %s not computed: %s", key, name, exc)
        return out


def clip_files(folder: str | os.PathLike[str]) -> dict[str, Path]:
    """Clip id → file for the media files of a folder (video preferred over audio for the same name)."""
    root = Path(folder)
    if not root.is_dir():
        raise EgoSonicsError(f"{root}: folder not found")
    found: dict[str, Path] = {}
    for path in sorted(root.iterdir()):
        if path.suffix.lower() not in MEDIA_EXTENSIONS or not path.is_file():
            continue
        name = path.stem.removesuffix(".egosonics")
        if name not in found or path.suffix.lower() not in (".wav", ".flac"):
            found[name] = path
    return found


def _resample(x: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    if from_rate == to_rate:
        return x
    from scipy.signal import resample_poly

    g = math.gcd(from_rate, to_rate)
    return resample_poly(x, to_rate // g, from_rate // g).astype(np.float32)


def _fit(x: np.ndarray, n: int) -> np.ndarray:
    return x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))


def event_onsets(path: Path) -> np.ndarray:
    """True onset times (s) of a timeline JSON (``{"events": [{"onset_s": ...}, ...]}``)."""
    data = json.loads(path.read_text())
    return np.array(sorted(e["onset_s"] for e in data.get("events", []) if e.get("visible", True)), dtype=np.float64)


def event_scores(generated: np.ndarray, sample_rate: int, events_s: np.ndarray) -> dict[str, float]:
    """Onset hit accuracy (±0.1 s, CondFoleyGen) and onset F1 (±50 ms) against true event times."""
    from egosonics.evaluation.sync.av_align import to_librosa_rate

    wave = to_librosa_rate(generated, sample_rate)
    detected = detect_onsets(wave, 22_050)
    reference = np.round(events_s * 22_050).astype(np.int64)
    cf = condfoley_scores(reference, detected, wave)
    f1 = onset_f1(events_s, detected / 22_050)
    return {"event_hit_acc": cf.hit_accuracy, "event_f1": f1.f1, "event_precision": f1.precision,
            "event_recall": f1.recall}


def evaluate(pred: str | os.PathLike[str], gt: str | os.PathLike[str], out: str | os.PathLike[str], *,
             baselines: dict[str, str] | None = None, protocols: dict[str, Protocol] | None = None,
             events: str | os.PathLike[str] | None = None, references: tuple[str, ...] = REFERENCE_ROWS[:2],
             short_side: int | None = 224, vocoder_iters: int = 32, seed: int = 0,
             weights: WeightBasedConfig | None = None) -> dict[str, Any]:
    """Evaluate ``pred`` (ours) and each baseline against ``gt``; returns the report and writes it to ``out``.

    ``weights`` switches on the weight-based metrics whose local files it names (module docstring, step 5). Runs
    torch on one thread (many small ops: one thread is much faster on a shared CPU, measured 30x) and restores the
    caller's thread count afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _evaluate(pred, gt, out, baselines=baselines, protocols=protocols, events=events,
                         references=references, short_side=short_side, vocoder_iters=vocoder_iters, seed=seed,
                         weights=weights)
    finally:
        torch.set_num_threads(threads)


def _evaluate(pred: str | os.PathLike[str], gt: str | os.PathLike[str], out: str | os.PathLike[str], *,
              baselines: dict[str, str] | None, protocols: dict[str, Protocol] | None,
              events: str | os.PathLike[str] | None, references: tuple[str, ...], short_side: int | None,
              vocoder_iters: int, seed: int, weights: WeightBasedConfig | None) -> dict[str, Any]:
    from egosonics.evaluation.sync.clip import load_sync_clip
    from egosonics.media.audio import read_audio
    from egosonics.spectrogram.codec import decode_windows, encode_windows
    from egosonics.utils.logging import progress

    protocols = {**PROTOCOLS, **(protocols or {})}
    unknown = sorted(set(references) - set(REFERENCE_ROWS))
    if unknown:
        raise EgoSonicsError(f"unknown reference rows {unknown}; choose from {list(REFERENCE_ROWS)}")
    # 1. Pair files.
    gt_files = clip_files(gt)
    systems = {"ours": clip_files(pred)} | {name: clip_files(folder) for name, folder in (baselines or {}).items()}
    ids = sorted(set(gt_files) & set(systems["ours"]))
    if not ids:
        raise EgoSonicsError(f"no clip names in common between {pred} and {gt}")
    for name, files in systems.items():
        missing = sorted(set(ids) - set(files))
        if missing:
            log.warning("%s: %d clip(s) missing (%s...)", name, len(missing), ", ".join(missing[:3]))
    event_files = {p.stem: p for p in Path(events).glob("*.json")} if events else {}
    rows: dict[str, list[tuple[str, np.ndarray, float]]] = {}  # system → [(clip, waveform at its rate, rate)]
    suites = {name: WeightFreeSuite(SuiteConfig(sample_rate=protocols.get(name, protocols["ours"]).sample_rate,
                                                video_short_side=short_side))
              for name in [*systems, *references]}
    event_rows: dict[str, list[dict[str, float]]] = {name: [] for name in suites}
    weighted = _WeightedMetrics(weights or WeightBasedConfig(), list(suites))
    failed: list[tuple[str, str]] = []
    pooled = PooledSync(PooledConfig(seed=seed))
    rng = np.random.default_rng(seed)
    for index, clip_id in enumerate(progress(ids, desc="evaluate", total=len(ids), unit="clip")):
        # 2. Ground truth, decoded once.
        try:
            clip = load_sync_clip(gt_files[clip_id], short_side=short_side)
        except EgoSonicsError as exc:
            failed.append((clip_id, str(exc)))
            continue
        trajectory, motion = farneback_trajectory(clip.frames), frame_difference(clip.frames)
        ev = weighted.clip(gt_files[clip_id])
        candidates: dict[str, np.ndarray | None] = {}
        for name, files in systems.items():
            if clip_id in files:
                try:
                    candidates[name] = read_audio(files[clip_id], sample_rate=clip.sample_rate)
                except EgoSonicsError as exc:
                    failed.append((f"{name}/{clip_id}", str(exc)))
        gt_audio = clip.audio
        n = len(gt_audio)
        for name in references:
            if name == "ground-truth":
                candidates[name] = gt_audio
            elif name == "vocoder-ceiling":
                candidates[name] = decode_windows(encode_windows(gt_audio), n, n_iter=vocoder_iters, seed=seed)
            elif name == "silence":
                candidates[name] = np.zeros(n, np.float32)
            elif name == "noise":
                rms = float(np.sqrt(np.mean(gt_audio.astype(np.float64) ** 2))) or 1e-3
                candidates[name] = (rng.standard_normal(n) * rms).astype(np.float32)
            elif name == "other-clip":
                other = gt_files[ids[(index + 1) % len(ids)]]
                candidates[name] = _fit(read_audio(other, sample_rate=clip.sample_rate), n)
            elif name == "shifted-0.5s":
                shift = round(0.5 * clip.sample_rate)
                candidates[name] = np.concatenate([np.zeros(shift, np.float32), gt_audio[:-shift]])
            elif name == "click-stops":
                from egosonics.evaluation.sync.click_track import motion_click_track

                try:
                    candidates[name] = motion_click_track(gt_files[clip_id], n, clip.sample_rate)[0]
                except EgoSonicsError as exc:
                    failed.append((f"{name}/{clip_id}", str(exc)))
        # 3. Each system on its protocol.
        for name, wave in candidates.items():
            proto = protocols.get(name, protocols["ours"])
            length = min(round(proto.duration_s * clip.sample_rate), n)
            frames_n = min(len(clip.frames), max(2, round(length / clip.sample_rate * clip.fps)))
            ref = _resample(_fit(gt_audio, length), clip.sample_rate, proto.sample_rate)
            gen = _resample(_fit(wave, length), clip.sample_rate, proto.sample_rate)
            gen = _fit(gen, len(ref))
            suites[name].update(clip_id=clip_id, generated=gen, reference=ref, fps=clip.fps,
                                trajectory=trajectory[:frames_n - 1], motion=motion[:frames_n])
            weighted.update(name, _fit(wave, length), _fit(gt_audio, length), ev)
            pooled.update(name, clip_id, gen, ref, proto.sample_rate)
            if clip_id in event_files:
                events_s = event_onsets(event_files[clip_id])
                events_s = events_s[events_s < length / clip.sample_rate]
                event_rows[name].append(event_scores(gen, proto.sample_rate, events_s))
            if index < 6:
                rows.setdefault(name, []).append((clip_id, gen, proto.sample_rate))
    # 4. Reports.
    report: dict[str, Any] = {"pairs": len(ids), "failed": failed, "systems": {}}
    for name, suite in suites.items():
        if not suite.rows:
            continue
        result = suite.compute() | weighted.results(name)
        if event_rows[name]:
            result["events"] = {k: float(np.mean([r[k] for r in event_rows[name]])) for k in event_rows[name][0]}
            result["events"]["n"] = len(event_rows[name])
        report["systems"][name] = result
    report["table"] = summary_table(report)
    report["pooled_sync"] = pooled.compute()
    write_report(Path(out), report, rows, gt_files)
    return report


SUMMARY_COLUMNS = [
    ("onset F1 (events)", ("events", "event_f1"), "higher"),
    ("hit acc (events)", ("events", "event_hit_acc"), "higher"),
    ("onset F1 (vs GT)", ("onset", "f1"), "higher"),
    ("hit acc (vs GT)", ("onset", "hit_acc"), "higher"),
    ("AV-Align", ("av_align", "av_align"), "higher"),
    ("|offset| vs GT audio (frames)", ("xcorr_offset_gt", "mean_abs_offset_frames"), "lower"),
    ("|offset| (s)", ("xcorr_offset", "mean_abs_offset_s"), "lower"),
    ("offset <= 1 frame", ("xcorr_offset", "frac_within_1_frame"), "higher"),
    ("Alignment Score", ("alignment_score", "score_30fps"), "higher"),
    ("AS 15 fps", ("alignment_score", "score_15fps"), "higher"),
    ("AS 4 fps", ("alignment_score", "score_4fps"), "higher"),
    ("FID spec", ("fid_spec_inception", "fid"), "lower"),
    ("Melception FID", ("melception", "fid"), "lower"),
    ("Melception KL", ("melception", "kl"), "lower"),
    ("FD log-mel", ("fd_logmel", "fd"), "lower"),
    ("LSD", ("spec_paired", "lsd"), "lower"),
    ("mel-L1", ("spec_paired", "mel_l1"), "lower"),
]


def _get(result: dict[str, Any], path: tuple[str, str]) -> float | None:
    value = result.get(path[0], {})
    value = value.get(path[1]) if isinstance(value, dict) else None
    return float(value) if isinstance(value, (int, float)) and value is not None else None


def summary_table(report: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per system with the headline numbers."""
    table = []
    for name, result in report["systems"].items():
        row: dict[str, Any] = {"system": name, "n": result["meta"]["n"]}
        for label, path, _ in SUMMARY_COLUMNS:
            row[label] = _get(result, path)
        table.append(row)
    return table


def markdown_table(table: list[dict[str, Any]]) -> str:
    columns = ["system", "n"] + [label for label, _, _ in SUMMARY_COLUMNS if any(r.get(label) is not None
                                                                                  for r in table)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in table:
        cells = [f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in columns]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(out: Path, report: dict[str, Any], examples: dict[str, list], gt_files: dict[str, Path]) -> None:
    """``report.json``, ``report.md`` and ``report.html`` with figures in ``out/figures``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from egosonics.spectrogram.params import DEFAULT_PARAMS
    from egosonics.spectrogram.transform import waveform_to_unit

    out.mkdir(parents=True, exist_ok=True)
    (out / "figures").mkdir(exist_ok=True)
    with atomic_output(out / "report.json") as tmp:
        tmp.write_text(json.dumps(_jsonable(report), indent=1))
    md = markdown_table(report["table"])
    with atomic_output(out / "report.md") as tmp:
        tmp.write_text(f"# Evaluation\n\n{report['pairs']} clips.\n\n{md}\n\n{pooled_markdown(report['pooled_sync'])}")
    figures = []
    ours = examples.get("ours", [])
    truth = {c: w for c, w, _ in examples.get("ground-truth", [])}
    for clip_id, wave, rate in ours:
        if clip_id not in truth or rate != DEFAULT_CLIP.sample_rate:
            continue
        fig, axes = plt.subplots(3, 1, figsize=(10, 7))
        for ax, (title, w) in zip(axes[:2], [("ground truth", truth[clip_id]), ("generated", wave)], strict=True):
            image = waveform_to_unit(torch.from_numpy(np.ascontiguousarray(w)), DEFAULT_PARAMS).numpy()
            ax.imshow(image, origin="lower", aspect="auto", cmap="magma",
                      extent=(0, len(w) / rate, 0, rate / 2))
            ax.set_title(f"{clip_id}: {title}")
            ax.set_ylabel("Hz")
        track = next((r.get("offset_track") for r in report["systems"]["ours"]["rows"] if r["clip_id"] == clip_id),
                     None)
        if track:
            axes[2].plot(track["times_s"], track["offsets_frames"], marker="o")
            axes[2].axhline(0, color="grey", linewidth=0.8)
            axes[2].set_ylabel("offset (frames)")
        axes[2].set_xlabel("time (s)")
        axes[2].set_title("estimated audio-video offset over time (2 s windows)")
        fig.tight_layout()
        name = f"figures/{clip_id}.png"
        fig.savefig(out / name, dpi=80)
        plt.close(fig)
        figures.append(name)
    table_html = _html_table(report["table"])
    rows_html = _html_table([{"clip": r["clip_id"], "AV-Align": r.get("av_align"), "onset F1": r.get("onset_f1"),
                              "hit acc": r.get("onset_hit_acc"), "offset (frames)": r.get("offset_frames")}
                             for r in report["systems"]["ours"]["rows"]])
    classifier = next((r["alignment_score"].get("classifier") for r in report["systems"].values()
                       if "alignment_score" in r), None)
    accuracy = (classifier or {}).get("accuracy")
    note = (f"<p>Alignment classifier, held-out accuracy: {accuracy:.3f} ({classifier.get('n_windows')} windows)</p>"
            if accuracy is not None else "")
    body = (f"<h1>EgoSonics evaluation</h1><p>{report['pairs']} clips; failed: {len(report['failed'])}</p>{note}"
            f"<h2>Comparison</h2>{table_html}<h2>Per clip (ours)</h2>{rows_html}"
            f"<h2>Pooled onsets and lag</h2><pre>{html.escape(pooled_markdown(report['pooled_sync']))}</pre>"
            "<h2>Examples</h2>"
            + "".join(f'<p><img src="{html.escape(f)}" width="800"></p>' for f in figures))
    with atomic_output(out / "report.html") as tmp:
        tmp.write_text(f"<!doctype html><meta charset='utf-8'><title>EgoSonics evaluation</title>"
                       f"<style>td,th{{padding:2px 8px;text-align:right}}</style>{body}")
    log.info("wrote %s", out / "report.html")


def _html_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>(none)</p>"
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in columns)
    body = "".join("<tr>" + "".join(
        f"<td>{v:.3f}</td>" if isinstance(v, float) else f"<td>{html.escape(str(v))}</td>"
        for v in (r.get(c) for c in columns)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"
