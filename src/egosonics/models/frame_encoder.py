"""Frame encoders: video frames → E_V, one 512-d vector per frame (paper Sec. C).

All take uint8 RGB frames [B, T, H, W, 3] (a batch of windows, frames in time order) and return E_V [B, T, 512]:

* ``clip-vit-b32``: CLIP ViT-B/32 image embeddings (transformers' ``CLIPVisionModelWithProjection``), L2-normalised.
  Weights come from a local folder (``ClipFrameEncoder.from_clip_folder``); preprocessing runs in torch on whole
  batches (resize the short side to 224 bicubically, centre-crop, normalise).
* ``pixels``: weight-free. A 16 × 16 grey thumbnail and its difference from the previous frame, so both what is seen
  and when it moves survive. Used by the ``tiny`` preset and the tests.
* ``motion``: weight-free. Dense optical flow (OpenCV DIS) at 128 × 128, split into the camera's own motion (a robust
  affine fit) and the local motion of hands and objects, summarised per frame over an 8 × 8 grid with its change
  (stops and starts), camera acceleration and jerk, frame-difference energy and a coarse appearance summary
  (``MotionFrameEncoder``; feature layout in docs/MODELS.md and ``MotionFrameEncoder.layout``). Used by the
  ``tiny-motion`` preset.
* ``motion-onset``: ``motion`` with one column holding an onset track, predicted by a small head trained on real
  footage (``MotionOnsetEncoder``). Used by the ``tiny-onset`` preset.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from einops import rearrange

from egosonics.errors import EgoSonicsError

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


def _as_float_frames(frames: torch.Tensor) -> torch.Tensor:
    """uint8 [B, T, H, W, 3] → float [B*T, 3, H, W] in [0, 1]."""
    if frames.ndim != 5 or frames.shape[-1] != 3:
        raise ValueError(f"frames must be [B, T, H, W, 3], got shape {tuple(frames.shape)}")
    return rearrange(frames, "b t h w c -> (b t) c h w").float() / 255.0


class PixelFrameEncoder(ModelMixin, ConfigMixin):
    """Weight-free E_V: grey thumbnail (``thumb``² values in [-1, 1]) + scaled difference from the previous frame.

    Args:
        thumb: thumbnail side; the output width is 2 · thumb² (512 for 16).
        motion_gain: multiplies the frame difference before clipping to [-1, 1], so small motions register.
        input_size: the frame size to decode at (square, centre-cropped).
    """

    @register_to_config
    def __init__(self, thumb: int = 16, motion_gain: float = 4.0, input_size: int = 64) -> None:
        super().__init__()
        # A buffer so the model has a device and dtype, and a (tiny) state dict to save.
        self.register_buffer("grey_weights", torch.tensor([0.299, 0.587, 0.114]))

    @property
    def embedding_dim(self) -> int:
        return 2 * self.config.thumb ** 2

    @torch.no_grad()
    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames [B, T, H, W, 3] → E_V [B, T, 2 · thumb²]."""
        batch = frames.shape[0]
        x = _as_float_frames(frames.to(self.grey_weights.device))  # [B*T, 3, H, W]
        grey = torch.einsum("nchw,c->nhw", x, self.grey_weights)[:, None]  # [B*T, 1, H, W]
        thumb = F.adaptive_avg_pool2d(grey, self.config.thumb)  # [B*T, 1, s, s]
        thumb = rearrange(thumb, "(b t) 1 h w -> b t (h w)", b=batch)
        motion = torch.diff(thumb, dim=1, prepend=thumb[:, :1])  # 0 for the first frame
        motion = (motion * self.config.motion_gain).clamp(-1, 1)
        return torch.cat([thumb * 2 - 1, motion], dim=-1).to(self.dtype)


# Per-cell blocks of the motion encoder, in output order (each ``grid``² values, cells in row-major order), then the
# colour block (``colour_grid``² × RGB) and the global block (one value each).
MOTION_CELL_BLOCKS = ("local_magnitude", "local_dx", "local_dy", "magnitude_change", "frame_difference", "grey_mean",
                      "grey_std")
MOTION_GLOBALS = ("camera_dx", "camera_dy", "camera_zoom", "camera_rotation", "camera_speed", "camera_acceleration",
                  "camera_jerk", "local_mean", "local_max_cell", "stop", "start", "stop_max_cell",
                  "frame_difference_mean", "camera_fit_residual", "brightness", "brightness_change")


