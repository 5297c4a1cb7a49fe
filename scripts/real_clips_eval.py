"""Pooled synchronisation of a model on the real clips, beside the reference rows (docs/EVAL.md).

    .venv/bin/python scripts/real_clips_eval.py [--model FOLDER] [--vocoder griffin-lim|learned]
        [--out outputs/real_clips_eval] [--threads 1] [--sources A,B,...] [--baseline NAME=FOLDER ...]

1. Generate the model's audio for every clip of ../shared/data/real_clips (25) and real_clips_more (53) with
   ``egosonics generate``'s defaults (20 DDIM steps, guidance 3, seed 0); files already generated are kept.
2. ``egosonics evaluate`` over all clips at once (the two folders linked into OUT/gt, never copied), with the reference
   rows recorded audio, Griffin-Lim ceiling, silence, another clip's audio (chance), recorded audio shifted 0.5 s
   and the motion click track. Report in OUT/report (report.md holds the pooled tables and the per-clip table).
   ``--sources`` keeps only the clips whose source repository (SOURCES.md) is listed: the clips held out from a
   training run that used the others. ``--baseline NAME=FOLDER`` (repeatable; FOLDER a model folder or ``default``)
   generates the same clips with another model and scores it in the same run (same chance row), as row NAME.
3. The pooled numbers and the paired bootstrap against chance per clip set and over both, written to
   OUT/real_clips_pooled.md and .json and printed.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETS = {"real_clips": REPO.parent / "shared" / "data" / "real_clips",
        "real_clips_more": REPO.parent / "shared" / "data" / "real_clips_more"}
REFERENCES = ("ground-truth", "vocoder-ceiling", "silence", "other-clip", "shifted-0.5s", "click-stops")


def link_clips(out: Path, sources: set[str] | None = None, sets: dict[str, Path] | None = None) -> dict[str, str]:
    """OUT/gt/NAME.mp4 → the clips of ``sets`` (name → folder; default ``SETS``) as symlinks, never copies; only clips
    from ``sources`` when given. Returns clip → set name."""
    from egosonics.training.vocoder import read_sources_table

    gt = out / "gt"
    gt.mkdir(parents=True, exist_ok=True)
    owner = {}
    found_sources = set()
    for set_name, folder in (SETS if sets is None else sets).items():
        table = read_sources_table(folder)
        for video in sorted(folder.glob("*.mp4")):
            source = table.get(video.name, {}).get("source", "")
            found_sources.add(source)
            if sources is not None and source not in sources:
                continue
            if video.stem in owner:
                raise SystemExit(f"clip name {video.stem} is in two sets")
            owner[video.stem] = set_name
            link = gt / video.name
            if not link.is_symlink():
                link.symlink_to(video.resolve())
    if sources is not None and sources - found_sources:
        raise SystemExit(f"--sources: no clip comes from {sorted(sources - found_sources)}")
    return owner


def pending(out: Path, pred: str = "pred", clips: set[str] | None = None) -> list[Path]:
    """The clips of OUT/gt (only ``clips`` when given) that OUT/pred has no generated file for yet."""
    return [v for v in sorted((out / "gt").glob("*.mp4"))
            if (clips is None or v.stem in clips) and not (out / pred / f"{v.stem}.egosonics.mp4").exists()]


def generate_with(pipe, videos: list[Path], folder: Path, options=None) -> None:
    """``videos`` into ``folder`` with ``options`` (default: ``egosonics generate``'s, 20 DDIM steps, guidance 3,
    seed 0)."""
    from egosonics.generate import GenerateOptions, generate_files

    report = generate_files(pipe, videos, folder, options or GenerateOptions())
    if report.failed:
        raise SystemExit(f"generation failed: {report.failed}")


def generate(model: str | None, out: Path, threads: int, pred: str = "pred", vocoder: str | None = None) -> None:
    import torch

    from egosonics.loading import load_pipeline

    todo = pending(out, pred)
    if not todo:
        return
    torch.set_num_threads(threads)
    generate_with(load_pipeline(model, vocoder=vocoder), todo, out / pred)


def parse_baselines(items: list[str]) -> dict[str, str | None]:
    """``--baseline NAME=FOLDER`` values → {NAME: FOLDER, or None for 'default' (the shipped model)}."""
    baselines = {}
    for item in items:
        name, sep, folder = item.partition("=")
        if not sep or not name or not folder or name in REFERENCES or name == "ours":
            raise SystemExit(f"--baseline {item!r}: expected NAME=FOLDER with a new NAME")
        baselines[name] = None if folder == "default" else folder
    return baselines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help="model folder (default: the shipped default model)")
    parser.add_argument("--out", default=str(REPO / "outputs" / "real_clips_eval"))
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    parser.add_argument("--vocoder", choices=("griffin-lim", "learned"),
                        help="the model's waveform stage (default: learned when its folder has vocoder/)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap and vocoder seed (default: 0)")
    parser.add_argument("--sources", help="comma-separated source repositories: only their clips (held-out clips)")
    parser.add_argument("--baseline", action="append", default=[], metavar="NAME=FOLDER",
                        help="also generate with this model folder ('default': the shipped one) and score it as NAME")
    args = parser.parse_args()
    baselines = parse_baselines(args.baseline)
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    out = Path(args.out)
    sources = {s.strip() for s in args.sources.split(",") if s.strip()} if args.sources else None
    owner = link_clips(out, sources)
    generate(args.model, out, args.threads, vocoder=args.vocoder)
    for name, folder in baselines.items():
        generate(folder, out, args.threads, pred=f"baseline_{name}")
    summary = {"model": args.model or "default", "vocoder": args.vocoder or "default", "baselines": args.baseline,
               "sources": sorted(sources) if sources else "all", "clips": sorted(owner)}
    score(out, owner, list(baselines), seed=args.seed, summary=summary)


def score(out: Path, owner: dict[str, str], baselines: list[str], *, seed: int, summary: dict) -> dict:
    """One ``egosonics evaluate`` run of OUT/pred (and OUT/baseline_NAME) against OUT/gt with the reference rows;
    the pooled tables over all clips and per clip set → OUT/real_clips_pooled.md and .json (``summary``, "parts",
    "table": the per-clip means, "failed"), which it also returns."""
    from egosonics.evaluation.evaluate import evaluate
    from egosonics.evaluation.sync.pooled import restrict, restricted_markdown

    report = evaluate(out / "pred", out / "gt", out / "report", references=REFERENCES, seed=seed,
                      baselines={name: str(out / f"baseline_{name}") for name in baselines})
    section = report["pooled_sync"]
    parts = {"all": restrict(section, set(owner))}
    for set_name in dict.fromkeys(owner.values()):
        parts[set_name] = restrict(section, {c for c, s in owner.items() if s == set_name})
    text = "\n".join(restricted_markdown(name, part) for name, part in parts.items())
    result = {**summary, "parts": parts, "table": report["table"], "failed": report["failed"]}
    (out / "real_clips_pooled.md").write_text(text)
    (out / "real_clips_pooled.json").write_text(json.dumps(result, indent=1, default=float))
    print(text)
    if report["failed"]:
        print(f"failed: {report['failed']}")
    return result


if __name__ == "__main__":
    main()
