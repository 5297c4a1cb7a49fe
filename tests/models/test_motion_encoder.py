"""The weight-free ``motion`` frame encoder: camera motion apart from object motion, stops, shape and determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import uniform_filter

from egosonics.models.frame_encoder import (
    FRAME_ENCODERS,
    MotionFrameEncoder,
    build_frame_encoder,
    frame_encoder_name,
    frame_input_size,
)

SIZE, CELL = 128, 16  # the encoder's default input size and its 8 × 8 grid's cell side
PAN = 2  # px per frame: the view moves right, so the scene moves left on screen
SQUARE = 32


def pan_and_square(n: int = 24, *, stop_at: int | None = None, x0: int = 16,
                   y0: int = 16) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """A textured scene seen by a camera panning right by PAN px per frame, with a textured square that moves with
    the camera (fixed on screen in x) and down 3 px per frame until frame ``stop_at``, then stays where it is in the
    scene (``stop_at=0``: never moves).

    Returns frames [n, 128, 128, 3] uint8 and the square's top-left corner on screen per frame.
    """
    rng = np.random.default_rng(3)
    width = SIZE + PAN * n + 8
    scene = uniform_filter(rng.integers(0, 256, (SIZE, width)).astype(np.float32), 5)
    scene = np.clip((scene - 128) * 3 + 128, 0, 255)  # [H, W] contrast-stretched smooth noise
    patch = uniform_filter(rng.integers(0, 256, (SQUARE, SQUARE)).astype(np.float32), 3)
    patch = np.clip((patch - 128) * 4 + 128, 0, 255)  # a finer texture of its own
    frames, corners = [], []
    for k in range(n):
        moved = k if stop_at is None else min(k, stop_at)
        world = scene.copy()
        sy, sx = y0 + 3 * moved, x0 + PAN * moved
        world[sy:sy + SQUARE, sx:sx + SQUARE] = patch
        view = world[:, PAN * k:PAN * k + SIZE]
        frames.append(np.repeat(view[..., None], 3, axis=-1).astype(np.uint8))
        corners.append((sy, sx - PAN * k))
    return np.stack(frames), corners


def cell_masks(corner: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
    """(cells entirely inside the square, cells at least 8 px away from it) as boolean [8, 8] masks."""
    y, x = corner
    inside = np.zeros((8, 8), bool)
    far = np.zeros((8, 8), bool)
    for r in range(8):
        for c in range(8):
            top, left = r * CELL, c * CELL
            inside[r, c] = y <= top and top + CELL <= y + SQUARE and x <= left and left + CELL <= x + SQUARE
            far[r, c] = (top >= y + SQUARE + 8 or top + CELL <= y - 8 or left >= x + SQUARE + 8
                         or left + CELL <= x - 8)
    return inside, far


@pytest.fixture(scope="module")
def encoder() -> MotionFrameEncoder:
    return MotionFrameEncoder().eval()


def test_motion_encoder_separates_camera_pan_from_the_moving_square(encoder):
    frames, corners = pan_and_square()
    ev = encoder(torch.from_numpy(frames)[None])[0].numpy()  # [T, 512]
    layout = encoder.layout
    expected_dx = np.tanh(-PAN / SIZE / encoder.config.flow_scale)  # the scene moves left by PAN px per frame
    camera_dx, camera_dy = ev[:, layout["camera_dx"]].ravel(), ev[:, layout["camera_dy"]].ravel()
    assert np.abs(camera_dx[1:] - expected_dx).max() < 0.1, camera_dx
    # DIS smooths the square's flow into its surroundings, which biases the fit a little (< 0.25 px per frame).
    assert np.abs(camera_dy[1:]).max() < 0.15, camera_dy
    magnitude = ev[:, layout["local_magnitude"]].reshape(-1, 8, 8)
    local_dy = ev[:, layout["local_dy"]].reshape(-1, 8, 8)
    moving_level = np.tanh(3 / SIZE / encoder.config.flow_scale)  # the square's own motion is ≥ 3 px per frame
    for t in range(1, len(frames)):
        inside, far = cell_masks(corners[t])
        assert inside.sum() >= 1 and far.sum() >= 30
        assert magnitude[t][inside].min() > 0.6 * moving_level, (t, magnitude[t][inside])
        assert local_dy[t][inside].min() > 0.6 * moving_level  # downwards
        assert magnitude[t][far].max() < 0.25 * moving_level, (t, magnitude[t][far])
    # The camera's own motion is not local motion: without the square every cell stays still.
    still, _ = pan_and_square(stop_at=0)
    ev_still = encoder(torch.from_numpy(still)[None])[0].numpy()
    assert np.quantile(ev_still[:, layout["local_magnitude"]], 0.95) < 0.25 * moving_level
    assert np.abs(ev_still[1:, layout["camera_dx"]] - expected_dx).max() < 0.1


def test_motion_encoder_shows_a_sudden_stop_in_the_change_features(encoder):
    stop_at = 12
    frames, corners = pan_and_square(stop_at=stop_at)
    ev = encoder(torch.from_numpy(frames)[None])[0].numpy()
    layout = encoder.layout
    stop = ev[:, layout["stop"]].ravel()
    start = ev[:, layout["start"]].ravel()
    first_still = stop_at + 1  # the first frame whose motion into it is zero
    assert int(np.argmax(stop)) == first_still, stop
    # The square is 1/16 of the view, so the frame-wide mean drops little; the per-cell maximum drops a lot.
    assert stop[first_still] > 0.05 and np.delete(stop, first_still).max() < 0.3 * stop[first_still]
    assert start.max() < 0.3 * stop[first_still]  # nothing starts moving
    change = ev[:, layout["magnitude_change"]].reshape(-1, 8, 8)
    inside, _ = cell_masks(corners[first_still])
    assert change[first_still][inside].max() < -0.3  # the square's cells drop
    stop_cell = ev[:, layout["stop_max_cell"]].ravel()
    assert int(np.argmax(stop_cell)) == first_still and stop_cell[first_still] > 0.25


def test_motion_encoder_camera_jerk_marks_a_sudden_camera_stop(encoder):
    frames, _ = pan_and_square(stop_at=0)
    jolted = np.concatenate([frames[:10], np.repeat(frames[10:11], 10, axis=0)])  # no motion into frames 11..19
    ev = encoder(torch.from_numpy(jolted)[None])[0].numpy()
    acceleration = ev[:, encoder.layout["camera_acceleration"]].ravel()
    jerk = ev[:, encoder.layout["camera_jerk"]].ravel()
    assert int(np.argmax(acceleration)) == 11 and acceleration[11] > 0.5
    assert np.delete(acceleration, 11).max() < 0.1
    assert jerk[11] > 0.5 and jerk[12] > 0.5  # the change of acceleration: at the stop and right after it
    assert np.delete(jerk, [11, 12]).max() < 0.1


def test_motion_encoder_shape_dtype_range_and_determinism(encoder):
    frames, _ = pan_and_square(n=12)
    batch = torch.from_numpy(np.stack([frames, frames[::-1].copy()]))
    ev = encoder(batch)
    assert ev.shape == (2, 12, 512) and ev.dtype == torch.float32 and encoder.embedding_dim == 512
    assert torch.isfinite(ev).all() and float(ev.abs().max()) <= 1.0
    assert torch.equal(ev, encoder(batch))  # same input, same bits
    assert torch.equal(ev[1], encoder(batch[1:])[0])  # windows are encoded independently
    layout = encoder.layout
    assert sum(s.stop - s.start for s in layout.values()) == 512
    assert sorted(i for s in layout.values() for i in range(s.start, s.stop)) == list(range(512))
    assert frame_input_size(encoder) == SIZE


def test_motion_encoder_is_registered_saved_and_loaded(encoder, tmp_path):
    assert FRAME_ENCODERS["motion"] is MotionFrameEncoder
    assert frame_encoder_name(build_frame_encoder("motion")) == "motion"
    encoder.save_pretrained(tmp_path / "enc")
    loaded = MotionFrameEncoder.from_pretrained(tmp_path / "enc")
    frames, _ = pan_and_square(n=6)
    x = torch.from_numpy(frames)[None]
    assert torch.equal(loaded(x), encoder(x))


def test_tiny_motion_preset_builds_a_pipeline_that_round_trips(tmp_path):
    from egosonics.models.presets import get_preset
    from egosonics.pipeline import EgoSonicsPipeline

    assert get_preset("tiny").frame_encoder == "pixels"  # the shipped default model's encoder is unchanged
    pipe = EgoSonicsPipeline.from_preset("tiny-motion")
    assert isinstance(pipe.frame_encoder, MotionFrameEncoder)
    pipe.save_pretrained(tmp_path / "model")
    loaded = EgoSonicsPipeline.from_pretrained(tmp_path / "model")
    assert isinstance(loaded.frame_encoder, MotionFrameEncoder) and loaded.config.preset == "tiny-motion"


def test_prepare_with_the_motion_encoder_stores_its_ev(tmp_path):
    import json

    from egosonics.media.video import read_frames
    from egosonics.preprocess.prepare import PrepareConfig, prepare
    from egosonics.preprocess.shards import read_shard
    from tests.training.conftest import make_sources

    src = make_sources(tmp_path / "src", good=1, seconds=10.5)
    prepare(PrepareConfig(src=str(src), out=str(tmp_path / "data"), rms_threshold_dbfs=-60.0, encoder="motion"))
    rows = [json.loads(line) for line in (tmp_path / "data" / "manifest.jsonl").read_text().splitlines()]
    row = next(r for r in rows if r["status"] == "kept")
    _, sample = next(s for s in read_shard(tmp_path / "data" / "shards" / row["shard"]) if s[0] == row["key"])
    frames = read_frames(src / row["video"], start_s=row["start_s"], duration_s=10.0, size=SIZE, crop=True).frames
    expected = MotionFrameEncoder()(torch.from_numpy(frames)[None])[0].numpy().astype(np.float16)
    assert sample["ev"].shape == (300, 512) and np.array_equal(sample["ev"], expected)
