"""Frame encoders: the weight-free ``pixels`` encoder and CLIP ViT-B/32 from a local folder (tiny random weights)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from egosonics.errors import EgoSonicsError
from egosonics.models.frame_encoder import ClipFrameEncoder, PixelFrameEncoder


def moving_square(t_move: int, n: int = 30, size: int = 64) -> torch.Tensor:
    """A still square that jumps at frame ``t_move``: [1, n, size, size, 3] uint8."""
    frames = np.zeros((n, size, size, 3), np.uint8)
    for k in range(n):
        x = 10 if k < t_move else 40
        frames[k, 20:34, x:x + 14] = 255
    return torch.from_numpy(frames)[None]


def test_pixels_encoder_shape_and_motion_timing():
    enc = PixelFrameEncoder()
    ev = enc(moving_square(t_move=17))
    assert ev.shape == (1, 30, 512)
    motion = ev[0, :, 256:].abs().sum(dim=-1)  # the frame-difference half
    assert int(motion.argmax()) == 17
    assert float(motion[:17].max()) == 0.0 and float(motion[18:].max()) == 0.0
    assert float(ev.min()) >= -1 and float(ev.max()) <= 1


def test_pixels_encoder_batches_windows_independently():
    enc = PixelFrameEncoder()
    both = enc(torch.cat([moving_square(5), moving_square(20)]))
    assert torch.equal(both[1], enc(moving_square(20))[0])


@pytest.fixture(scope="module")
def clip_folder(tmp_path_factory):
    """A tiny random CLIP vision model of the real class, saved like openai/clip-vit-base-patch32."""
    from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

    torch.manual_seed(0)
    config = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=2,
                              image_size=224, patch_size=32, projection_dim=512)
    folder = tmp_path_factory.mktemp("clip")
    CLIPVisionModelWithProjection(config).save_pretrained(folder)
    return folder


def test_clip_encoder_loads_locally_and_gives_unit_vectors(clip_folder):
    enc = ClipFrameEncoder.from_clip_folder(clip_folder, batch_size=7)
    frames = torch.randint(0, 256, (2, 10, 240, 320, 3), dtype=torch.uint8)
    ev = enc(frames)
    assert ev.shape == (2, 10, 512)
    assert torch.allclose(ev.norm(dim=-1), torch.ones(2, 10), atol=1e-5)
    # Batching does not change the result.
    assert torch.allclose(enc(frames[1:]), ev[1:], atol=1e-5)


def test_clip_preprocessing_matches_the_reference_processor(clip_folder):
    from transformers import CLIPImageProcessor

    enc = ClipFrameEncoder.from_clip_folder(clip_folder)
    rng = np.random.default_rng(0)
    # Smooth content: bicubic implementations differ only at sharp edges.
    base = rng.integers(0, 256, (1, 9, 12, 3)).astype(np.uint8)
    frame = np.array(Image.fromarray(base[0]).resize((320, 240), Image.BILINEAR))
    ours = enc.preprocess(torch.from_numpy(frame)[None, None])
    reference = CLIPImageProcessor(size={"shortest_edge": 224}, crop_size={"height": 224, "width": 224})(
        images=[frame], return_tensors="pt")["pixel_values"]
    assert ours.shape == reference.shape == (1, 3, 224, 224)
    # Measured 0.021 in normalised units (about 1.4/255 per pixel): PIL rounds to 8 bits between resize and crop.
    assert (ours - reference).abs().mean() < 0.03


def test_clip_folder_missing_is_a_clear_error(tmp_path):
    with pytest.raises(EgoSonicsError, match="not a CLIP model folder"):
        ClipFrameEncoder.from_clip_folder(tmp_path / "nowhere")


def test_clip_encoder_stays_in_eval_mode(clip_folder):
    enc = ClipFrameEncoder.from_clip_folder(clip_folder)
    enc.train()
    assert not enc.training and not enc.model.training
    assert not any(p.requires_grad for p in enc.parameters())
