"""The tiny pipeline end to end on CPU with random weights: determinism, save/load, clear errors."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from egosonics.errors import EgoSonicsError
from egosonics.pipeline import EgoSonicsPipeline

STEPS = 3


@pytest.fixture(scope="module")
def pipe() -> EgoSonicsPipeline:
    pipe = EgoSonicsPipeline.from_preset("tiny", seed=0)
    pipe.set_progress_bar_config(disable=True)
    return pipe


@pytest.fixture(scope="module")
def frames() -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (1, 300, 64, 64, 3), dtype=torch.uint8, generator=g)


def run(pipe, frames, seed=0, **kwargs):
    return pipe(frames, num_inference_steps=STEPS, generator=torch.Generator().manual_seed(seed),
                griffin_lim_iters=4, **kwargs)


def test_output_shapes(pipe, frames):
    out = run(pipe, frames)
    assert out.waveforms.shape == (1, 220_500)
    assert out.spectrograms.shape == (1, 1024, 512)
    assert out.model_images.shape == (1, 32, 256)
    assert out.video_embeddings.shape == (1, 300, 512)
    assert torch.isfinite(out.waveforms).all()
    assert float(out.spectrograms.min()) >= 0 and float(out.spectrograms.max()) <= 1


def test_same_seed_same_waveform_other_seed_other_waveform(pipe, frames):
    a, b, c = run(pipe, frames, seed=1), run(pipe, frames, seed=1), run(pipe, frames, seed=2)
    assert torch.equal(a.waveforms, b.waveforms)
    assert not torch.equal(a.waveforms, c.waveforms)


def test_guidance_changes_the_result_and_1_disables_it(frames):
    """Guidance 1 (one UNet pass per step) equals the conditional half of the guided batch: guidance 1 + 1e-6 runs
    both branches and gives uncond + (1 + 1e-6)·(cond − uncond) ≈ cond. Guidance 3 moves away from it."""
    # Its own pipeline, not the module's shared one: the branches are made to differ here (a fresh Syncronet and
    # video→text MLP give the zero E_V of the unconditional branch and the real E_V nearly the same conditions).
    pipe = EgoSonicsPipeline.from_preset("tiny", seed=0)
    pipe.set_progress_bar_config(disable=True)
    g = torch.Generator().manual_seed(0)
    torch.nn.init.normal_(pipe.video_to_text.fc2.weight, generator=g, std=0.5)
    for param in pipe.syncronet.zero_convs.parameters():
        torch.nn.init.normal_(param, generator=g, std=0.1)
    plain = run(pipe, frames, guidance_scale=1.0, return_waveform=False).model_images
    unguided = run(pipe, frames, guidance_scale=1.0 + 1e-6, return_waveform=False).model_images
    guided = run(pipe, frames, guidance_scale=3.0, return_waveform=False).model_images
    # Measured: 1.2e-7 apart (float round-off of the batched pass); guidance 3 moves the image by 1.6e-3.
    torch.testing.assert_close(plain, unguided, rtol=0, atol=1e-5)
    assert float((guided - plain).abs().max()) > 1e-4, "guidance 3 must change the result"


def test_precomputed_embedding_equals_frames(pipe, frames):
    ev = pipe.encode_frames(frames)
    assert torch.equal(run(pipe, frames).waveforms, run(pipe, None, video_embedding=ev).waveforms)
    with pytest.raises(ValueError, match="exactly one of frames or video_embedding"):
        pipe(frames, video_embedding=ev)


def test_one_batched_syncronet_and_unet_call_per_step_and_one_hint_encoding_per_call(pipe, frames):
    """Guidance runs both branches as one batch of 2; ε(E_V) depends on E_V alone and runs once, not at every step."""
    calls = {"hint": [], "syncronet": [], "unet": []}
    hooks = [module.register_forward_hook(lambda m, args, out, name=name: calls[name].append(args[0].shape[0]))
             for name, module in (("hint", pipe.syncronet.conditioning_embedding), ("syncronet", pipe.syncronet),
                                  ("unet", pipe.unet))]
    try:
        run(pipe, frames, guidance_scale=3.0)
    finally:
        for hook in hooks:
            hook.remove()
    assert calls == {"hint": [2], "syncronet": [2] * STEPS, "unet": [2] * STEPS}


def test_save_load_gives_identical_output(pipe, frames, tmp_path):
    pipe.save_pretrained(tmp_path / "model")
    loaded = EgoSonicsPipeline.from_pretrained(tmp_path / "model")
    loaded.set_progress_bar_config(disable=True)
    assert loaded.config.preset == "tiny"
    assert loaded.spectrogram_params == pipe.spectrogram_params
    assert torch.equal(run(pipe, frames).waveforms, run(loaded, frames).waveforms)
    assert not list(tmp_path.rglob("*.bin")) and not list(tmp_path.rglob("*.pt")), "weights must be safetensors"


def test_missing_or_mismatched_files_are_named(pipe, tmp_path):
    folder = tmp_path / "model"
    pipe.save_pretrained(folder)
    # A missing weight file.
    broken = tmp_path / "missing"
    shutil.copytree(folder, broken)
    (broken / "syncronet" / "diffusion_pytorch_model.safetensors").unlink()
    with pytest.raises(EgoSonicsError, match=r"syncronet/diffusion_pytorch_model\.safetensors: missing"):
        EgoSonicsPipeline.from_pretrained(broken)
    # Weights of another component: shapes do not match the config.
    mismatched = tmp_path / "mismatched"
    shutil.copytree(folder, mismatched)
    shutil.copy(folder / "superres" / "diffusion_pytorch_model.safetensors",
                mismatched / "unet" / "diffusion_pytorch_model.safetensors")
    with pytest.raises(EgoSonicsError, match=r"unet/diffusion_pytorch_model\.safetensors: does not match"):
        EgoSonicsPipeline.from_pretrained(mismatched)
    # No model index at all.
    with pytest.raises(EgoSonicsError, match=r"model_index\.json: missing"):
        EgoSonicsPipeline.from_pretrained(tmp_path)
    # A component of the wrong class.
    wrong = tmp_path / "wrong"
    shutil.copytree(folder, wrong)
    index = json.loads((wrong / "model_index.json").read_text())
    index["superres"] = ["egosonics", "Syncronet"]
    (wrong / "model_index.json").write_text(json.dumps(index))
    with pytest.raises(EgoSonicsError, match="component 'superres' has class 'Syncronet'"):
        EgoSonicsPipeline.from_pretrained(wrong)


def test_sd21_preset_needs_local_weights(tmp_path):
    with pytest.raises(EgoSonicsError, match="needs CLIP weights"):
        EgoSonicsPipeline.from_preset("sd21")
    with pytest.raises(EgoSonicsError, match="unet: missing"):
        EgoSonicsPipeline.from_sd21(tmp_path / "sd", tmp_path / "clip")
    with pytest.raises(ValueError, match=r"unknown preset 'sd15'; choose from "
                                         r"\['sd21', 'tiny', 'tiny-motion', 'tiny-motion-power', 'tiny-onset', "
                                         r"'tiny-onset-power', 'tiny-power'\]"):
        EgoSonicsPipeline.from_preset("sd15")


def test_pixel_norm_standardises_and_inverts_exactly(pipe):
    assert pipe.vae is None and tuple(pipe.config.pixel_norm) == (0.13, 0.13)
    image = torch.rand(2, 1, 32, 256) * 0.99
    sample = pipe.image_to_sample(image)
    torch.testing.assert_close(sample, (image - 0.13) / 0.13)
    torch.testing.assert_close(pipe.sample_to_image(sample), image)


def test_pixel_norm_survives_save_load_and_old_folders_default_to_minus_one_one(pipe, tmp_path):
    pipe.save_pretrained(tmp_path / "m")
    loaded = EgoSonicsPipeline.from_pretrained(tmp_path / "m")
    assert tuple(loaded.config.pixel_norm) == (0.13, 0.13)
    assert loaded.scheduler.config.prediction_type == "v_prediction"
    index_path = tmp_path / "m" / "model_index.json"
    index = json.loads(index_path.read_text())
    del index["pixel_norm"]  # a folder saved before pixel_norm existed
    index_path.write_text(json.dumps(index))
    old = EgoSonicsPipeline.from_pretrained(tmp_path / "m")
    assert tuple(old.config.pixel_norm) == (0.5, 0.5)
    # [0, 1] → [−1, 1]: zeros map to −1 (ones map to ones with or without any normalisation, so they prove nothing).
    image = torch.stack([torch.zeros(32, 256), torch.full((32, 256), 0.25), torch.ones(32, 256)])[:, None]
    expected = torch.stack([torch.full((32, 256), v) for v in (-1.0, -0.5, 1.0)])[:, None]
    torch.testing.assert_close(old.image_to_sample(image), expected, rtol=0, atol=0)
    torch.testing.assert_close(old.sample_to_image(expected), image, rtol=0, atol=0)


@pytest.mark.parametrize("prediction_type", ["epsilon", "v_prediction"])
def test_diffusion_loss_target_follows_the_scheduler(prediction_type, monkeypatch):
    from diffusers import DDIMScheduler

    from egosonics.training.diffusion import diffusion_loss

    pipe = EgoSonicsPipeline.from_preset("tiny", seed=0)
    pipe.scheduler = DDIMScheduler.from_config(pipe.scheduler.config, prediction_type=prediction_type)
    images = torch.rand(2, 1, 32, 256)
    ev = torch.zeros(2, 300, 512)

    class Zero(torch.nn.Module):  # predicts 0, so the loss is the mean square of the target
        def forward(self, x, t, **_):
            return type("Out", (), {"sample": torch.zeros_like(x)})()

    loss = diffusion_loss(pipe, images, ev, generators=[torch.Generator().manual_seed(i) for i in range(2)],
                          context=torch.zeros(2, 8, 64), unet=Zero(), control=False)
    x0 = pipe.image_to_sample(images)
    gens = [torch.Generator().manual_seed(i) for i in range(2)]
    noise = torch.stack([torch.randn(x0.shape[1:], generator=g) for g in gens])
    t = torch.stack([torch.randint(0, 1000, (), generator=g) for g in gens])
    target = noise if prediction_type == "epsilon" else pipe.scheduler.get_velocity(x0, noise, t)
    torch.testing.assert_close(loss, target.pow(2).mean())
