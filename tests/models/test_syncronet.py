"""Syncronet: zero-initialised outputs, gradients, shapes and parameter counts at Stable Diffusion 2.1 size."""

from __future__ import annotations

import pytest
import torch
from accelerate import init_empty_weights
from diffusers import AutoencoderKL, ControlNetModel, UNet2DConditionModel

from egosonics.models.presets import SD21_UNET, SD21_VAE
from egosonics.models.syncronet import Syncronet, TemporalConditioningEmbedding, video_embedding_to_hint
from egosonics.pipeline import EgoSonicsPipeline
from egosonics.training.diffusion import diffusion_loss, set_trainable

TOY_UNET = dict(sample_size=16, in_channels=4, out_channels=4, block_out_channels=(8, 16), layers_per_block=1,
                down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=32, attention_head_dim=2,
                norm_num_groups=4)
TOY_SYNC = dict(hint_size=(128, 128), conditioning_widths=(4, 8, 8, 8), sync_heads=2)


def count(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


@pytest.fixture
def toy():
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**TOY_UNET)
    return unet, Syncronet.from_unet(unet, **TOY_SYNC)


def test_fresh_syncronet_leaves_the_unet_bit_identical(toy):
    unet, sync = toy
    x, ev, ctx = torch.randn(2, 4, 16, 16), torch.randn(2, 300, 512), torch.randn(2, 7, 32)
    with torch.no_grad():
        plain = unet(x, 10, ctx).sample
        control = sync(x, 10, ev)
        guided = unet(x, 10, ctx, down_block_additional_residuals=control.down_block_res_samples,
                      mid_block_additional_residual=control.mid_block_res_sample).sample
    assert torch.equal(plain, guided)
    assert all(torch.count_nonzero(r) == 0 for r in control.down_block_res_samples)


def test_from_unet_copies_the_encoder_weights(toy):
    unet, sync = toy
    for name, tensor in unet.down_blocks.state_dict().items():
        assert torch.equal(sync.down_blocks.state_dict()[name], tensor), name
    assert torch.equal(sync.conv_in.weight, unet.conv_in.weight)
    assert torch.equal(sync.time_embedding.linear_1.weight, unet.time_embedding.linear_1.weight)
    # A copy, not shared storage: training the copy leaves the UNet alone.
    assert sync.conv_in.weight.data_ptr() != unet.conv_in.weight.data_ptr()


def test_residuals_once_trained_change_the_output_and_depend_on_the_video(toy):
    _, sync = toy
    for conv in [*sync.zero_convs, sync.zero_mid]:
        torch.nn.init.normal_(conv.weight, std=0.1)
    torch.nn.init.normal_(sync.conditioning_embedding.conv_out.weight, std=0.1)
    x = torch.randn(1, 4, 16, 16)
    with torch.no_grad():
        a = sync(x, 10, torch.randn(1, 300, 512)).mid_block_res_sample
        b = sync(x, 10, torch.randn(1, 300, 512)).mid_block_res_sample
    assert not torch.allclose(a, b)


@pytest.mark.parametrize("conditioning_type", ["image", "temporal"])
def test_a_condition_encoded_once_gives_the_same_residuals_at_every_step(conditioning_type):
    """The sampler encodes ε(E_V) and the E_V tokens once per call (``encode_condition``); every step's residuals must
    equal those computed from E_V itself, bit for bit."""
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**TOY_UNET)
    sync = Syncronet.from_unet(unet, **TOY_SYNC, conditioning_type=conditioning_type)
    for p in sync.parameters():
        torch.nn.init.normal_(p, std=0.1)  # trained-like: nothing zero, so E_V reaches every residual
    ev = torch.randn(2, 300, 512)
    with torch.no_grad():
        condition = sync.encode_condition(ev, (16, 16))
        for t in (999, 500, 1):
            x = torch.randn(2, 4, 16, 16)
            direct, cached = sync(x, t, ev), sync(x, t, condition=condition)
            for a, b in zip([*direct.down_block_res_samples, direct.mid_block_res_sample],
                            [*cached.down_block_res_samples, cached.mid_block_res_sample], strict=True):
                assert torch.equal(a, b)
            assert torch.count_nonzero(direct.mid_block_res_sample) > 0
    with pytest.raises(ValueError, match="exactly one"):
        sync(x, 1, ev, condition=condition)


@pytest.mark.parametrize(("self_attention", "cross_attention"), [(True, True), (False, True), (True, False),
                                                                 (False, False)])
def test_ablation_switches(self_attention, cross_attention):
    unet = UNet2DConditionModel(**TOY_UNET)
    sync = Syncronet.from_unet(unet, sync_self_attention=self_attention, sync_cross_attention=cross_attention,
                               **TOY_SYNC)
    assert (sync.sync_attention.self_attn is not None) == self_attention
    assert (sync.sync_attention.cross_attn is not None) == cross_attention
    out = sync(torch.randn(1, 4, 16, 16), 5, torch.randn(1, 300, 512))
    assert len(out.down_block_res_samples) == 4


