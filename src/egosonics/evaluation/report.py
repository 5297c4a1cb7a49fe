"""The reports of ``egosonics evaluate``: the summary table, and ``report.json``, ``report.md`` and ``report.html``."""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.evaluation.suite import _jsonable
from egosonics.evaluation.sync.pooled import markdown as pooled_markdown
from egosonics.utils.output import atomic_output

log = logging.getLogger(__name__)


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

    def cell(text: str) -> str:
        return text.replace("|", "\\|")  # a literal bar ("|offset|") would split the column

    lines = ["| " + " | ".join(cell(c) for c in columns) + " |", "|" + "---|" * len(columns)]
    for row in table:
        cells = [f"{row[c]:.3f}" if isinstance(row.get(c), float) else str(row.get(c, "")) for c in columns]
        lines.append("| " + " | ".join(cell(c) for c in cells) + " |")
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
