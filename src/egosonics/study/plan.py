"""A participant's pages, drawn once when they join and stored, so that a reload shows the same order.

Rating pages come first (one clip of one system each, in random order; the participant is never told which system),
then preference pages (ours against one baseline on the same clip, side by side). Ratings come first so that the
side-by-side comparisons cannot inform the absolute ratings. Left/right is counterbalanced: of a participant's
preference pages, half (rounded) show ours on the left, in random order.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from egosonics.study.config import Study

RATING, PREFERENCE = "rating", "preference"


@dataclass(frozen=True)
class Page:
    """One page of a participant's session.

    Attributes:
        position: 0-based place in the session.
        kind: ``RATING`` (``system`` is set) or ``PREFERENCE`` (``left`` and ``right`` are set, one of them ours).
        clip: the clip name shown.
    """

    position: int
    kind: str
    clip: str
    system: str | None = None
    left: str | None = None
    right: str | None = None


def _balanced_draw(groups: list[list[tuple[str, str]]], count: int | None, rng: random.Random) -> list[tuple[str, str]]:
    """``count`` items taken round-robin from the shuffled groups, so that every group gets an equal share (±1)."""
    for group in groups:
        rng.shuffle(group)
    order = [item for round_ in zip(*groups, strict=True) for item in round_]
    taken = order if count is None else order[:count]
    rng.shuffle(taken)
    return taken


def build_plan(study: Study, rng: random.Random) -> list[Page]:
    """Draw a participant's pages: ratings (balanced over systems), then preferences (balanced over baselines)."""
    # 1. Rating pages: (clip, system), an equal share per system when capped
    ratings = _balanced_draw([[(clip, s.name) for clip in study.clips] for s in study.systems],
                             study.ratings_per_participant, rng)
    # 2. Preference pages: (clip, baseline), an equal share per baseline when capped
    pairs = _balanced_draw([[(clip, b.name) for clip in study.clips] for b in study.baselines],
                           study.pairs_per_participant, rng) if study.baselines else []
    # 3. Counterbalance sides: half the pairs show ours on the left
    ours_left = [i % 2 == 0 for i in range(len(pairs))]
    rng.shuffle(ours_left)
    pages = [Page(position=i, kind=RATING, clip=clip, system=system) for i, (clip, system) in enumerate(ratings)]
    ours = study.ours.name
    for left_first, (clip, baseline) in zip(ours_left, pairs, strict=True):
        left, right = (ours, baseline) if left_first else (baseline, ours)
        pages.append(Page(position=len(pages), kind=PREFERENCE, clip=clip, left=left, right=right))
    return pages
