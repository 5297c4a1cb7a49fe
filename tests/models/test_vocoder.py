"""The learned vocoder: shapes, save → load, strict loading errors, the --vocoder choice, training and resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from safetensors.torch import load_file

from egosonics.cli import main
from egosonics.errors import EgoSonicsError
from egosonics.loading import load_pipeline, load_vocoder, resolve_vocoder
from egosonics.media.audio import write_audio
from egosonics.models.vocoder import FourierVocoder
from egosonics.spectrogram.params import DEFAULT_PARAMS, SpectrogramParams
from egosonics.spectrogram.transform import stft_magnitude
from egosonics.training.config import TrainConfig
from egosonics.training.trainer import train
from egosonics.training.vocoder import collect_sources, licence_accepted, vocoder_loss

TINY = {"dim": 16, "hidden_dim": 32, "num_layers": 1}
HOP = DEFAULT_PARAMS.hop_length


def tiny_vocoder(seed: int = 0, **kwargs) -> FourierVocoder:
    torch.manual_seed(seed)
    return FourierVocoder(**{**TINY, **kwargs}).eval()


def test_shapes_and_identity_magnitude_at_start():
    vocoder = tiny_vocoder()
    n = 8 * HOP
    wave = torch.randn(2, n) * 0.1
    magnitude = stft_magnitude(wave, DEFAULT_PARAMS)  # [2, 1024, 8]
    assert magnitude.shape == (2, 1024, 8)
    with torch.no_grad():
        out = vocoder(magnitude, n)
        spec = vocoder.spectrum(magnitude, n)
        refined = vocoder(magnitude, n, refine_iters=2)
    assert out.shape == refined.shape == (2, n)
    assert torch.isfinite(out).all() and not torch.equal(out, refined)
    assert spec.shape == (2, 1025, 9)  # 1 + ceil(n / hop) frames
    # the magnitude correction starts at zero: the input magnitude passes through (Nyquist row zero)
    assert torch.allclose(spec.abs()[:, :1024, :8], magnitude, rtol=1e-4, atol=1e-4)
    assert spec.abs()[:, 1024].max() == 0


def test_a_full_window_and_gradients_reach_every_weight():
    vocoder = tiny_vocoder().train()
    magnitude = torch.rand(1, 1024, 430)
    out = vocoder(magnitude, 220_500)
    assert out.shape == (1, 220_500)
    crop = torch.randn(2, 16 * HOP) * 0.1
    loss = vocoder_loss(vocoder(stft_magnitude(crop), crop.shape[-1]), crop, sample_rate=DEFAULT_PARAMS.sample_rate)
    loss.backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in vocoder.parameters())
    silent = torch.zeros(1, 16 * HOP)  # exactly silent crops must not give NaN gradients
    vocoder.zero_grad()
    vocoder_loss(vocoder(stft_magnitude(silent), silent.shape[-1]), silent, sample_rate=22_050).backward()
    assert all(torch.isfinite(p.grad).all() for p in vocoder.parameters() if p.grad is not None)


def test_save_load_round_trip(tmp_path):
    vocoder = tiny_vocoder(seed=3)
    with torch.no_grad():  # make the heads non-trivial
        vocoder.magnitude_head.weight.normal_(0, 0.01)
    vocoder.save_pretrained(tmp_path / "vocoder")
    loaded = load_vocoder(tmp_path / "vocoder", DEFAULT_PARAMS)
    assert {k: v for k, v in loaded.config.items() if not k.startswith("_")} == \
        {k: v for k, v in vocoder.config.items() if not k.startswith("_")}
    magnitude = torch.rand(1, 1024, 6)
    with torch.no_grad():
        assert torch.equal(loaded(magnitude, 6 * HOP), vocoder(magnitude, 6 * HOP))


def test_mismatched_or_missing_files_are_one_line_errors_naming_the_file(tmp_path):
    folder = tmp_path / "vocoder"
    tiny_vocoder().save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    (folder / "config.json").write_text(json.dumps({**config, "dim": 24}))
    with pytest.raises(EgoSonicsError) as err:
        load_vocoder(folder)
    assert "diffusion_pytorch_model.safetensors" in str(err.value) and "\n" not in str(err.value)
    (folder / "config.json").write_text(json.dumps(config))
    other = SpectrogramParams(n_fft=1024, num_bins=512, hop_length=256)
    with pytest.raises(EgoSonicsError, match=r"config.json: vocoder made for another spectrogram"):
        load_vocoder(folder, other)
    (folder / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(EgoSonicsError, match=r"diffusion_pytorch_model.safetensors: missing"):
        load_vocoder(folder)


def test_resolve_vocoder_choices(tmp_path):
    assert resolve_vocoder(tmp_path) is None  # no vocoder/: Griffin-Lim
    with pytest.raises(EgoSonicsError, match=rf"{tmp_path / 'vocoder'}: missing; --vocoder learned"):
        resolve_vocoder(tmp_path, "learned")
    tiny_vocoder().save_pretrained(tmp_path / "vocoder")
    assert isinstance(resolve_vocoder(tmp_path), FourierVocoder)
    assert isinstance(resolve_vocoder(tmp_path, "learned"), FourierVocoder)
    assert resolve_vocoder(tmp_path, "griffin-lim") is None


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    from egosonics.pipeline import EgoSonicsPipeline

    folder = tmp_path_factory.mktemp("model") / "tiny"
    EgoSonicsPipeline.from_preset("tiny").save_pretrained(folder)
    return folder


def test_the_vocoder_choice_reaches_the_pipeline(tiny_model, tmp_path):
    folder = tmp_path / "model"
    import shutil

    shutil.copytree(tiny_model, folder)
    assert load_pipeline(folder).vocoder is None
    tiny_vocoder().save_pretrained(folder / "vocoder")
    pipe = load_pipeline(folder)
    assert isinstance(pipe.vocoder, FourierVocoder)
    assert load_pipeline(folder, vocoder="griffin-lim").vocoder is None
    calls = []
    pipe.vocoder.register_forward_hook(lambda module, args, out: calls.append(out.shape))
    ev = torch.zeros(1, 300, pipe.frame_encoder.embedding_dim)
    out = pipe(video_embedding=ev, num_inference_steps=1, guidance_scale=1.0,
               generator=torch.Generator().manual_seed(0))
    assert calls == [(1, pipe.clip_spec.num_samples)]
    assert out.waveforms.shape == (1, pipe.clip_spec.num_samples)


def test_cli_vocoder_errors_are_one_line(tiny_model, av_clip, tmp_path, capsys):
    code = main(["resynth", str(av_clip), "-o", str(tmp_path / "out.mp4"), "--model", str(tiny_model),
                 "--vocoder", "learned"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert f"{tiny_model / 'vocoder'}: missing" in err
    assert not (tmp_path / "out.mp4").exists()
    broken = tmp_path / "broken"
    tiny_vocoder().save_pretrained(broken / "vocoder")
    (broken / "vocoder" / "diffusion_pytorch_model.safetensors").write_bytes(b"not safetensors")
    code = main(["resynth", str(av_clip), "-o", str(tmp_path / "out.mp4"), "--model", str(broken)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert "diffusion_pytorch_model.safetensors: not a readable safetensors file" in err
    assert not (tmp_path / "out.mp4").exists()


def test_resynth_with_a_learned_vocoder(av_clip, tmp_path, capsys):
    model = tmp_path / "model"
    tiny_vocoder().save_pretrained(model / "vocoder")
    code = main(["resynth", str(av_clip), "-o", str(tmp_path / "out.mp4"), "--model", str(model)])
    assert code == 0, capsys.readouterr().err
    assert (tmp_path / "out.mp4").is_file()


# ------------------------------------------------------------------------------------------------------------ training
def test_licence_filter():
    assert licence_accepted("CC0 1.0") and licence_accepted("CC BY 3.0") and licence_accepted("CC-BY 4.0")
    for bad in ("CC BY-SA 3.0", "CC BY-NC 4.0", "GPL-2+", "", "research footage"):
        assert not licence_accepted(bad), bad


def _audio_folders(root: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    sfx, research = root / "sfx", root / "research"
    for folder in (sfx, research):
        folder.mkdir(parents=True)
    for i, name in enumerate(("a.wav", "b.wav", "c.wav")):
        write_audio(sfx / name, (0.1 * rng.standard_normal(6000 + 1000 * i)).astype(np.float32), 22_050)
    (sfx / "SOURCES.md").write_text(
        "| file | license | author / upstream |\n|---|---|---|\n"
        "| `a.wav` | CC0 1.0 | someone |\n| `b.wav` | CC BY 3.0 | Jane (freesound 1) |\n"
        "| `c.wav` | CC BY-SA 3.0 | x |\n")
    for name in ("r1.wav", "r2.wav"):
        write_audio(research / name, (0.1 * rng.standard_normal(9000)).astype(np.float32), 22_050)
    (research / "SOURCES.md").write_text(
        "| file | source repo (GitHub) | license / provenance |\n|---|---|---|\n"
        "| `r1.wav` | org/train | research use |\n| `r2.wav` | org/heldout | research use |\n")
    return sfx, research


def test_sources_filter_licences_and_hold_out_by_source(tmp_path):
    sfx, research = _audio_folders(tmp_path)
    train_files, heldout = collect_sources(f"{sfx},research:{research}", ["org/heldout"])
    assert sorted(Path(s.path).name for s in train_files) == ["a.wav", "b.wav", "r1.wav"]
    assert [Path(s.path).name for s in heldout] == ["r2.wav"]
    assert next(s for s in train_files if s.path.endswith("b.wav")).author == "Jane (freesound 1)"


def test_train_vocoder_and_resume_exactly(tmp_path):
    sfx, research = _audio_folders(tmp_path)

    def config(name: str, steps: int) -> TrainConfig:
        return TrainConfig(component="vocoder", data=f"{sfx},research:{research}", output_dir=str(tmp_path / name),
                           holdout_sources=["org/heldout"], crop_samples=8 * HOP, batch_size=2, max_steps=steps,
                           checkpointing_steps=2, log_every=1, vocoder=TINY)

    final = train(config("whole", 3))
    record = json.loads((final / "training_data.json").read_text())
    assert record["terms"].startswith("non-commercial research")
    assert [Path(h["path"]).name for h in record["heldout"]] == ["r2.wav"]
    vocoder = load_vocoder(final, DEFAULT_PARAMS)
    assert vocoder.config.dim == TINY["dim"]
    train(config("broken", 2))  # stops after step 2 (a checkpoint), then resumes to 3
    assert (tmp_path / "broken" / "checkpoint-2" / "vocoder" / "config.json").is_file()
    resumed = train(config("broken", 3))
    whole = load_file(final / "diffusion_pytorch_model.safetensors")
    again = load_file(resumed / "diffusion_pytorch_model.safetensors")
    assert whole.keys() == again.keys()
    assert all(torch.equal(whole[k], again[k]) for k in whole)
    first = load_file(tmp_path / "broken" / "checkpoint-2" / "vocoder" / "diffusion_pytorch_model.safetensors")
    assert not all(torch.equal(first[k], again[k]) for k in first)  # the resumed step trained


def test_train_vocoder_config_from_yaml(tmp_path):
    from egosonics.training.config import load_config

    path = tmp_path / "v.yaml"
    path.write_text(yaml.safe_dump({"component": "vocoder", "data": "x", "output_dir": "y",
                                    "holdout_sources": ["a/b"], "vocoder": {"dim": 8}}))
    config = load_config(path)
    assert config.learning_rate == 1e-3 and config.holdout_sources == ["a/b"] and config.vocoder == {"dim": 8}


@pytest.mark.parametrize("argv", [["generate", "x.mp4", "-o", "y.mp4"], ["resynth", "x.mp4", "-o", "y.mp4"],
                                  ["app"], ["demo"]])
def test_every_sound_making_command_has_the_vocoder_option(argv):
    from egosonics.cli import build_parser

    parser = build_parser()
    assert parser.parse_args(argv).vocoder is None  # default: learned when the model folder has one
    assert parser.parse_args([*argv, "--vocoder", "learned"]).vocoder == "learned"
    assert parser.parse_args([*argv, "--vocoder", "griffin-lim"]).vocoder == "griffin-lim"
    with pytest.raises(SystemExit):
        parser.parse_args([*argv, "--vocoder", "hifigan"])


def test_griffin_lim_starts_from_given_phases():
    from egosonics.spectrogram.griffin_lim import griffin_lim, pad_to_stft_grid
    from egosonics.spectrogram.transform import stft

    n = 16 * HOP
    wave = torch.randn(n) * 0.1
    magnitude = stft_magnitude(wave, DEFAULT_PARAMS)
    true_phase = torch.sgn(stft(wave, DEFAULT_PARAMS))  # [1025, 17]
    assert true_phase.shape == pad_to_stft_grid(magnitude, n, DEFAULT_PARAMS).shape
    from_truth = griffin_lim(magnitude, n, n_iter=1, momentum=0.0, init=true_phase)
    from_random = griffin_lim(magnitude, n, n_iter=1, momentum=0.0, generator=torch.Generator().manual_seed(0))
    error = lambda w: float((stft_magnitude(w, DEFAULT_PARAMS) - magnitude).norm() / magnitude.norm())  # noqa: E731
    assert error(from_truth) < 0.05 < error(from_random)
    with pytest.raises(ValueError, match="init phases must be complex"):
        griffin_lim(magnitude, n, init=true_phase[:, :5])


def test_decode_windows_uses_the_given_vocoder():
    from egosonics.spectrogram.codec import decode_windows, encode_windows

    audio = (np.random.default_rng(0).standard_normal(22_050) * 0.1).astype(np.float32)
    images = encode_windows(audio)
    vocoder = tiny_vocoder()
    calls = []
    vocoder.register_forward_hook(lambda module, args, out: calls.append(tuple(out.shape)))
    out = decode_windows(images, len(audio), vocoder=vocoder)
    assert calls == [(1, 220_500)] and out.shape == (22_050,)
    assert not np.array_equal(out, decode_windows(images, len(audio)))


def test_demo_with_a_missing_vocoder_writes_nothing(tiny_model, tmp_path, capsys):
    out = tmp_path / "demo"
    code = main(["-q", "demo", "--out", str(out), "--model", str(tiny_model), "--vocoder", "learned"])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1 and "vocoder: missing" in err, err
    assert not out.exists()


def test_train_vocoder_starts_from_init_model(tmp_path):
    sfx, _ = _audio_folders(tmp_path)
    start = tiny_vocoder(seed=5)
    start.save_pretrained(tmp_path / "model" / "vocoder")
    config = TrainConfig(component="vocoder", data=str(sfx), output_dir=str(tmp_path / "run"),
                         init_model=str(tmp_path / "model"), crop_samples=8 * HOP, batch_size=2, max_steps=1,
                         checkpointing_steps=1, log_every=1)
    final = load_vocoder(train(config))
    assert final.config.dim == TINY["dim"]  # the architecture of the init model, not the default
    before, after = start.state_dict(), final.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)
    assert max(float((before[k] - after[k]).abs().max()) for k in before) < 0.01  # one Adam step from it


def test_an_untrained_gradient_vocoder_is_the_phase_gradient_retrieval():
    from egosonics.spectrogram.griffin_lim import pad_to_stft_grid
    from egosonics.spectrogram.phase_gradient import phase_from_magnitude
    from egosonics.spectrogram.transform import istft

    vocoder = tiny_vocoder(phase="gradient", predict_magnitude=False)
    n = 40 * HOP
    t = torch.arange(n) / DEFAULT_PARAMS.sample_rate
    wave = torch.sin(2 * torch.pi * 440 * t) * torch.exp(-3 * t)  # a decaying tone
    magnitude = stft_magnitude(wave[None], DEFAULT_PARAMS)
    full = pad_to_stft_grid(magnitude, n, DEFAULT_PARAMS)
    expected = istft(full * phase_from_magnitude(full, DEFAULT_PARAMS), DEFAULT_PARAMS, n)
    with torch.no_grad():
        assert torch.allclose(vocoder(magnitude, n), expected, atol=1e-5)


def test_gradient_vocoder_trains_through_its_griffin_lim_steps_and_round_trips(tmp_path):
    vocoder = tiny_vocoder(phase="gradient", predict_magnitude=False, refine_iters=2).train()
    crop = torch.randn(2, 16 * HOP) * 0.1
    loss = vocoder_loss(vocoder(stft_magnitude(crop), crop.shape[-1]), crop, sample_rate=DEFAULT_PARAMS.sample_rate)
    loss.backward()
    grad = vocoder.phase_head.weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0
    with torch.no_grad():
        vocoder.phase_head.weight.normal_(0, 0.01)
    vocoder.eval().save_pretrained(tmp_path / "vocoder")
    loaded = load_vocoder(tmp_path / "vocoder", DEFAULT_PARAMS)
    assert loaded.config.phase == "gradient" and loaded.config.refine_iters == 2
    magnitude = torch.rand(1, 1024, 6)
    with torch.no_grad():
        assert torch.equal(loaded(magnitude, 6 * HOP), vocoder(magnitude, 6 * HOP))
    with pytest.raises(ValueError, match="unknown phase mode 'angle'"):
        FourierVocoder(phase="angle")


def test_the_griffin_lim_start_reaches_the_pipeline(tiny_model, monkeypatch):
    import argparse

    import egosonics.pipeline as pipeline_module
    from egosonics.options import add_sampling_options, generate_options
    from egosonics.spectrogram.griffin_lim import griffin_lim

    starts = []

    def spy(*args, **kwargs):
        starts.append(kwargs.get("init"))
        return griffin_lim(*args, **kwargs)

    monkeypatch.setattr(pipeline_module, "griffin_lim", spy)
    parser = argparse.ArgumentParser()
    add_sampling_options(parser)
    assert generate_options(parser.parse_args([])).griffin_lim_init == "random"  # the paper's, by default
    options = generate_options(parser.parse_args(["--gl-init", "phase-gradient", "--gl-iters", "2"]))
    pipe = load_pipeline(tiny_model)
    ev = torch.zeros(1, 300, pipe.frame_encoder.embedding_dim)
    out = pipe(video_embedding=ev, num_inference_steps=1, guidance_scale=1.0, griffin_lim_iters=2,
               griffin_lim_init=options.griffin_lim_init, generator=torch.Generator().manual_seed(0))
    assert starts == ["phase-gradient"] and torch.isfinite(out.waveforms).all()
    with pytest.raises(EgoSonicsError, match="griffin_lim_init must be one of"):
        type(options)(griffin_lim_init="zeros")