class MotionFrameEncoder(ModelMixin, ConfigMixin):
    """Weight-free E_V from dense optical flow, with the camera's own motion separated from local motion.

    Per window, frame by frame (grey at ``input_size``², 30 fps):

    1. Flow: OpenCV DIS (``DISOPTICAL_FLOW_PRESET_ULTRAFAST``, finest scale 1: computed at half the input size)
       from frame t−1 to frame t, in pixels.
    2. Camera: an affine motion field fitted to the flow on a 32 × 32 point lattice by trimmed least squares (three
       fits, each keeping the 60 % of points the previous fit explains best), so a hand or object covering less than
       ~40 % of the view does not pull it. Its translation (the field at the centre), zoom and rotation are the
       camera's motion; acceleration = change of translation, jerk = change of acceleration (a step's heel-strike).
    3. Local motion = flow − camera field: its mean magnitude, x and y per grid cell, and the magnitude's change from
       the previous frame (negative: a stop, positive: a start).
    4. Frame-difference energy (mean |grey_t − grey_{t−1}|) per cell; appearance: grey mean and standard deviation per
       cell and the mean colour of a ``colour_grid``² grid.

    Motion is measured in fractions of the frame side per frame and squashed with tanh(x / ``flow_scale``) (signed
    values keep their sign; the two per-frame maxima over cells with tanh(x / (4 · ``flow_scale``)), as a maximum over
    64 noisy cells saturates otherwise); frame differences and contrast with tanh(x / ``diff_scale``); brightness
    and colour map [0, 1] → [-1, 1]. ``motion_signals`` gives the values before squashing. Frame 0 has no
    predecessor: it gets frame 1's motion values (so no false start at a window's first frame). Deterministic (DIS on
    one thread), float32. ``layout`` names the slice of every feature.

    Args:
        input_size: the frame size to decode at (square, centre-cropped).
        grid: cells per side of the motion and appearance grid.
        colour_grid: cells per side of the colour grid.
        flow_scale: motion (frame-side fractions per frame) that maps to tanh(1).
        diff_scale: grey-level difference or standard deviation (0–1 scale) that maps to tanh(1).
    """

    @register_to_config
    def __init__(self, input_size: int = 128, grid: int = 8, colour_grid: int = 4, flow_scale: float = 0.02,
                 diff_scale: float = 0.05) -> None:
        super().__init__()
        if input_size % grid or input_size % colour_grid or input_size < 32:
            raise ValueError(f"input_size {input_size} must be ≥ 32 and divisible by grid {grid} and colour_grid "
                             f"{colour_grid}")
        # A buffer so the model has a device and dtype, and a (tiny) state dict to save.
        self.register_buffer("grey_weights", torch.tensor([0.299, 0.587, 0.114]))

    @property
    def embedding_dim(self) -> int:
        return len(MOTION_CELL_BLOCKS) * self.config.grid ** 2 + 3 * self.config.colour_grid ** 2 + len(MOTION_GLOBALS)

    @property
    def layout(self) -> dict[str, slice]:
        """Feature name → its slice of the E_V row (per-cell blocks row-major; ``colour`` is [cells, RGB] flattened)."""
        out, start = {}, 0
        for name in MOTION_CELL_BLOCKS:
            out[name] = slice(start, start + self.config.grid ** 2)
            start += self.config.grid ** 2
        out["colour"] = slice(start, start + 3 * self.config.colour_grid ** 2)
        start += 3 * self.config.colour_grid ** 2
        for name in MOTION_GLOBALS:
            out[name] = slice(start, start + 1)
            start += 1
        return out

    @torch.no_grad()
    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames [B, T, H, W, 3] → E_V [B, T, embedding_dim], window by window (``encode_video``)."""
        if frames.ndim != 5 or frames.shape[-1] != 3:
            raise ValueError(f"frames must be [B, T, H, W, 3], got shape {tuple(frames.shape)}")
        video = frames.cpu().numpy().astype(np.uint8, copy=False)
        out = np.stack([self.encode_video(v) for v in video])  # [B, T, D]
        return torch.from_numpy(out).to(device=self.device, dtype=self.dtype)

    def motion_signals(self, frames: np.ndarray) -> dict[str, np.ndarray]:
        """uint8 RGB [T, H, W, 3] → every feature of ``layout`` before squashing, [T, width] or [T]: motion in frame
        sides per frame, grey levels and colour on a 0–1 scale."""
        import cv2

        cfg = self.config
        frames = np.ascontiguousarray(frames)
        num, height, width = frames.shape[:3]
        if num == 0:
            return {name: np.zeros((0, where.stop - where.start), np.float32) for name, where in self.layout.items()}
        side = float(max(height, width))
        grey = np.stack([cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames])  # [T, H, W] uint8
        g2 = (cfg.grid, cfg.grid)

        def cells(x: np.ndarray, size: tuple[int, int] = g2) -> np.ndarray:
            return cv2.resize(x, size, interpolation=cv2.INTER_AREA)  # mean over each cell

        # Camera model: flow(x, y) ≈ c0 + c1 · x + c2 · y per flow component, coordinates in frame sides from the
        # centre, fitted on a lattice of about 32 × 32 points.
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        xs, ys = (xs - width / 2) / side, (ys - height / 2) / side  # [H, W]
        step_y, step_x = max(1, height // 32), max(1, width // 32)
        pick = (slice(step_y // 2, None, step_y), slice(step_x // 2, None, step_x))
        lattice = np.stack([np.ones_like(xs[pick]), xs[pick], ys[pick]], -1).reshape(-1, 3).astype(np.float64)
        kept = max(3, int(0.6 * len(lattice)))

        flow_engine = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST)
        flow_engine.setFinestScale(1)  # flow at half the input size: the preset's default (a quarter) blurs hands
        threads = cv2.getNumThreads()
        cv2.setNumThreads(1)  # DIS's parallel loops: one thread keeps the result identical run to run
        try:
            flows = [flow_engine.calc(grey[t - 1], grey[t], None) for t in range(1, num)]  # [H, W, 2] px
        finally:
            cv2.setNumThreads(threads)

        cell_motion = np.zeros((num, *g2, 3), np.float32)  # local magnitude, x, y per cell
        cell_diff = np.zeros((num, *g2), np.float32)
        camera = np.zeros((num, 4), np.float32)  # dx, dy, zoom, rotation (frame sides per frame)
        residual = np.zeros(num, np.float32)
        grey_f = grey.astype(np.float32) / 255.0
        for t, flow in enumerate(flows, start=1):
            flow *= 1.0 / side  # [H, W, 2] frame sides per frame
            target = flow[pick].reshape(-1, 2).astype(np.float64)  # [N, 2]
            keep = np.arange(len(lattice))
            for _ in range(3):  # trimmed least squares: refit on the 60 % of points explained best
                rows = lattice[keep]
                coef = np.linalg.solve(rows.T @ rows + 1e-9 * np.eye(3), rows.T @ target[keep])  # [3, 2]
                err = np.hypot(*(lattice @ coef - target).T)  # [N]
                keep = np.argpartition(err, kept - 1)[:kept]
            c = coef.astype(np.float32)
            local_x = flow[..., 0] - (c[0, 0] + c[1, 0] * xs + c[2, 0] * ys)
            local_y = flow[..., 1] - (c[0, 1] + c[1, 1] * xs + c[2, 1] * ys)
            # numpy, not cv2.magnitude: OpenCV's SIMD loop rounds differently with the array's memory alignment
            magnitude = np.sqrt(local_x * local_x + local_y * local_y)
            cell_motion[t] = cells(np.dstack([magnitude, local_x, local_y]))
            cell_diff[t] = cells(cv2.absdiff(grey_f[t], grey_f[t - 1]))
            # zoom: divergence, rotation: curl (positive = clockwise on screen, y down)
            camera[t] = (c[0, 0], c[0, 1], (c[1, 0] + c[2, 1]) / 2, (c[1, 1] - c[2, 0]) / 2)
            residual[t] = float(np.median(err))
        cell_mag, cell_dx, cell_dy = cell_motion[..., 0], cell_motion[..., 1], cell_motion[..., 2]
        if num > 1:  # frame 0 takes frame 1's motion
            for array in (cell_motion, cell_diff, camera, residual):
                array[0] = array[1]

        mag_change = np.diff(cell_mag, axis=0, prepend=cell_mag[:1])  # [T, g, g]
        velocity = camera[:, :2]
        acceleration = np.diff(velocity, axis=0, prepend=velocity[:1])
        jerk = np.diff(acceleration, axis=0, prepend=acceleration[:1])
        local_mean = cell_mag.reshape(num, -1).mean(1)
        mean_change = np.diff(local_mean, prepend=local_mean[:1])
        grey_mean = np.stack([cells(g) for g in grey_f])  # [T, g, g]
        grey_sq = np.stack([cells(g * g) for g in grey_f])
        grey_std = np.sqrt(np.maximum(grey_sq - grey_mean ** 2, 0.0))
        colour = np.stack([cells(f.astype(np.float32) / 255.0, (cfg.colour_grid, cfg.colour_grid))
                           for f in frames])  # [T, c, c, 3]
        brightness = grey_f.reshape(num, -1).mean(1)

        flat = {name: x.reshape(num, -1) for name, x in (("mag", cell_mag), ("dx", cell_dx), ("dy", cell_dy),
                                                         ("change", mag_change), ("diff", cell_diff))}
        return {
            "local_magnitude": flat["mag"], "local_dx": flat["dx"], "local_dy": flat["dy"],
            "magnitude_change": flat["change"], "frame_difference": flat["diff"],
            "grey_mean": grey_mean.reshape(num, -1), "grey_std": grey_std.reshape(num, -1),
            "colour": colour.reshape(num, -1),
            "camera_dx": camera[:, 0], "camera_dy": camera[:, 1], "camera_zoom": camera[:, 2],
            "camera_rotation": camera[:, 3], "camera_speed": np.linalg.norm(velocity, axis=1),
            "camera_acceleration": np.linalg.norm(acceleration, axis=1), "camera_jerk": np.linalg.norm(jerk, axis=1),
            "local_mean": local_mean, "local_max_cell": flat["mag"].max(1), "stop": np.maximum(-mean_change, 0),
            "start": np.maximum(mean_change, 0), "stop_max_cell": np.maximum(-flat["change"], 0).max(1),
            "frame_difference_mean": flat["diff"].mean(1), "camera_fit_residual": residual,
            "brightness": brightness, "brightness_change": np.diff(brightness, prepend=brightness[:1]),
        }

    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        """uint8 RGB [T, H, W, 3] (one window, any H × W divisible by the grids) → float32 [T, embedding_dim]."""
        return self.squash(self.motion_signals(frames))

    def squash(self, signals: dict[str, np.ndarray]) -> np.ndarray:
        """``motion_signals``' values → E_V float32 [T, embedding_dim] (the squashing of the class docstring)."""
        cfg = self.config
        num = len(signals["brightness"])
        squash = {
            # motion (frame sides per frame); the per-frame maxima over cells get a 4× wider scale (they saturate)
            **{k: np.tanh(signals[k] / cfg.flow_scale) for k in (
                "local_magnitude", "local_dx", "local_dy", "magnitude_change", "camera_dx", "camera_dy", "camera_zoom",
                "camera_rotation", "camera_speed", "camera_acceleration", "camera_jerk", "local_mean", "stop", "start",
                "camera_fit_residual")},
            **{k: np.tanh(signals[k] / (4 * cfg.flow_scale)) for k in ("local_max_cell", "stop_max_cell")},
            **{k: np.tanh(signals[k] / cfg.diff_scale) for k in (
                "frame_difference", "grey_std", "frame_difference_mean", "brightness_change")},
            **{k: signals[k] * 2 - 1 for k in ("grey_mean", "colour", "brightness")},
        }
        out = np.zeros((num, self.embedding_dim), np.float32)
        for name, where in self.layout.items():
            out[:, where] = squash[name].reshape(num, -1)
        return out


