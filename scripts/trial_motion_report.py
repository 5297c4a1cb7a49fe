"""The motion trial's tables and bars, rendered from the JSON its evaluations wrote (nothing typed).

    .venv/bin/python scripts/trial_motion_report.py [--out outputs/trial_motion]

Reads OUT/eval_real_heldout/report/report.json (pooled sync on the held-out real clips, scripts/real_clips_eval.py),
OUT/eval_realistic/synth_eval.json and OUT/eval_easy/synth_eval.json (scripts/trial_synth_eval.py), OUT/rtf/rtf.json
(OUT/eval_*_default: the shipped model on the same scenes, when there) and the training logs; writes
OUT/trial_report.md and prints it. Adds the paired bootstrap of (trial − shipped model).
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np

SYSTEMS = (("ours", "trial (tiny-motion)"), ("default-model", "shipped default model"),
           ("ground-truth", "recorded audio"), ("vocoder-ceiling", "Griffin-Lim ceiling"), ("silence", "silence"),
           ("other-clip", "another clip's audio (chance)"), ("shifted-0.5s", "recorded audio shifted 0.5 s"),
           ("click-stops", "click at motion stops"))


def fmt(value, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def interval(d: dict, key: str) -> str:
    low, high = d[f"{key}_ci95"]
    return f"{d[key]:+.3f} [{low:+.3f}, {high:+.3f}]"


def real_section(out: Path) -> tuple[list[str], dict]:
    from egosonics.evaluation.sync.pooled import PooledConfig, paired_bootstrap

    section = json.loads((out / "eval_real_heldout" / "report" / "report.json").read_text())["pooled_sync"]
    split = json.loads((out / "real_split.json").read_text())
    systems, diffs, config = section["systems"], section["differences"], PooledConfig(**section["config"])
    clips = section["clips"]

    def arrays(name: str) -> tuple[np.ndarray, np.ndarray]:
        counts = np.array([(r[name]["hits"], r[name]["n_estimated"], r["n_reference"]) for r in clips])
        lags = np.array([np.nan if r[name]["lag_s"] is None else r[name]["lag_s"] for r in clips], dtype=np.float64)
        return counts, lags

    (ca, la), (cb, lb) = arrays("ours"), arrays("default-model")
    vs_default = paired_bootstrap(ca, cb, lags_a=la, lags_b=lb, config=config)
    lines = [f"Held-out real clips: {len(clips)} clips of the sources {', '.join(split['holdout_sources'])} "
             "(never trained on). Pooled onset F1 at ±50 ms (first 0.25 s left out), lag share = clips with "
             "|best lag| ≤ 0.1 s, paired bootstrap 95 % intervals over clips (2,000 resamples, seed 0).", "",
             "| system | pooled F1 | precision | recall | hits / est. / ref. | lag share | F1 − chance [95 % CI] | "
             "lag share − chance [95 % CI] |", "|---|---|---|---|---|---|---|---|"]
    for key, label in SYSTEMS:
        s = systems.get(key)
        if s is None:
            continue
        d = diffs.get(f"{key} - other-clip")
        lines.append(f"| {label} | {fmt(s['f1'])} | {fmt(s['precision'])} | {fmt(s['recall'])} | {s['hits']} / "
                     f"{s['n_estimated']} / {s['n_reference']} | {fmt(s['lag_share'])} | "
                     f"{interval(d, 'f1') if d else '(chance)'} | {interval(d, 'lag_share') if d else ''} |")
    lines += ["", f"Trial − shipped model: pooled F1 {interval(vs_default, 'f1')}, lag share "
              f"{interval(vs_default, 'lag_share')}.", "",
              "Per clip (hits / estimated onsets, best lag in s; reference onsets after 0.25 s):", "",
              "| clip | ref. onsets | trial | shipped model | chance | click-stops |", "|---|---|---|---|---|---|"]

    def cell(r: dict, name: str) -> str:
        lag = r[name]["lag_s"]
        return f"{r[name]['hits']} / {r[name]['n_estimated']}, {'–' if lag is None else f'{lag:+.2f}'}"

    for r in clips:
        lines.append(f"| {r['clip_id']} | {r['n_reference']} | {cell(r, 'ours')} | {cell(r, 'default-model')} | "
                     f"{cell(r, 'other-clip')} | {cell(r, 'click-stops')} |")
    ours, chance, click = systems["ours"], systems["other-clip"], systems["click-stops"]
    d = diffs["ours - other-clip"]
    bars = {"real: pooled F1 ≥ 1.5 × chance": (f"{ours['f1']:.3f} vs 1.5 × {chance['f1']:.3f} = "
                                                f"{1.5 * chance['f1']:.3f}", ours["f1"] >= 1.5 * chance["f1"]),
            "real: pooled F1 above click-stops": (f"{ours['f1']:.3f} vs {click['f1']:.3f}", ours["f1"] > click["f1"]),
            "real: 95 % CI of (ours − chance) F1 above 0": (interval(d, "f1"), d["f1_ci95"][0] > 0),
            "real: lag share ≥ 0.25": (f"{ours['lag_share']:.3f}", ours["lag_share"] >= 0.25)}
    return lines, bars


def synth_section(out: Path, name: str, label: str) -> tuple[list[str], dict]:
    path = out / name / "synth_eval.json"
    result = json.loads(path.read_text())
    lines = [f"Scenes: `{result['scenes']}`; model sha256 {result['model_sha256'][:12]}.", "",
             "| system | n | onset F1 (events) | hit acc (events) | "
             "onset F1 (vs GT) | hit acc (vs GT) |", "|---|---|---|---|---|---|"]
    rows = {("trial" if k == "ours" else "trial, " + k if k == "other-clip E_V" else k): r
            for k, r in result["rows"].items()}
    default = out / f"{name}_default" / "synth_eval.json"
    if default.is_file():  # the shipped model on the same scenes (scripts/trial_synth_eval.py without --model)
        shipped = json.loads(default.read_text())["rows"]
        rows["shipped default model"] = shipped["ours"]
        rows["shipped model, other-clip E_V"] = shipped["other-clip E_V"]
    for system, r in rows.items():
        lines.append(f"| {system} | {r['n']} | {fmt(r['onset F1 (events)'])} | {fmt(r['hit acc (events)'])} | "
                     f"{fmt(r['onset F1 (vs GT)'])} | {fmt(r['hit acc (vs GT)'])} |")
    return lines, result["rows"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="outputs/trial_motion")
    args = parser.parse_args()
    out = Path(args.out)
    lines = ["# Motion trial: measured", ""]
    real_lines, bars = real_section(out)
    lines += ["## Real clips held out by source", "", *real_lines, ""]
    for name, label, f1_bar, hit_bar in (("eval_realistic", "Unseen realistic scenes (seed 5)", 0.8, 0.85),
                                         ("eval_easy", "Easy scenes (seed 2)", 0.9, None)):
        if not (out / name / "synth_eval.json").is_file():
            lines += [f"{label}: not measured", ""]
            continue
        synth_lines, rows = synth_section(out, name, label)
        lines += [f"## {label}", "", *synth_lines, ""]
        ours, other = rows["ours"], rows["other-clip E_V"]
        f1, hit, f1_other = ours["onset F1 (events)"], ours["hit acc (events)"], other["onset F1 (events)"]
        bars[f"{label}: onset F1 (events) ≥ {f1_bar}"] = (fmt(f1), f1 is not None and f1 >= f1_bar)
        if hit_bar is not None:
            bars[f"{label}: hit acc (events) ≥ {hit_bar}"] = (fmt(hit), hit is not None and hit >= hit_bar)
            bars[f"{label}: another clip's E_V at most halves F1"] = (
                f"{fmt(f1)} → {fmt(f1_other)}", f1 is not None and f1_other is not None and f1_other <= f1 / 2)
    rtf_path = out / "rtf" / "rtf.json"
    if rtf_path.is_file():
        rtf = json.loads(rtf_path.read_text())
        lines += ["## Speed", "", f"10 s 1280 × 720 clip ({rtf['clip']}), warm, in process, {rtf['threads']} thread "
                  "on the shared machine, guidance 3, 20 steps: real-time factor (median of 3) trial "
                  f"{rtf['trial']['rtf_median']:.3f} (s: {rtf['trial']['seconds']}), shipped model "
                  f"{rtf['default-model']['rtf_median']:.3f} (s: {rtf['default-model']['seconds']}).", ""]
        bars["speed: RTF ≤ 0.3 (measured at 1 thread, shared)"] = (f"{rtf['trial']['rtf_median']:.3f}",
                                                                   rtf["trial"]["rtf_median"] <= 0.3)
    metrics = out / "syncronet" / "metrics.csv"
    if metrics.is_file():
        rows = list(csv.DictReader(metrics.open()))
        lines += [f"Syncronet training: {rows[-1]['step']} steps, loss (log_every window) {float(rows[0]['loss']):.3f} "
                  f"at step {rows[0]['step']} → {float(rows[-1]['loss']):.3f} at step {rows[-1]['step']}.", ""]
    lines += ["## Bars (issue 12, must show)", "", "| bar | measured | met |", "|---|---|---|"]
    lines += [f"| {label} | {text} | {'yes' if met else 'no'} |" for label, (text, met) in bars.items()]
    text = "\n".join(lines) + "\n"
    (out / "trial_report.md").write_text(text)
    print(text, end="")


if __name__ == "__main__":
    main()
