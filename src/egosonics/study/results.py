"""The study's numbers, computed from the database's rows (paper Sec. A, items 1-4).

    MOS                 mean realism (1-5) per system, with a 95 % Student-t confidence interval over its ratings
    realistic           share of a system's ratings of 4 or 5
    relevant, synchronized  share of "yes" per system
    category error      share of "sounds like another category: yes" per system (item 4: lower is better)
    preference          per baseline, the share of side-by-side pages where ours was chosen, 95 % Wilson interval
    as real as GT       cases: (participant, clip) pairs where the participant rated both ours and ground truth and
                        gave ours at least the realism of ground truth (item 3); clips: clips whose mean realism for
                        ours is at least that for ground truth

NOTE: the intervals treat every rating as independent; ratings of one participant or one clip are correlated, so
they are narrower than a mixed model's. They are what a MOS table usually reports (ITU-T P.800.2).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from egosonics.study.config import Study
from egosonics.study.store import StudyStore
from egosonics.utils.stats import mean_ci

Z_95 = 1.959963984540054  # standard normal 97.5 % quantile


@dataclass(frozen=True)
class SystemScores:
    """The rating pages' numbers for one system; shares are in [0, 1], None when there is no rating."""

    system: str
    role: str
    n: int
    mos: float | None
    ci_low: float | None
    ci_high: float | None
    realistic: float | None
    relevant: float | None
    synchronized: float | None
    category_error: float | None


@dataclass(frozen=True)
class PreferenceScores:
    """Ours against one baseline: ``ours_preferred`` of ``n`` pages, the rate and its Wilson interval."""

    baseline: str
    n: int
    ours_preferred: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True)
class AsRealAsGroundTruth:
    """Ours rated at least as real as ground truth: per (participant, clip) case and per clip."""

    cases: int
    case_share: float | None
    clips: int
    clip_share: float | None


@dataclass(frozen=True)
class StudyResults:
    participants: int
    finished: int
    answers: int
    systems: tuple[SystemScores, ...]
    preferences: tuple[PreferenceScores, ...]
    as_real_as_ground_truth: AsRealAsGroundTruth | None

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def wilson(successes: int, n: int, z: float = Z_95) -> tuple[float | None, float | None, float | None]:
    """(rate, low, high): the Wilson score interval of a proportion (sensible at 0 % and 100 %, unlike p ± z·se)."""
    if n == 0:
        return None, None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return p, max(0.0, centre - half), min(1.0, centre + half)


def _share(flags: Sequence[int]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def compute_results(study: Study, store: StudyStore) -> StudyResults:
    """All of the study's numbers from the answers stored so far."""
    ratings = store.rating_rows()
    preferences = store.preference_rows()
    progress = store.progress()
    # 1. Per system: MOS with its interval and the yes/no shares
    by_system: dict[str, list[dict[str, object]]] = defaultdict(list)
    for row in ratings:
        by_system[str(row["system"])].append(row)
    systems = []
    for system in study.systems:
        rows = by_system.get(system.name, [])
        ci = mean_ci([float(r["realism"]) for r in rows])
        mos, low, high = ci.mean, ci.low, ci.high
        systems.append(SystemScores(
            system=system.name, role=system.role, n=len(rows), mos=mos, ci_low=low, ci_high=high,
            realistic=_share([int(r["realism"] >= 4) for r in rows]),
            relevant=_share([int(r["relevant"]) for r in rows]),
            synchronized=_share([int(r["synchronized"]) for r in rows]),
            category_error=_share([int(r["other_category"]) for r in rows])))
    # 2. Preferences: ours against each baseline
    ours = study.ours.name
    prefs = []
    for baseline in study.baselines:
        rows = [r for r in preferences if baseline.name in (r["left_system"], r["right_system"])]
        wins = sum(r["preferred"] == ours for r in rows)
        rate, low, high = wilson(wins, len(rows))
        prefs.append(PreferenceScores(baseline=baseline.name, n=len(rows), ours_preferred=wins, rate=rate,
                                      ci_low=low, ci_high=high))
    # 3. Ours as real as ground truth: per case (same participant, same clip) and per clip
    as_real = None
    truth = study.ground_truth
    if truth is not None:
        realism: dict[tuple[str, str, str], int] = {
            (str(r["participant_id"]), str(r["clip"]), str(r["system"])): int(r["realism"]) for r in ratings}
        cases = [realism[(p, c, ours)] >= realism[(p, c, truth.name)]
                 for (p, c, s) in realism if s == ours and (p, c, truth.name) in realism]
        per_clip: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
        for (_, clip, system), value in realism.items():
            per_clip[clip][system].append(value)
        clips = [sum(v[ours]) / len(v[ours]) >= sum(v[truth.name]) / len(v[truth.name])
                 for v in per_clip.values() if v.get(ours) and v.get(truth.name)]
        as_real = AsRealAsGroundTruth(cases=len(cases), case_share=_share(cases), clips=len(clips),
                                      clip_share=_share(clips))
    return StudyResults(participants=len(progress),
                        finished=sum(1 for p in progress if p["total"] and p["answered"] == p["total"]),
                        answers=sum(int(p["answered"]) for p in progress), systems=tuple(systems),
                        preferences=tuple(prefs), as_real_as_ground_truth=as_real)


def fmt_score(value: float | None) -> str:
    """A MOS or interval bound as the pages show it: 3 decimals, or an en dash when there is none."""
    return "–" if value is None else f"{value:.3f}"


def fmt_share(value: float | None) -> str:
    """A share as the pages show it: a percentage with one decimal, or an en dash when there is none."""
    return "–" if value is None else f"{100 * value:.1f} %"
