"""scripts/model_card.py: outputs keyed by the model's sha256 (another model's outputs are refused, or removed and
redone), and the card's tables rendered from the metrics JSON alone. Small scale: two tiny random models, no
generation."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
from pathlib import Path

import pytest

from egosonics.pipeline import EgoSonicsPipeline
from tests.conftest import REPO

_spec = importlib.util.spec_from_file_location("model_card", REPO / "scripts" / "model_card.py")
card = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(card)  # type: ignore[union-attr]

SETTINGS = {"n": 2, "n_single": 6, "steps": 2, "guidance": 3.0, "seed": 0, "scene_seed": 2, "fit_seed": 4,
            "test_seed": 3, "difficulty": "easy", "real_clips": None}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two tiny random models that differ only in their weights."""
    root = tmp_path_factory.mktemp("models")
    for seed in (0, 1):
        EgoSonicsPipeline.from_preset("tiny", seed=seed).save_pretrained(root / f"m{seed}")
    return root / "m0", root / "m1"


def stamp(model: Path, **settings) -> dict:
    return {**card.model_digest(model), "settings": {**SETTINGS, **settings}}


def test_the_key_is_the_sha256_of_the_weights_and_configs(models, tmp_path: Path) -> None:
    a, b = models
    da, db = card.model_digest(a), card.model_digest(b)
    assert da["model_sha256"] != db["model_sha256"]
    weights = "unet/diffusion_pytorch_model.safetensors"
    assert da["model_files"][weights] == card.sha256_file(a / weights) != db["model_files"][weights]
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    (copy / "MODEL_CARD.md").write_text("notes are not the model")
    assert card.model_digest(copy) == da  # the same files wherever they are
    data = bytearray((copy / weights).read_bytes())
    data[-1] ^= 1  # one bit of one weight
    (copy / weights).write_bytes(bytes(data))
    assert card.model_digest(copy)["model_sha256"] != da["model_sha256"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(card.CardError, match=r"no \*\.safetensors weights"):
        card.model_digest(tmp_path / "empty")


def test_outputs_of_another_model_are_refused_or_redone(models, tmp_path: Path) -> None:
    a, b = models
    out = tmp_path / "eval"
    sa, sb = stamp(a), stamp(b)
    folder_a = card.claim(card.run_folder(out, sa), sa, redo=False)
    (folder_a / "pred").mkdir()
    (folder_a / "pred" / "scene-2-00000.egosonics.mp4").write_bytes(b"model a's audio")
    # Each model has its own folder; the same model and settings reuse theirs (an interrupted run resumes).
    assert card.run_folder(out, sb) != folder_a
    assert card.claim(card.run_folder(out, sa), sa, redo=False) == folder_a
    assert (folder_a / "pred" / "scene-2-00000.egosonics.mp4").read_bytes() == b"model a's audio"
    # Model a's outputs where model b's belong (copied, or written by an older version of the script): refused.
    stale = card.run_folder(out, sb)
    shutil.copytree(folder_a, stale)
    with pytest.raises(card.CardError, match=rf"holds the outputs of another model \(sha256 "
                                             rf"{sa['model_sha256'][:12]}\.\.\., this one {sb['model_sha256'][:12]}"):
        card.claim(stale, sb, redo=False)
    assert (stale / "pred" / "scene-2-00000.egosonics.mp4").exists()  # refused: nothing removed
    # --redo: removed and stamped for model b.
    assert card.claim(stale, sb, redo=True) == stale
    assert not (stale / "pred").exists() and json.loads((stale / card.STAMP).read_text()) == sb
    # Other settings, or no stamp at all, are refused too.
    other = stamp(a, steps=20)
    shutil.copytree(folder_a, card.run_folder(out, other))
    with pytest.raises(card.CardError, match=r"made with other settings \(steps\)"):
        card.claim(card.run_folder(out, other), other, redo=False)
    (folder_a / card.STAMP).unlink()
    with pytest.raises(card.CardError, match=r"without a readable stamp\.json"):
        card.claim(folder_a, sa, redo=False)


def test_the_script_refuses_stale_outputs_in_one_line_before_any_work(models, tmp_path: Path, capsys) -> None:
    a, b = models
    out = tmp_path / "eval"
    args = ["--n", "2", "--n-single", "12", "--steps", "2", "--real-clips", "none", "--out", str(out)]
    settings, _ = card.run_settings(card.parse_args(args), a)
    assert {k: settings[k] for k in SETTINGS} == {**SETTINGS, "n_single": 12}
    sa, sb = {**card.model_digest(a), "settings": settings}, {**card.model_digest(b), "settings": settings}
    card.claim(card.run_folder(out, sa), sa, redo=False)
    shutil.copytree(card.run_folder(out, sa), card.run_folder(out, sb))
    assert card.main(["--model", str(b), *args]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("model_card.py: error: ") and "another model" in err[0], err
    assert not (out / "scenes").exists()  # refused before synthesizing or generating anything
    # Too few single-event clips for the classifier (two of each class): refused before any work too.
    assert card.main(["--model", str(a), *args[:2], "--n-single", "6", *args[4:]]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["model_card.py: error: --n-single 6: the classifier needs at least two clips of each of the 6 "
                   "easy classes (12 or more)"], err
    assert not (out / "scenes").exists()  # refused before synthesizing or generating anything


def metrics(model: Path) -> dict:
    """A metrics JSON as the script writes it (made-up numbers: the test checks the rendering, not a model)."""
    def row(system: str, f1: float, hit: float, av: float, off: float) -> dict:
        return {"system": system, "n": 2, "onset F1 (events)": f1, "hit acc (events)": hit, "AV-Align": av,
                "|offset| vs GT audio (frames)": off, "FD log-mel": 12.5, "LSD": 0.7}

    clips = [{"clip": "single-3-00000", "class": "impact", "generated": "footsteps", "ground_truth": "impact"},
             {"clip": "single-3-00001", "class": "impact", "generated": "chop", "ground_truth": "impact"},
             {"clip": "single-3-00002", "class": "saw", "generated": "saw", "ground_truth": "saw"},
             {"clip": "single-3-00003", "class": "saw", "generated": "saw", "ground_truth": "chop"}]
    return {**card.model_digest(model), "model": str(model), "settings": {**SETTINGS, "real_clips": ["/A", "/B"]},
            "table": [row("ours", 0.974, 0.966, 0.089, 0.82), row("ours", 0.974, 0.966, 0.089, 0.82) | {
                "system": "other-clip E_V", "onset F1 (events)": 0.094}, row("ground-truth", 1.0, 1.0, 0.095, 0.0)],
            "classification": {"n": len(clips), "classifier": card.METHOD,
                               "classes": ["chop", "footsteps", "impact", "saw"], "clips": clips,
                               **card.class_summary(clips)},
            "real": real_section(), "generation_s": 60.0, "total_s": 600.0}


# Crafted real-clip counts (hits, estimated onsets, best lag in s) per clip and system: ours hits half of every clip's
# onsets (pooled F1 0.5, 3 of 4 lags within 0.1 s); another clip's audio 2 of 12 (F1 2 / 12), no lag in sync; the
# click track 2 hits of 7 for 12 onsets (F1 4 / 19).
REAL_CLIPS = {"c1": ("A", 4, {"ours": (2, 4, 0.0), "other-clip": (1, 4, 1.0), "click-stops": (1, 2, 0.5)}),
              "c2": ("A", 2, {"ours": (1, 2, 0.05), "other-clip": (0, 3, None), "click-stops": (1, 2, 0.0)}),
              "c3": ("B", 4, {"ours": (2, 4, -1.5), "other-clip": (1, 3, 0.3), "click-stops": (0, 2, 1.2)}),
              "c4": ("B", 2, {"ours": (1, 2, 0.0), "other-clip": (0, 2, -0.7), "click-stops": (0, 1, 0.6)})}


def real_section(lag: float | None = None) -> dict:
    """The "real" block of the metrics JSON as model_card.py builds it from real_clips_eval.score (``lag``: every lag
    of ours replaced)."""
    from dataclasses import asdict

    from egosonics.evaluation.sync.pooled import PooledConfig, restrict

    clips = [{"clip_id": clip, "n_reference": n_ref,
              **{system: {"hits": h, "n_estimated": e, "lag_s": lag if lag is not None and system == "ours" else l}
                 for system, (h, e, l) in systems.items()}} for clip, (_, n_ref, systems) in REAL_CLIPS.items()]
    section = {"config": asdict(PooledConfig(bootstrap=200)), "systems": dict.fromkeys(sorted(REAL_CLIPS["c1"][2])),
               "clips": clips}
    owner = {clip: folder for clip, (folder, _, _) in REAL_CLIPS.items()}
    parts = {"all": restrict(section, set(owner))}
    parts |= {folder: restrict(section, {c for c, f in owner.items() if f == folder}) for folder in ("A", "B")}
    return {"clips": owner, "parts": parts, "table": [{"system": "ours", "n": 4, "onset F1 (events)": 0.101}]}


def test_the_tables_are_rendered_from_the_json(models) -> None:
    m = json.loads(json.dumps(metrics(models[0])))  # exactly what a reader of the file gets
    text = card.render(m)
    assert f"Model sha256 `{m['model_sha256']}`" in text
    assert "seed 0, the written audio divided by its peak where that exceeded full scale (before the limiter)" in text
    assert "the written audio limited where it exceeds full scale, in 10.0 min" in card.render(
        {**m, "settings": {**m["settings"], "limiter": "whole soundtrack, hold 256"}})
    assert "| ours | 2 | 0.974 | 0.966 |" in text and "| other-clip E_V | 2 | 0.094 |" in text
    assert "| \\|offset\\| vs GT audio (frames) |" in text  # a bar in a label must not split its column
    for block in text.split("\n\n"):
        rows = [line for line in block.splitlines() if line.startswith("|")]
        assert len({len(re.split(r"(?<!\\)\|", row)) for row in rows}) <= 1, block  # same columns in every row
    # The per-class breakdown, counted from the per-clip rows.
    assert m["classification"]["per_class"]["impact"] == {"n": 2, "generated_correct": 0, "ground_truth_correct": 2,
                                                          "heard_as": {"chop": 1, "footsteps": 1}}
    assert "| impact | 2 | 0/2 | chop 1, footsteps 1 | 2/2 |" in text
    assert "| saw | 2 | 2/2 | — | 1/2 |" in text
    assert "generated 0.50, ground truth itself 0.75" in text
    assert f"({card.METHOD}, fitted on ground truth, seed 4; tested on seed 3, n = 4)" in text
    assert card.METHOD == "LDA, Ledoit-Wolf shrinkage, on event_features"
    del m["classification"]["classifier"]  # a card measured before the classifier was named: the centroid's
    assert "(nearest centroid on logmel_stats, fitted on ground truth" in card.render(m)
    m["classification"]["classifier"] = card.METHOD
    # The bars, judged from the numbers.
    assert "| onset F1 (±50 ms) ≥ 0.6 | 0.974 | met |" in text
    assert "| AV-Align within 10 % of ground truth's | 0.089 vs 0.095 (-6.3%) | met |" in text
    assert "| class of single-event audio ≥ 70 % | 0.50 (2 of 4; ground truth itself 0.75) | NOT met |" in text
    assert "| E_V of another clip halves onset F1 | 0.974 → 0.094 | met |" in text
    # Real clips: the pooled tables (all clips, then per folder), the bars judged from them, the per-clip means.
    assert "Real clips (`/A`, `/B`; 4 clips, never seen in training)" in text
    assert "### all (4 clips)" in text and "### A (2 clips)" in text and "### B (2 clips)" in text
    assert "| ours | 0.500 | 0.500 | 0.500 | 6 / 12 / 12 | 0.750 |" in text
    assert text.index("| ours | 0.500") < text.index("| click-stops | 0.211")  # ours first, whatever the order
    part_a = m["real"]["parts"]["A"]["systems"]  # recomputed over clips c1 and c2 alone
    assert (part_a["click-stops"]["hits"], part_a["click-stops"]["n_estimated"], part_a["click-stops"]["n_reference"],
            part_a["click-stops"]["lag_share"]) == (2, 4, 6, 0.5)
    assert "| other-clip | 0.167 | 0.167 | 0.167 | 2 / 12 / 12 | 0.000 | (chance) |" in text
    assert "| click-stops | 0.211 | 0.286 | 0.167 | 2 / 7 / 12 | 0.250 |" in text
    assert "| pooled onset F1 ≥ 1.5 × chance (another clip's audio) | 0.500 vs 0.167 (3.00 ×) | met |" in text
    assert "| pooled onset F1 above the click track at motion stops | 0.500 vs 0.211 | met |" in text
    assert re.search(r"\| 95 % interval of \(ours − chance\) above 0 \| \+0\.333 \[\+0\.\d+, \+0\.\d+\] \| met \|",
                     text)  # ours beats chance on every clip: every resample is above 0
    assert "| best lag within ±0.1 s on ≥ 25 % of clips | 0.750 (3 of 4; chance 0.000) | met |" in text
    assert "| ours | 4 | 0.101 |" in text
    m["real"] = json.loads(json.dumps(real_section(lag=1.0)))
    assert "| best lag within ±0.1 s on ≥ 25 % of clips | 0.000 (0 of 4; chance 0.000) | NOT met |" in card.render(m)
    # Another number in the JSON, another table.
    m["table"][0]["onset F1 (events)"] = 0.5
    assert "| onset F1 (±50 ms) ≥ 0.6 | 0.500 | NOT met |" in card.render(m)
    assert "| E_V of another clip halves onset F1 | 0.500 → 0.094 | met |" in card.render(m)
    assert "Held-out synthesized scenes (easy, seed 2, n = 2):" in text and "impacts heard as" not in text
    # Realistic scenes are held to issue 12's bars, impacts included.
    m["settings"]["difficulty"] = "realistic"
    m["table"][0]["onset F1 (events)"] = 0.81
    text = card.render(m)
    assert "Held-out synthesized scenes (realistic, seed 2, n = 2):" in text
    assert "Against the bars of issue 12 for realistic scenes" in text
    assert "| onset F1 (±50 ms) ≥ 0.8 | 0.810 | met |" in text
    assert "| onset hit accuracy (±100 ms) ≥ 0.85 | 0.966 | met |" in text
    assert "| class of single-event audio ≥ 85 % | 0.50 (2 of 4; ground truth itself 0.75) | NOT met |" in text
    assert "| impacts heard as impacts ≥ 70 % | 0 of 2 | NOT met |" in text


def test_the_card_block_is_replaced_and_the_rest_kept(models, tmp_path: Path, capsys) -> None:
    path = tmp_path / "run" / card.METRICS_JSON
    path.parent.mkdir()
    path.write_text(json.dumps(metrics(models[0])))
    model_card = tmp_path / "MODEL_CARD.md"
    model_card.write_text(f"# A model\n\nProse above.\n\n{card.CARD_BEGIN}\nold typed numbers\n{card.CARD_END}\n\n"
                          "Prose below.\n")
    assert card.main(["--render", str(path), "--card", str(model_card)]) == 0
    text = model_card.read_text()
    assert "old typed numbers" not in text and card.render(json.loads(path.read_text())) in text
    assert text.startswith("# A model\n\nProse above.\n\n") and text.endswith(f"{card.CARD_END}\n\nProse below.\n")
    assert card.main(["--render", str(path), "--card", str(model_card)]) == 0
    assert model_card.read_text() == text  # rendering again changes nothing
    capsys.readouterr()
    bare = tmp_path / "BARE.md"
    bare.write_text("# no markers\n")
    assert card.main(["--render", str(path), "--card", str(bare)]) == 1
    assert "no generated block" in capsys.readouterr().err and bare.read_text() == "# no markers\n"


def test_the_shipped_card_has_a_block_for_the_generated_tables(tmp_path: Path) -> None:
    shipped = REPO / "src" / "egosonics" / "assets" / "default_model" / "MODEL_CARD.md"
    copy = tmp_path / "MODEL_CARD.md"
    shutil.copy(shipped, copy)
    card.update_card(copy, "GENERATED\n")
    before, after = shipped.read_text(), copy.read_text()
    assert f"{card.CARD_BEGIN}\n\nGENERATED\n\n{card.CARD_END}" in after
    assert after.split(card.CARD_BEGIN)[0] == before.split(card.CARD_BEGIN)[0]
    assert after.split(card.CARD_END)[1] == before.split(card.CARD_END)[1]


def test_the_waveform_stage_is_part_of_the_key(models, tmp_path: Path) -> None:
    a, _ = models
    args = ["--n", "2", "--real-clips", "none"]
    assert card.run_settings(card.parse_args(args), a)[0]["vocoder"] == "griffin-lim"  # no vocoder/ in the folder
    learned = tmp_path / "with_vocoder"
    shutil.copytree(a, learned)
    from egosonics.models.vocoder import FourierVocoder

    FourierVocoder(dim=8, hidden_dim=8, num_layers=1).save_pretrained(learned / "vocoder")
    by_default, _ = card.run_settings(card.parse_args(args), learned)
    chosen, _ = card.run_settings(card.parse_args([*args, "--vocoder", "griffin-lim"]), learned)
    assert by_default["vocoder"] == "learned" and chosen["vocoder"] == "griffin-lim"
    from egosonics.media.audio import LIMIT_HOLD

    assert str(LIMIT_HOLD) in by_default["limiter"]  # runs written before the limiter have no such key: not reused
    assert card.settings_key(by_default) != card.settings_key(chosen)
