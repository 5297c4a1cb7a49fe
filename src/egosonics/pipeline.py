"""``EgoSonicsPipeline``: video frames → synchronized waveform (paper Sec. B, C, E, G and Algorithm 1).

The stages of ``__call__``, numbered as its comments are (frames come from ``media.video.read_frames``):

    1. check the inputs
    2. frames → E_V (models.frame_encoder)
    3. conditions: c_t from E_V (models.video_to_text)
    4. timesteps, 5. initial noise
    6. Syncronet's E_V-only inputs (ε(E_V), projected tokens), once for all steps
    7. DDIM loop: the frozen UNet with models.syncronet's residuals, classifier-free guidance (both branches as one
       batch)
    8. decode to the model image (VAE, or pixel space)
    9. super-resolution (models.superres), one window at a time
    10. spectrogram → waveform (spectrogram.transform de-normalises; spectrogram.griffin_lim, or models.vocoder
        when one is loaded)

The unconditional branch of classifier-free guidance is the same model given an all-zero E_V (training drops E_V to
zeros with a small probability).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import torch
from diffusers import AutoencoderKL, DDIMScheduler, DiffusionPipeline, UNet2DConditionModel
from diffusers.utils import BaseOutput

from egosonics.clip_spec import DEFAULT_CLIP, ClipSpec
from egosonics.errors import EgoSonicsError
from egosonics.models.frame_encoder import (
    ClipFrameEncoder,
    FrameEncoder,
    MotionFrameEncoder,
    MotionOnsetEncoder,
    PixelFrameEncoder,
    build_frame_encoder,
)
from egosonics.models.presets import Preset, get_preset
from egosonics.models.superres import SpectrogramSuperResolution
from egosonics.models.syncronet import Syncronet
from egosonics.models.video_to_text import VideoToText
from egosonics.models.vocoder import FourierVocoder
from egosonics.spectrogram.griffin_lim import griffin_lim
from egosonics.spectrogram.params import SpectrogramParams
from egosonics.spectrogram.transform import from_superres_image, unit_to_magnitude

log = logging.getLogger(__name__)

# Stable Diffusion 2.1-base's scheduler, as DDIM (paper: T = 1000 for training, 20 steps for sampling).
DDIM_CONFIG: dict[str, Any] = {
    "num_train_timesteps": 1000, "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
    "clip_sample": False, "set_alpha_to_one": False, "steps_offset": 1, "prediction_type": "epsilon",
}

# Component name → classes it may be (for loading and for clear errors).
COMPONENTS: dict[str, tuple[type, ...]] = {
    "unet": (UNet2DConditionModel,),
    "vae": (AutoencoderKL,),
    "syncronet": (Syncronet,),
    "video_to_text": (VideoToText,),
    "superres": (SpectrogramSuperResolution,),
    "frame_encoder": (PixelFrameEncoder, MotionFrameEncoder, MotionOnsetEncoder, ClipFrameEncoder),
}


@dataclass
class EgoSonicsPipelineOutput(BaseOutput):
    """Attributes:
    waveforms: [B, clip.num_samples] float32 at clip.sample_rate.
    spectrograms: super-resolved spectrogram images [B, 1024, 512] in [0, 1] (row 0 = 0 Hz).
    model_images: the diffusion model's images [B, F, T] in [0, 1] before super-resolution.
    video_embeddings: E_V [B, 300, 512].
    """

    waveforms: torch.Tensor
    spectrograms: torch.Tensor
    model_images: torch.Tensor
    video_embeddings: torch.Tensor


class EgoSonicsPipeline(DiffusionPipeline):
    """Generate a soundtrack for 10 s windows of video.

    Args:
        unet: the frozen base UNet (SD 2.1's, or the tiny preset's own).
        vae: the frozen VAE, or None for a pixel-space model.
        syncronet: the trainable branch that reads E_V.
        video_to_text: maps E_V to the UNet's cross-attention context c_t.
        superres: model image → 1024 × 512 spectrogram.
        scheduler: DDIM by default; any diffusers scheduler with the same interface works.
        frame_encoder: frames → E_V.
        spectrogram: ``SpectrogramParams`` as a dict.
        clip: ``ClipSpec`` as a dict.
        preset: the preset name the architecture came from.
        pixel_norm: (mean, std): a pixel-space sample is (image − mean) / std (see ``Preset.pixel_norm``).

    Attribute ``vocoder``: a learned ``FourierVocoder`` used instead of Griffin-Lim when set (None by default; it is
    not a saved component: ``loading.load_pipeline`` attaches the model folder's ``vocoder/`` on request).
    """

    model_cpu_offload_seq = "frame_encoder->video_to_text->syncronet->unet->vae->superres"
    _optional_components: ClassVar[list[str]] = ["vae"]

    def __init__(self, unet: UNet2DConditionModel, vae: AutoencoderKL | None, syncronet: Syncronet,
                 video_to_text: VideoToText, superres: SpectrogramSuperResolution, scheduler: DDIMScheduler,
                 frame_encoder: FrameEncoder, spectrogram: dict[str, Any] | None = None,
                 clip: dict[str, Any] | None = None, preset: str = "custom",
                 pixel_norm: tuple[float, float] = (0.5, 0.5)) -> None:
        super().__init__()
        self.register_modules(unet=unet, vae=vae, syncronet=syncronet, video_to_text=video_to_text,
                              superres=superres, scheduler=scheduler, frame_encoder=frame_encoder)
        params = SpectrogramParams.from_dict(spectrogram) if spectrogram else SpectrogramParams()
        clip_spec = ClipSpec(**clip) if clip else DEFAULT_CLIP
        mean, std = (float(v) for v in pixel_norm)
        if std <= 0:
            raise ValueError(f"pixel_norm std must be > 0, got {std}")
        self.register_to_config(spectrogram=params.to_dict(), clip=clip_spec.__dict__.copy(), preset=preset,
                                pixel_norm=[mean, std])
        self.vocoder: FourierVocoder | None = None  # runs on the CPU in float32, like Griffin-Lim

    # ----------------------------------------------------------------------------------------------- construction
    @property
    def spectrogram_params(self) -> SpectrogramParams:
        return SpectrogramParams.from_dict(dict(self.config.spectrogram))

    @property
    def clip_spec(self) -> ClipSpec:
        return ClipSpec(**self.config.clip)

    @classmethod
    def from_preset(cls, preset: str | Preset, *, seed: int = 0, unet: UNet2DConditionModel | None = None,
                    vae: AutoencoderKL | None = None,
                    frame_encoder: FrameEncoder | None = None) -> EgoSonicsPipeline:
        """A fresh pipeline with the preset's architecture: random weights, except the parts given.

        Syncronet is always built from the UNet (``from_unet``), so it starts as a copy of its encoder.
        """
        spec = get_preset(preset) if isinstance(preset, str) else preset
        torch.manual_seed(seed)
        unet = unet if unet is not None else UNet2DConditionModel(**spec.unet)
        if vae is None and spec.vae is not None:
            vae = AutoencoderKL(**spec.vae)
        if frame_encoder is None:
            if spec.frame_encoder == "clip-vit-b32":
                raise EgoSonicsError(f"preset {spec.name!r} needs CLIP weights: use EgoSonicsPipeline.from_sd21")
            frame_encoder = build_frame_encoder(spec.frame_encoder)
        syncronet = Syncronet.from_unet(unet, video_dim=frame_encoder.embedding_dim, **spec.syncronet)
        video_to_text = VideoToText(video_dim=frame_encoder.embedding_dim,
                                    context_dim=unet.config.cross_attention_dim, **spec.video_to_text)
        superres = SpectrogramSuperResolution(output_size=spec.spectrogram.superres_size, **spec.superres)
        return cls(unet=unet, vae=vae, syncronet=syncronet, video_to_text=video_to_text, superres=superres,
                   scheduler=DDIMScheduler(**{**DDIM_CONFIG, "prediction_type": spec.prediction_type}),
                   frame_encoder=frame_encoder, spectrogram=spec.spectrogram.to_dict(), preset=spec.name,
                   pixel_norm=spec.pixel_norm)

    @classmethod
    def from_sd21(cls, sd_dir: str | os.PathLike[str], clip_dir: str | os.PathLike[str], *,
                  seed: int = 0) -> EgoSonicsPipeline:
        """Assemble a fresh ``sd21`` pipeline from local Stable Diffusion 2.1-base and CLIP ViT-B/32 folders.

        ``sd_dir`` is a diffusers-format folder (``unet/``, ``vae/``, optionally ``scheduler/``); ``clip_dir`` a
        transformers folder of openai/clip-vit-base-patch32. Nothing is downloaded.
        """
        sd_dir = Path(sd_dir)
        for part in ("unet", "vae"):
            if not (sd_dir / part / "config.json").is_file():
                raise EgoSonicsError(f"{sd_dir / part}: missing (a local Stable Diffusion 2.1-base folder in diffusers "
                                     "format has unet/ and vae/ with config.json and weights)")
        try:
            unet = UNet2DConditionModel.from_pretrained(sd_dir / "unet", local_files_only=True)
            vae = AutoencoderKL.from_pretrained(sd_dir / "vae", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EgoSonicsError(f"{sd_dir}: cannot load Stable Diffusion weights ({exc})") from None
        pipe = cls.from_preset("sd21", seed=seed, unet=unet, vae=vae,
                               frame_encoder=ClipFrameEncoder.from_clip_folder(clip_dir))
        if (sd_dir / "scheduler" / "scheduler_config.json").is_file():
            pipe.scheduler = DDIMScheduler.from_pretrained(sd_dir / "scheduler", local_files_only=True)
        return pipe

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike[str], **_: Any) -> EgoSonicsPipeline:  # type: ignore[override]
        """Load a pipeline saved with ``save_pretrained`` from a local folder.

        Every component is checked before loading; a missing or mismatched file raises ``EgoSonicsError`` naming it.
        """
        folder = Path(folder)
        index_path = folder / "model_index.json"
        if not index_path.is_file():
            raise EgoSonicsError(f"{index_path}: missing; {folder} is not an EgoSonics model folder")
        try:
            index = json.loads(index_path.read_text())
        except json.JSONDecodeError as exc:
            raise EgoSonicsError(f"{index_path}: not valid JSON ({exc})") from None
        parts: dict[str, Any] = {}
        for name, classes in COMPONENTS.items():
            entry = index.get(name)
            if entry is None or entry == [None, None]:
                if name not in cls._optional_components:
                    raise EgoSonicsError(f"{index_path}: component {name!r} is missing")
                parts[name] = None
                continue
            by_name = {c.__name__: c for c in classes}
            if entry[1] not in by_name:
                raise EgoSonicsError(f"{index_path}: component {name!r} has class {entry[1]!r}; "
                                     f"expected one of {sorted(by_name)}")
            parts[name] = _load_component(by_name[entry[1]], folder / name)
        scheduler_dir = folder / "scheduler"
        if not (scheduler_dir / "scheduler_config.json").is_file():
            raise EgoSonicsError(f"{scheduler_dir / 'scheduler_config.json'}: missing")
        parts["scheduler"] = DDIMScheduler.from_pretrained(scheduler_dir, local_files_only=True)
        pipe = cls(**parts, spectrogram=index.get("spectrogram"), clip=index.get("clip"),
                   preset=index.get("preset", "custom"), pixel_norm=index.get("pixel_norm", (0.5, 0.5)))
        pipe._check_compatible(folder)
        return pipe

    def _check_compatible(self, folder: Path) -> None:
        """Shapes that must agree between components (a folder assembled from mismatched parts fails here)."""
        dim = self.frame_encoder.embedding_dim
        if self.syncronet.config.video_dim != dim or self.video_to_text.config.video_dim != dim:
            raise EgoSonicsError(f"{folder}: frame encoder gives {dim}-d E_V but syncronet/video_to_text expect "
                                 f"{self.syncronet.config.video_dim}/{self.video_to_text.config.video_dim}")
        if self.video_to_text.config.context_dim != self.unet.config.cross_attention_dim:
            width, expected = self.video_to_text.config.context_dim, self.unet.config.cross_attention_dim
            raise EgoSonicsError(f"{folder / 'video_to_text'}: context width {width} does not match the UNet's "
                                 f"cross_attention_dim {expected}")

    # ----------------------------------------------------------------------------------------------- shapes
    @property
    def latent_shape(self) -> tuple[int, int, int]:
        """(channels, rows, columns) of the denoised sample."""
        rows, cols = self.spectrogram_params.model_size
        if self.vae is None:
            return self.unet.config.in_channels, rows, cols
        factor = 2 ** (len(self.vae.config.block_out_channels) - 1)
        return self.vae.config.latent_channels, rows // factor, cols // factor

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 frames [B, T, H, W, 3] → E_V [B, T, 512] on the pipeline's device."""
        return self.frame_encoder(frames.to(self.device))

    def image_to_sample(self, image: torch.Tensor) -> torch.Tensor:
        """Spectrogram image [B, 1, F, T] in [0, 1] → the sample the UNet denoises (VAE latent or standard pixels)."""
        if self.vae is None:
            mean, std = self.config.pixel_norm
            return (image - mean) / std
        x = image * 2 - 1
        x = x.expand(-1, self.vae.config.in_channels, -1, -1).to(self.vae.dtype)
        return self.vae.encode(x).latent_dist.sample() * self.vae.config.scaling_factor

    def sample_to_image(self, sample: torch.Tensor) -> torch.Tensor:
        """Inverse of ``image_to_sample`` (VAE decode, channel mean): → [B, 1, F, T] in [0, 1]."""
        if self.vae is None:
            mean, std = self.config.pixel_norm
            return (sample.float() * std + mean).clamp(0, 1)
        sample = self.vae.decode(sample.to(self.vae.dtype) / self.vae.config.scaling_factor).sample
        sample = sample.mean(dim=1, keepdim=True)
        return ((sample.float() + 1) / 2).clamp(0, 1)

    # ----------------------------------------------------------------------------------------------- generation
    @torch.inference_mode()
    def __call__(self, frames: torch.Tensor | None = None, *, video_embedding: torch.Tensor | None = None,
                 num_inference_steps: int = 20, guidance_scale: float = 3.0,
                 generator: torch.Generator | None = None, griffin_lim_iters: int = 32,
                 griffin_lim_init: str = "random",
                 return_waveform: bool = True) -> EgoSonicsPipelineOutput:
        """Generate one soundtrack per window.

        Args:
            frames: uint8 [B, 300, H, W, 3] at 30 fps (``media.video.read_frames``), or
            video_embedding: E_V [B, 300, 512] computed beforehand.
            num_inference_steps: DDIM steps (20 in the paper).
            guidance_scale: classifier-free guidance weight; 1 disables guidance (one UNet pass per step).
            generator: seeds the noise and Griffin-Lim's initial phase: the same seed gives the same waveform.
            griffin_lim_iters: phase-recovery iterations (Griffin-Lim; unused when ``self.vocoder`` is set).
            griffin_lim_init: Griffin-Lim's start, "random" (the paper's) or "phase-gradient".
            return_waveform: False skips the vocoder (training validation of images only).
        """
        # 1. Check inputs
        if (frames is None) == (video_embedding is None):
            raise ValueError("give exactly one of frames or video_embedding")
        if num_inference_steps < 1:
            raise ValueError(f"num_inference_steps must be >= 1, got {num_inference_steps}")
        device, dtype = self.device, self.unet.dtype
        # 2. Encode frames → E_V
        ev = self.encode_frames(frames) if frames is not None else video_embedding.to(device)  # [B, T, 512]
        ev = ev.to(dtype)
        batch = ev.shape[0]
        # 3. Conditions: c_t from the MLP; the unconditional branch uses an all-zero E_V
        use_cfg = guidance_scale > 1.0
        ev_in = torch.cat([torch.zeros_like(ev), ev]) if use_cfg else ev  # [B·(1+cfg), T, 512]
        context = self.video_to_text(ev_in).to(dtype)  # [B·(1+cfg), N, cross_attention_dim]
        # 4. Timesteps
        self.scheduler.set_timesteps(num_inference_steps, device=device)
        # 5. Initial noise
        noise = torch.randn((batch, *self.latent_shape), generator=generator, device="cpu", dtype=torch.float32)
        x = noise.to(device=device, dtype=dtype) * self.scheduler.init_noise_sigma
        # 6. Syncronet's E_V-only inputs (ε(E_V), projected tokens), once for all steps
        condition = self.syncronet.encode_condition(ev_in, self.latent_shape[1:], dtype)
        # 7. Denoising loop; with guidance both branches run as one batch
        for t in self.progress_bar(self.scheduler.timesteps):
            x_in = torch.cat([x, x]) if use_cfg else x
            x_in = self.scheduler.scale_model_input(x_in, t)
            control = self.syncronet(x_in, t, condition=condition)
            pred = self.unet(x_in, t, encoder_hidden_states=context,
                             down_block_additional_residuals=control.down_block_res_samples,
                             mid_block_additional_residual=control.mid_block_res_sample).sample  # ε or v
            if use_cfg:
                pred_uncond, pred_cond = pred.chunk(2)
                pred = pred_uncond + guidance_scale * (pred_cond - pred_uncond)
            x = self.scheduler.step(pred, t, x).prev_sample
        # 8. Decode to the model image
        image = self.sample_to_image(x)  # [B, 1, F, T]
        # 9. Super-resolution, one window at a time: its full-size activations (channels × 1024 × 512) are the
        # largest tensors of the whole call, and a batch of them would multiply the peak memory
        spec = torch.cat([self.superres(im[None].to(self.superres.dtype)).float() for im in image])  # [B, 1, 1024, 512]
        # 10. Spectrogram → waveform: the learned vocoder when one is attached, else Griffin-Lim
        clip, params = self.clip_spec, self.spectrogram_params
        waveforms = torch.zeros(batch, 0)
        if return_waveform:
            unit = from_superres_image(spec[:, 0], params.num_frames(clip.num_samples), params)  # [B, 1024, 430]
            magnitude = unit_to_magnitude(unit.cpu(), params)
            gl_generator = torch.Generator().manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=generator)))
            if self.vocoder is not None:
                waveforms = self.vocoder(magnitude, clip.num_samples)  # [B, 220500]
            else:
                waveforms = griffin_lim(magnitude, clip.num_samples, params, n_iter=griffin_lim_iters,
                                        init=griffin_lim_init, generator=gl_generator)
        return EgoSonicsPipelineOutput(waveforms=waveforms, spectrograms=spec[:, 0].cpu(),
                                       model_images=image[:, 0].cpu(), video_embeddings=ev.float().cpu())


