"""``egosonics evaluate`` with weight-based metrics: the Alignment Score (--alignment-model), spectrogram FID
(--inception-weights) and the Melception protocol, from local files only; missing files fail before any work."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from egosonics.cli import build_parser
from egosonics.errors import EgoSonicsError
from egosonics.evaluation.evaluate import WeightBasedConfig, evaluate
from egosonics.evaluation.inception import FIDInceptionV3, Melception
from egosonics.media.audio import write_audio
from egosonics.media.video import write_video
from egosonics.models.alignment import HELDOUT_FILE, AudioVisualAlignmentClassifier
from tests.evaluation.synthetic import FPS, SR, click_track, irregular_events, jumping_square
from tests.evaluation.test_inception import calibrate

pytest.importorskip("librosa")

SECONDS = 2


@pytest.fixture
def no_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):
        raise AssertionError(f"tried to download: {args!r}")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(urllib.request, "urlopen", refuse)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two 2 s clips (ground truth as MP4, ours as WAV), a random tiny classifier, random Inception and Melception
    weight files and a statistics file."""
    root = tmp_path_factory.mktemp("weighted")
    (root / "gt").mkdir()
    (root / "pred").mkdir()
    for seed in range(2):
        events = irregular_events(seed, num_frames=SECONDS * FPS)
        frames = jumping_square(events, num_frames=SECONDS * FPS, height=48, width=64, size=12, jump=10, seed=seed)
        audio = click_track([e / FPS for e in events], SECONDS * SR, seed=seed)
        write_video(root / "gt" / f"clip{seed}.mp4", frames, FPS, audio=audio, sample_rate=SR)
        write_audio(root / "pred" / f"clip{seed}.wav", np.roll(audio, SR // 2), SR)
    torch.manual_seed(0)
    model = AudioVisualAlignmentClassifier.from_preset("tiny", input_size=(64, 64))
    model.save_pretrained(root / "alignment", safe_serialization=True)
    (root / "alignment" / HELDOUT_FILE).write_text(json.dumps({"accuracy": 0.75, "n_windows": 4}))
    inception = FIDInceptionV3()  # BatchNorm statistics from one batch: uncalibrated, every image gives one feature
    calibrate(inception, inception.features, torch.rand(3, 1, 64, 64))
    torch.save(inception.state_dict(), root / "pt_inception-2015-12-05-6726825d.pth")
    torch.save({"model": Melception(num_classes=5, aux_logits=False).state_dict()}, root / "melception.pt")
    np.savetxt(root / "stats.txt", np.stack([np.full(80, 0.4), np.full(80, 0.2)], axis=1))
    return {"root": root, "gt": root / "gt", "pred": root / "pred"}


def test_evaluate_with_weight_based_metrics(folders, tmp_path: Path, no_downloads: None) -> None:
    root = folders["root"]
    weights = WeightBasedConfig(alignment_model=str(root / "alignment"),
                                inception=str(root / "pt_inception-2015-12-05-6726825d.pth"),
                                melception=str(root / "melception.pt"), melception_stats=str(root / "stats.txt"),
                                fid_methods=("eigh",))
    threads = torch.get_num_threads()
    report = evaluate(folders["pred"], folders["gt"], tmp_path / "report", references=("ground-truth",),
                      weights=weights)
    assert torch.get_num_threads() == threads  # the caller's (--threads) count, left as it was
    ours, truth = report["systems"]["ours"], report["systems"]["ground-truth"]
    align = ours["alignment_score"]
    assert align["n"] == 2 and align["fps"] == [30, 15, 4] and align["classifier"]["accuracy"] == 0.75
    assert all(0 <= align[f"score_{r}fps"] <= 1 for r in (30, 15, 4))
    fid = ours["fid_spec_inception"]
    assert (fid["n_reference"], fid["n_generated"], fid["dim"], fid["fid_method"]) == (2, 2, 2048, "eigh")
    # Our audio is the ground truth shifted by 0.5 s: a distance above 0 (FD is clamped at 0, so "≥ 0" proved nothing;
    # with the uncalibrated network this fixture used before, it was 9e-16).
    assert len(fid["weights_sha256"]) == 64 and fid["fid"] > 1e-3
    assert truth["fid_spec_inception"]["fid"] == pytest.approx(0.0, abs=1e-6)  # ground truth against itself
    assert truth["melception"]["fid"] == pytest.approx(0.0, abs=1e-6)
    assert truth["melception"]["kl"] == pytest.approx(0.0, abs=1e-5) and ours["melception"]["n_pairs"] == 2
    row = next(r for r in report["table"] if r["system"] == "ours")
    assert row["Alignment Score"] == align["score_30fps"] and row["FID spec"] == fid["fid"]
    saved = json.loads((tmp_path / "report" / "report.json").read_text())
    assert saved["systems"]["ours"]["alignment_score"]["score_4fps"] == align["score_4fps"]
    assert "held-out accuracy: 0.750" in (tmp_path / "report" / "report.html").read_text()


@pytest.mark.parametrize("field, expected", [("inception", "pt_inception-2015-12-05-6726825d.pth"),
                                             ("alignment_model", "not an alignment classifier folder")])
def test_missing_weights_fail_before_any_clip(field, expected, folders, tmp_path: Path, no_downloads: None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    import egosonics.evaluation.sync.clip as clip_module

    monkeypatch.setattr(clip_module, "load_sync_clip", lambda *a, **k: pytest.fail("decoded a clip first"))
    missing = tmp_path / "not_there"
    with pytest.raises(EgoSonicsError, match=expected) as err:
        evaluate(folders["pred"], folders["gt"], tmp_path / "report", references=(),
                 weights=WeightBasedConfig(**{field: str(missing)}))
    assert str(missing) in str(err.value)
    with pytest.raises(EgoSonicsError, match="need both the weights"):
        evaluate(folders["pred"], folders["gt"], tmp_path / "report", weights=WeightBasedConfig(melception="x.pt"))


def test_cli_flags() -> None:
    args = build_parser().parse_args(["evaluate", "--pred", "p", "--gt", "g", "-o", "o", "--alignment-model", "m",
                                      "--inception-weights", "i.pth", "--melception-weights", "w.pt",
                                      "--melception-stats", "s.txt", "--clip-dir", "clip"])
    assert (args.alignment_model, args.inception_weights, args.melception_weights, args.melception_stats,
            args.clip_dir) == ("m", "i.pth", "w.pt", "s.txt", "clip")
    assert build_parser().parse_args(["train", "alignment", "--config", "c.yaml"]).component == "alignment"
