"""scripts/train_onset_head.py --head-from: the same trained head in front of another generator."""

import json

import pytest
import torch

from tests.conftest import load_script


def test_head_from_puts_the_same_head_before_another_generator_and_keeps_its_record(monkeypatch, tmp_path):
    from egosonics.loading import load_pipeline
    from egosonics.pipeline import EgoSonicsPipeline

    script = load_script("train_onset_head", monkeypatch)
    source = EgoSonicsPipeline.from_preset("tiny-onset", seed=1)
    source.frame_encoder.register_to_config(threshold=0.81, inputs="globals")
    source.save_pretrained(tmp_path / "source")
    (tmp_path / "source" / "onset_head.json").write_text(json.dumps({"fit": {"clips": 3}, "terms": "t"}))
    EgoSonicsPipeline.from_preset("tiny-motion-power", seed=2).save_pretrained(tmp_path / "generator")

    script.attach_head(str(tmp_path / "generator"), str(tmp_path / "source"), tmp_path / "out")

    out = load_pipeline(tmp_path / "out")
    generator = load_pipeline(tmp_path / "generator")
    assert out.config.preset == "tiny-onset-power" and out.frame_encoder.config.threshold == 0.81
    for (name, a), (_, b) in zip(source.frame_encoder.state_dict().items(),
                                 out.frame_encoder.state_dict().items(), strict=True):
        assert torch.equal(a, b), name
    for (name, a), (_, b) in zip(generator.syncronet.state_dict().items(), out.syncronet.state_dict().items(),
                                 strict=True):
        assert torch.equal(a, b), name
    record = json.loads((tmp_path / "out" / "onset_head.json").read_text())
    assert record["terms"] == "t" and record["head_from"] == str(tmp_path / "source")

    other = EgoSonicsPipeline.from_preset("tiny-onset", seed=1)
    other.frame_encoder = type(other.frame_encoder)(flow_scale=0.05)  # the same size, another scale of motion
    other.save_pretrained(tmp_path / "other")
    (tmp_path / "other" / "onset_head.json").write_text(json.dumps({"fit": {"clips": 3}}))
    with pytest.raises(SystemExit, match="its motion settings differ"):
        script.attach_head(str(tmp_path / "generator"), str(tmp_path / "other"), tmp_path / "out3")

    (tmp_path / "source" / "onset_head.json").unlink()
    with pytest.raises(SystemExit, match=r"source: not a tiny-onset model with the onset_head\.json"):
        script.attach_head(str(tmp_path / "generator"), str(tmp_path / "source"), tmp_path / "out2")


def test_the_head_options_offer_the_encoders_settings(monkeypatch):
    import argparse

    from egosonics.models.frame_encoder import ONSET_HEAD_INPUTS, ONSET_TRACKS

    parser = argparse.ArgumentParser()
    load_script("train_onset_head", monkeypatch).add_head_options(parser)
    choices = {action.dest: tuple(action.choices) for action in parser._actions if action.choices}
    assert choices == {"track": ONSET_TRACKS, "inputs": ONSET_HEAD_INPUTS}


def test_scene_events_as_onsets_need_scenes(monkeypatch, tmp_path):
    script = load_script("train_onset_head", monkeypatch)
    monkeypatch.setattr("sys.argv", ["train_onset_head.py", "--model", str(tmp_path / "m"), "--out",
                                     str(tmp_path / "o"), "--scene-onsets", "events"])
    with pytest.raises(SystemExit, match="--scene-onsets events needs --synth FOLDER"):
        script.main()
    assert not (tmp_path / "o").exists()


def test_scene_events_as_onsets_refuse_a_scene_without_its_timeline_before_any_work(monkeypatch, tmp_path):
    script = load_script("train_onset_head", monkeypatch)
    scenes = tmp_path / "scenes"
    scenes.mkdir()
    (scenes / "scene-0.mp4").write_bytes(b"")
    (scenes / "scene-0.json").write_text("{}")
    (scenes / "scene-1.mp4").write_bytes(b"")  # no scene-1.json
    monkeypatch.setattr(script, "real_clips", lambda holdout: pytest.fail("clips read before the check"))
    monkeypatch.setattr(script, "clip_features", lambda path: pytest.fail("features read before the check"))
    monkeypatch.setattr("sys.argv", ["train_onset_head.py", "--model", str(tmp_path / "m"), "--out",
                                     str(tmp_path / "o"), "--synth", str(scenes), "--synth-only",
                                     "--scene-onsets", "events"])
    with pytest.raises(SystemExit, match=r"scene-1\.json: no timeline JSON beside the scene"):
        script.main()
    assert not (tmp_path / "o").exists()