def test_hint_image_columns_follow_time():
    ev = torch.zeros(1, 300, 512)
    ev[0, 150:] = 1.0  # the second half of the clip lights up
    hint = video_embedding_to_hint(ev, (512, 512))
    assert hint.shape == (1, 1, 512, 512)
    assert hint[0, 0, :, :250].abs().max() < 0.05 and hint[0, 0, :, 262:].min() > 0.95


@pytest.mark.parametrize("conditioning_type", ["image", "temporal"])
def test_fresh_syncronet_of_either_conditioning_type_changes_nothing(conditioning_type):
    torch.manual_seed(0)
    unet = UNet2DConditionModel(**TOY_UNET)
    sync = Syncronet.from_unet(unet, conditioning_type=conditioning_type, **TOY_SYNC)
    x, ev, ctx = torch.randn(2, 4, 16, 16), torch.randn(2, 300, 512), torch.randn(2, 7, 32)
    with torch.no_grad():
        control = sync(x, 10, ev)
        guided = unet(x, 10, ctx, down_block_additional_residuals=control.down_block_res_samples,
                      mid_block_additional_residual=control.mid_block_res_sample).sample
        assert torch.equal(unet(x, 10, ctx).sample, guided)


def test_temporal_conditioning_is_the_same_on_every_row_and_local_in_time():
    torch.manual_seed(0)
    eps = TemporalConditioningEmbedding(8, 512, widths=(16, 16))
    torch.nn.init.normal_(eps.conv_out.weight, std=0.1)
    ev = torch.zeros(1, 300, 512)
    with torch.no_grad():
        base = eps(ev, (32, 256))
        ev[0, 150] = 1.0  # one frame at t = 5 s, column 150 · 256 / 300 = 128
        out = eps(ev, (32, 256))
    assert out.shape == (1, 8, 32, 256)
    assert torch.equal(out, out[:, :, :1].expand_as(out))  # every frequency row sees the same vector
    changed = ((out - base).abs().amax(dim=(0, 1, 2)) > 0).nonzero().flatten()
    # Three kernel-3 convolutions reach ±3 columns around the (linearly interpolated) frame.
    assert changed.min() >= 128 - 4 and changed.max() <= 128 + 4 and len(changed) >= 3


def test_unknown_conditioning_type_is_refused():
    with pytest.raises(ValueError, match="unknown conditioning_type 'audio'"):
        Syncronet.from_unet(UNet2DConditionModel(**TOY_UNET), conditioning_type="audio", **TOY_SYNC)


def test_rebuilt_from_copies_a_new_unet_and_keeps_its_own_settings(toy):
    _, sync = toy
    torch.manual_seed(1)
    other = UNet2DConditionModel(**TOY_UNET)
    rebuilt = sync.rebuilt_from(other)
    assert rebuilt.config.hint_size == sync.config.hint_size and rebuilt.config.sync_heads == 2
    for name, tensor in other.down_blocks.state_dict().items():
        assert torch.equal(rebuilt.down_blocks.state_dict()[name], tensor), name


def test_only_syncronet_and_mlp_get_gradients():
    pipe = EgoSonicsPipeline.from_preset("tiny")
    assert set_trainable(pipe) == ["syncronet", "video_to_text"]
    # Make the zero convolutions non-zero so that gradients reach the inside of the copy too.
    torch.nn.init.normal_(pipe.syncronet.zero_mid.weight, std=0.01)
    images, ev = torch.rand(2, 1, 32, 256), torch.randn(2, 300, 512)
    loss = diffusion_loss(pipe, images, ev, generators=[torch.Generator().manual_seed(i) for i in range(2)])
    loss.backward()
    for name in ("unet", "superres", "frame_encoder"):
        assert all(p.grad is None for p in getattr(pipe, name).parameters()), name
    assert all(p.grad is not None for p in pipe.video_to_text.parameters())
    assert pipe.syncronet.zero_mid.weight.grad.abs().sum() > 0
    assert pipe.syncronet.mid_block.resnets[0].conv1.weight.grad.abs().sum() > 0


def test_sd21_sizes_and_parameter_counts():
    """Built on the meta device: counts and residual shapes at full size without allocating 3.5 GB."""
    with init_empty_weights():
        unet = UNet2DConditionModel(**SD21_UNET)
        vae = AutoencoderKL(**SD21_VAE)
        controlnet = ControlNetModel.from_unet(unet, load_weights_from_unet=False)
        sync = Syncronet.from_unet(unet, load_weights_from_unet=False)
    assert count(unet) == 865_910_724
    assert count(vae) == 83_653_863
    assert count(controlnet) == 364_228_240
    # ControlNet's copy + ε for a 1-channel hint + E_V projection (525,312) + sync attention: 365,799,984.
    assert count(sync) == 365_799_984
    widths = [320] * 4 + [640] * 3 + [1280] * 5
    grids = [64] * 3 + [32] * 3 + [16] * 3 + [8] * 3
    with torch.device("meta"):
        out = sync.to_empty(device="meta")(torch.zeros(1, 4, 64, 64), 10, torch.zeros(1, 300, 512))
    assert [tuple(r.shape) for r in out.down_block_res_samples] == [(1, c, g, g) for c, g in zip(widths, grids,
                                                                                                strict=True)]
    assert tuple(out.mid_block_res_sample.shape) == (1, 1280, 8, 8)