class ClipFrameEncoder(ModelMixin, ConfigMixin):
    """CLIP ViT-B/32 image embeddings, L2-normalised, computed in batches.

    Args:
        clip_config: the ``CLIPVisionConfig`` as a dict (``from_clip_folder`` fills it in).
        batch_size: frames per forward pass.
    """

    @register_to_config
    def __init__(self, clip_config: dict[str, Any] | None = None, batch_size: int = 64) -> None:
        super().__init__()
        from transformers import CLIPVisionConfig, CLIPVisionModelWithProjection

        self.model = CLIPVisionModelWithProjection(CLIPVisionConfig(**(clip_config or {})))
        self.model.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(CLIP_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(CLIP_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def embedding_dim(self) -> int:
        return self.model.config.projection_dim

    @property
    def input_size(self) -> int:
        return self.model.config.image_size

    @classmethod
    def from_clip_folder(cls, path: str | os.PathLike[str], *, batch_size: int = 64) -> ClipFrameEncoder:
        """Load CLIP weights from a local transformers folder (config.json + model.safetensors), never the network."""
        from transformers import CLIPVisionModelWithProjection

        folder = Path(path)
        if not (folder / "config.json").is_file():
            raise EgoSonicsError(f"{folder}: not a CLIP model folder (config.json missing); give a local copy of "
                                 "openai/clip-vit-base-patch32 (transformers format)")
        try:
            clip = CLIPVisionModelWithProjection.from_pretrained(folder, local_files_only=True)
        except OSError as exc:
            raise EgoSonicsError(f"{folder}: cannot load CLIP weights ({exc})") from None
        encoder = cls(clip_config=clip.config.to_dict(), batch_size=batch_size)
        encoder.model.load_state_dict(clip.state_dict())
        return encoder

    def preprocess(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 [B, T, H, W, 3] → normalised pixels [B*T, 3, 224, 224] (CLIP's resize, crop and normalisation)."""
        x = _as_float_frames(frames.to(self.mean.device))
        size = self.input_size
        h, w = x.shape[-2:]
        if (h, w) != (size, size):
            scale = size / min(h, w)
            x = F.interpolate(x, size=(max(size, round(h * scale)), max(size, round(w * scale))), mode="bicubic",
                              align_corners=False, antialias=True).clamp(0, 1)
            top, left = (x.shape[-2] - size) // 2, (x.shape[-1] - size) // 2
            x = x[..., top:top + size, left:left + size]
        return ((x - self.mean) / self.std).to(self.dtype)

    @torch.no_grad()
    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames [B, T, H, W, 3] → E_V [B, T, 512], each row of unit length."""
        batch = frames.shape[0]
        pixels = self.preprocess(frames)  # [B*T, 3, 224, 224]
        chunks = [self.model(pixel_values=pixels[i:i + self.config.batch_size]).image_embeds
                  for i in range(0, pixels.shape[0], self.config.batch_size)]
        embeds = F.normalize(torch.cat(chunks).float(), dim=-1)  # [B*T, 512]
        return rearrange(embeds, "(b t) d -> b t d", b=batch).to(self.dtype)

    def train(self, mode: bool = True) -> ClipFrameEncoder:
        """The encoder is frozen: it stays in eval mode."""
        return super().train(False)


ONSET_TRACKS = ("picks", "soft")  # MotionOnsetEncoder's ``track`` settings
ONSET_HEAD_INPUTS = ("globals", "all")  # and its ``inputs``


def onset_track(onset_frames: np.ndarray, num_frames: int) -> np.ndarray:
    """float32 [num_frames]: 1 at each onset frame, 0.5 at the frames next to it, 0 elsewhere (frames outside the
    range are left out): the ``onset_track`` column of ``MotionOnsetEncoder``'s E_V."""
    track = np.zeros(num_frames, np.float32)
    for k in np.asarray(onset_frames, dtype=np.int64):
        for j, value in ((k - 1, 0.5), (k, 1.0), (k + 1, 0.5)):
            if 0 <= j < num_frames:
                track[j] = max(track[j], value)
    return track


class MotionOnsetEncoder(ModelMixin, ConfigMixin):
    """The ``motion`` E_V with one column, ``onset_track``, predicted by a small learned head: where sounds start.

    The head reads the 16 per-frame global motion features (camera motion and jerk, local motion, stops and starts,
    frame difference, brightness; ``MOTION_GLOBALS``), or every column with ``inputs="all"``, and scores every frame
    with two 1-D convolutions over time (``kernel`` frames each, so ±``kernel - 1`` frames of context) and a linear
    output; onsets are the frames whose probability is a local maximum ≥ ``threshold`` with no other onset within
    ``spacing_frames``. The track written in place of the ``brightness`` column (brightness is kept per cell in
    ``grey_mean``) is ``track_gain`` at an onset's frame and half that at its neighbours (``onset_track``). A
    generator trained on the tracks of its targets' own audio places sounds where this column says (SyncFusion's two
    stages); the head is trained on real footage with its recorded sound (``scripts/train_onset_head.py``), because
    motion → onset learned by the global head on synthesized scenes does not transfer to real video
    (docs/TRAINING.md, "Trial: onset track").

    Args:
        input_size, grid, colour_grid, flow_scale, diff_scale: the ``MotionFrameEncoder``'s settings.
        hidden: channels of the head's two convolutions.
        kernel: their kernel length in frames.
        dropout: dropout on the head's input while training.
        threshold: the probability an onset must reach (set by training to give as many onsets as the training
            clips have).
        spacing_frames: the smallest distance between two onsets, in frames.
        track_gain: the track's value at an onset (its neighbours get half). At 1 (the range of the other 511
            columns) a generator trained for 900 steps hardly followed it; at 8 it did, and a generator trained at 8
            follows 16 at inference more closely still (docs/TRAINING.md, "Trial: onset track").
        inputs: what the head reads. ``"globals"``: the 16 per-frame global features, which transfer to real
            footage of sources the head never saw; ``"all"``: all 512 columns, which find the contacts of synthesized
            scenes far better and real onsets no better than chance (docs/TRAINING.md, "Trial: onset track").
        track: what the head writes into the track for silent video. ``"picks"``: the track of its onsets, as
            above. ``"soft"``: ``track_gain · p ** k`` at every frame, p the head's probability and
            k = ln 0.5 / ln ``threshold``, so a frame at the threshold gets half the gain (as a pick's neighbour
            does) and a certain one all of it: the head's doubt about *when* is kept instead of thresholded away
            (``soft_track``). Training targets always get their own onsets' track (``with_onset_track``).
    """

    @register_to_config
    def __init__(self, input_size: int = 128, grid: int = 8, colour_grid: int = 4, flow_scale: float = 0.02,
                 diff_scale: float = 0.05, hidden: int = 64, kernel: int = 9, dropout: float = 0.2,
                 threshold: float = 0.5, spacing_frames: int = 3, track_gain: float = 8.0,
                 track: str = "picks", inputs: str = "globals") -> None:
        super().__init__()
        if kernel < 1 or kernel % 2 == 0:
            raise ValueError(f"kernel must be odd and ≥ 1, got {kernel}")
        if track not in ONSET_TRACKS:
            raise ValueError(f"track must be one of {', '.join(ONSET_TRACKS)}, got {track!r}")
        if inputs not in ONSET_HEAD_INPUTS:
            raise ValueError(f"inputs must be one of {', '.join(ONSET_HEAD_INPUTS)}, got {inputs!r}")
        self.motion = MotionFrameEncoder(input_size=input_size, grid=grid, colour_grid=colour_grid,
                                         flow_scale=flow_scale, diff_scale=diff_scale)
        self.head = torch.nn.Sequential(
            torch.nn.Dropout(dropout),
            torch.nn.Conv1d(len(MOTION_GLOBALS) if inputs == "globals" else self.motion.embedding_dim, hidden, kernel,
                            padding=kernel // 2),
            torch.nn.GELU(), torch.nn.Conv1d(hidden, hidden, kernel, padding=kernel // 2), torch.nn.GELU(),
            torch.nn.Conv1d(hidden, 1, 1))

    @property
    def embedding_dim(self) -> int:
        return self.motion.embedding_dim

    @property
    def layout(self) -> dict[str, slice]:
        """``MotionFrameEncoder.layout`` with ``brightness`` renamed ``onset_track``."""
        return {("onset_track" if name == "brightness" else name): where for name, where in self.motion.layout.items()}

    def onset_logits(self, motion_ev: torch.Tensor) -> torch.Tensor:
        """The ``motion`` encoder's E_V [B, T, D] → onset logits [B, T]."""
        features = motion_ev.float()  # [B, T, 512]
        if self.config.inputs == "globals":
            layout = self.motion.layout
            columns = torch.tensor([layout[name].start for name in MOTION_GLOBALS], device=motion_ev.device)
            features = features.index_select(-1, columns)  # [B, T, 16]
        return self.head(features.transpose(1, 2))[:, 0]

    def pick_onsets(self, probability: np.ndarray) -> np.ndarray:
        """Onset frames [K] of a probability curve [T] (local maxima ≥ ``threshold``, ``spacing_frames`` apart)."""
        p = np.asarray(probability, dtype=np.float64)
        spacing = int(self.config.spacing_frames)
        frames: list[int] = []
        for t in range(len(p)):
            if p[t] < self.config.threshold or p[t] < p[max(0, t - spacing):t + spacing + 1].max():
                continue
            if not (frames and t - frames[-1] <= spacing):
                frames.append(t)
        return np.array(frames, dtype=np.int64)

    def with_onset_track(self, motion_ev: np.ndarray, onset_frames: np.ndarray) -> np.ndarray:
        """The ``motion`` E_V [T, D] → this encoder's E_V: a copy whose ``onset_track`` column is the track of
        ``onset_frames`` (predicted by the head, or a training target's own onsets: ``egosonics prepare``)."""
        return self._with_track(motion_ev, onset_track(onset_frames, len(motion_ev)))

    def soft_track(self, probability: np.ndarray) -> np.ndarray:
        """float32 [T] in [0, 1]: p ** k with k = ln 0.5 / ln ``threshold`` (the threshold maps to 0.5, 1 to 1)."""
        threshold = float(self.config.threshold)
        if not 0.0 < threshold < 1.0:
            raise ValueError(f"a soft track needs a threshold strictly between 0 and 1, got {threshold}")
        p = np.clip(np.asarray(probability, dtype=np.float64), 0.0, 1.0)
        return (p ** (math.log(0.5) / math.log(threshold))).astype(np.float32)

    def track_of(self, probability: np.ndarray) -> np.ndarray:
        """The head's probability curve [T] → the track [T] (before ``track_gain``), as ``track`` says."""
        if self.config.track == "soft":
            return self.soft_track(probability)
        return onset_track(self.pick_onsets(probability), len(probability))

    def _with_track(self, motion_ev: np.ndarray, track: np.ndarray) -> np.ndarray:
        ev = np.array(motion_ev, dtype=np.float32)
        ev[:, self.layout["onset_track"]] = self.config.track_gain * np.asarray(track, np.float32)[:, None]
        return ev

    @torch.no_grad()
    def encode_video(self, frames: np.ndarray) -> np.ndarray:
        """uint8 RGB [T, H, W, 3] (one window) → float32 [T, embedding_dim], the track from the head."""
        ev = self.motion.encode_video(frames)
        probability = torch.sigmoid(self.onset_logits(torch.from_numpy(ev)[None].to(self.device)))[0]
        return self._with_track(ev, self.track_of(probability.cpu().numpy()))

    forward = MotionFrameEncoder.forward  # window by window through this class's ``encode_video``


FRAME_ENCODERS = {"pixels": PixelFrameEncoder, "motion": MotionFrameEncoder, "motion-onset": MotionOnsetEncoder,
                  "clip-vit-b32": ClipFrameEncoder}
FrameEncoder = PixelFrameEncoder | MotionFrameEncoder | MotionOnsetEncoder | ClipFrameEncoder


def frame_encoder_name(encoder: FrameEncoder) -> str:
    """The registered name of an encoder instance ("pixels", "motion", "motion-onset" or "clip-vit-b32")."""
    return next(name for name, cls in FRAME_ENCODERS.items() if isinstance(encoder, cls))


def build_frame_encoder(name: str, clip_dir: str | os.PathLike[str] | None = None) -> FrameEncoder:
    """A frame encoder by name, in eval mode: the weight-free ones with their defaults, CLIP from ``clip_dir``."""
    if name == "clip-vit-b32":
        if not clip_dir:
            raise EgoSonicsError("the clip-vit-b32 encoder needs a local CLIP ViT-B/32 folder (--clip-dir)")
        return ClipFrameEncoder.from_clip_folder(clip_dir).eval()
    if name not in FRAME_ENCODERS:
        raise EgoSonicsError(f"unknown frame encoder {name!r}; choose from {sorted(FRAME_ENCODERS)}")
    return FRAME_ENCODERS[name]().eval()


def frame_input_size(encoder: FrameEncoder) -> int:
    """The square size frames should be decoded at (centre-cropped) for this encoder."""
    if isinstance(encoder, ClipFrameEncoder):
        return encoder.input_size
    return int(encoder.config.input_size)
