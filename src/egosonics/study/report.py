"""The study's results as files: CSV tables (unblinded), the figures and ``results.json``, for analysis elsewhere."""

from __future__ import annotations

import csv
import io
import json
import logging
import os
from pathlib import Path

from egosonics.study.config import Study
from egosonics.study.figures import FIGURES, draw
from egosonics.study.results import compute_results
from egosonics.study.store import StudyStore

log = logging.getLogger(__name__)

EXPORTS = ("ratings", "preferences", "participants", "summary")


def export_csv(name: str, study: Study, store: StudyStore) -> str:
    """One of ``EXPORTS`` as CSV text (unblinded: system names included)."""
    buffer = io.StringIO()
    if name == "summary":
        results = compute_results(study, store)
        writer = csv.writer(buffer)
        writer.writerow(["kind", "name", "role", "n", "value", "ci_low", "ci_high", "realistic", "relevant",
                         "synchronized", "category_error"])
        for s in results.systems:
            writer.writerow(["mos", s.system, s.role, s.n, s.mos, s.ci_low, s.ci_high, s.realistic, s.relevant,
                             s.synchronized, s.category_error])
        for p in results.preferences:
            writer.writerow(["preference", p.baseline, "baseline", p.n, p.rate, p.ci_low, p.ci_high])
        gt = results.as_real_as_ground_truth
        if gt is not None:
            writer.writerow(["as_real_as_ground_truth_cases", study.ours.name, "ours", gt.cases, gt.case_share])
            writer.writerow(["as_real_as_ground_truth_clips", study.ours.name, "ours", gt.clips, gt.clip_share])
        return buffer.getvalue()
    columns, rows = store.table(name)
    writer = csv.DictWriter(buffer, fieldnames=columns)
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def write_report(study: Study, store: StudyStore, out: str | os.PathLike[str]) -> list[Path]:
    """Write every export (CSV), every figure (PNG) and ``results.json`` into ``out``; returns the files written."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    results = compute_results(study, store)
    written = []
    for name in EXPORTS:
        path = folder / f"{name}.csv"
        path.write_text(export_csv(name, study, store), encoding="utf-8")
        written.append(path)
    for name in FIGURES:
        path = folder / f"{name}.png"
        path.write_bytes(draw(name, results))
        written.append(path)
    path = folder / "results.json"
    path.write_text(json.dumps(results.to_dict(), indent=1), encoding="utf-8")
    written.append(path)
    for path in written:
        log.info("wrote %s", path)
    return written
