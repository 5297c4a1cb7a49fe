"""The results as PNG figures (matplotlib's object API: no pyplot state, so server threads can draw at once)."""

from __future__ import annotations

import io

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from egosonics.study.results import StudyResults

ROLE_COLOURS = {"ours": "#d1495b", "baseline": "#8d99ae", "ground_truth": "#2b2d42"}
BASELINE_COLOURS = ("#8d99ae", "#edae49", "#66a182", "#00798c", "#a05195")


def _colours(results: StudyResults) -> list[str]:
    """One colour per system: ours red, ground truth dark, each baseline its own."""
    baselines = iter(BASELINE_COLOURS * len(results.systems))
    return [next(baselines) if s.role == "baseline" else ROLE_COLOURS[s.role] for s in results.systems]
FIGURES = ("mos", "preferences", "answers")


def _png(fig: Figure) -> bytes:
    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _error(value: float | None, low: float | None, high: float | None) -> tuple[float, float]:
    if value is None or low is None or high is None:
        return 0.0, 0.0
    return value - low, high - value


def mos_figure(results: StudyResults) -> bytes:
    """MOS per system with its 95 % interval, on the 1-5 scale."""
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.add_subplot()
    names = [s.system for s in results.systems]
    values = [s.mos or 0.0 for s in results.systems]
    errors = list(zip(*(_error(s.mos, s.ci_low, s.ci_high) for s in results.systems), strict=True))
    ax.bar(names, values, yerr=errors, capsize=6, color=_colours(results))
    for i, s in enumerate(results.systems):
        ax.annotate(f"n={s.n}", (i, 1.05), ha="center", fontsize=8, color="white" if s.mos else "black")
    ax.set_ylim(1, 5)
    ax.set_ylabel("MOS (realism, 1-5)")
    ax.set_title("Mean opinion score with 95 % confidence interval")
    return _png(fig)


def preferences_figure(results: StudyResults) -> bytes:
    """Share of side-by-side pages where ours was preferred, per baseline, with the Wilson interval."""
    fig = Figure(figsize=(6.4, 1.2 + 0.6 * max(1, len(results.preferences))), layout="constrained")
    ax = fig.add_subplot()
    names = [f"vs {p.baseline} (n={p.n})" for p in results.preferences]
    values = [100 * (p.rate or 0.0) for p in results.preferences]
    errors = list(zip(*(tuple(100 * e for e in _error(p.rate, p.ci_low, p.ci_high)) for p in results.preferences),
                      strict=True)) if results.preferences else None
    ax.barh(names, values, xerr=errors, capsize=6, color=ROLE_COLOURS["ours"])
    ax.axvline(50, color="black", linewidth=0.8, linestyle="--")
    ax.set_xlim(0, 100)
    ax.set_xlabel("ours preferred (%)")
    ax.set_title("Preference for ours, 95 % Wilson interval")
    return _png(fig)


def answers_figure(results: StudyResults) -> bytes:
    """The yes/no questions and the share rated 4-5, grouped per system."""
    fig = Figure(figsize=(7.2, 3.6), layout="constrained")
    ax = fig.add_subplot()
    questions = [("realistic", "realism 4-5"), ("relevant", "relevant"), ("synchronized", "synchronized"),
                 ("category_error", "other category")]
    width = 0.8 / max(1, len(results.systems))
    for k, (s, colour) in enumerate(zip(results.systems, _colours(results), strict=True)):
        xs = [i + (k - (len(results.systems) - 1) / 2) * width for i in range(len(questions))]
        ax.bar(xs, [100 * (getattr(s, q) or 0.0) for q, _ in questions], width=width, label=s.system,
               color=colour)
    ax.set_xticks(range(len(questions)), [label for _, label in questions])
    ax.set_ylim(0, 100)
    ax.set_ylabel("share of ratings (%)")
    ax.legend(fontsize=8)
    ax.set_title("Answers per system")
    return _png(fig)


def draw(name: str, results: StudyResults) -> bytes:
    """The PNG bytes of figure ``name`` (one of ``FIGURES``)."""
    drawers = {"mos": mos_figure, "preferences": preferences_figure, "answers": answers_figure}
    if name not in drawers:
        raise KeyError(f"unknown figure {name!r}; choose from {list(FIGURES)}")
    return drawers[name](results)