def _load_component(cls: type, path: Path) -> Any:
    """Build ``cls`` from ``path/config.json`` and load ``path/diffusion_pytorch_model.safetensors`` strictly.

    diffusers' own loader fills missing weights with random ones and only warns; here every key and shape must
    match, and the error names the file.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    config_path = path / "config.json"
    weights = path / "diffusion_pytorch_model.safetensors"
    for required in (config_path, weights):
        if not required.is_file():
            raise EgoSonicsError(f"{required}: missing")
    try:
        model = cls.from_config(cls.load_config(path))
    except (OSError, ValueError, TypeError) as exc:
        raise EgoSonicsError(f"{config_path}: cannot build {cls.__name__} from it ({exc})") from None
    try:
        state = load_file(weights)
    except (OSError, SafetensorError) as exc:
        raise EgoSonicsError(f"{weights}: not a readable safetensors file ({exc})") from None
    expected = model.state_dict()
    missing = sorted(expected.keys() - state.keys())
    unexpected = sorted(state.keys() - expected.keys())
    reshaped = sorted(k for k in expected.keys() & state.keys() if expected[k].shape != state[k].shape)
    if missing or unexpected or reshaped:
        problems = [f"{len(keys)} {what} (e.g. {keys[0]})" for what, keys in
                    (("missing", missing), ("unexpected", unexpected), ("of another shape", reshaped)) if keys]
        raise EgoSonicsError(f"{weights}: does not match {config_path.name}: tensors " + "; ".join(problems))
    model.load_state_dict(state, strict=True)
    return model.eval()
