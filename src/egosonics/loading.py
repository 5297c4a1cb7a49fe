"""Loading a model folder into an ``EgoSonicsPipeline``, and choosing the device and precision to run it on."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import torch

from egosonics.errors import EgoSonicsError
from egosonics.models.vocoder import FourierVocoder
from egosonics.options import VOCODERS
from egosonics.pipeline import EgoSonicsPipeline, _load_component
from egosonics.spectrogram.params import SpectrogramParams

log = logging.getLogger(__name__)

# The default model ships inside the package (trained by scripts/train_default_model.sh, see docs/MODELS.md).
DEFAULT_MODEL_DIR = Path(__file__).resolve().parent / "assets" / "default_model"

# The parts that run in the half-precision compute dtype. The frame encoder and super-resolution stay in float32
# (BatchNorm and CLIP's final normalisation are more accurate so, and they cost little).
HALF_PRECISION_PARTS = ("unet", "vae", "syncronet", "video_to_text")


def resolve_device(name: str = "auto") -> torch.device:
    """"auto" → cuda if available, else mps, else cpu; anything else must be a device torch knows and has."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError:
        raise EgoSonicsError(f"unknown device {name!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise EgoSonicsError(f"device {name!r} requested but this torch build sees no CUDA GPU")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise EgoSonicsError(f"device {name!r} requested but MPS is not available")
    return device


def resolve_dtype(name: str, device: torch.device) -> torch.dtype:
    """"auto" → float16 on CUDA, float32 elsewhere (half precision is slow or unsupported on CPUs)."""
    if name == "auto":
        return torch.float16 if device.type == "cuda" else torch.float32
    dtypes = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
    if name not in dtypes:
        raise EgoSonicsError(f"unknown dtype {name!r}; choose from {sorted(dtypes)}")
    return dtypes[name]


def cast(module: torch.nn.Module | None, dtype: torch.dtype) -> None:
    """Cast a module's floating-point weights to ``dtype`` unless they already are (diffusers warns on every cast)."""
    if module is not None and getattr(module, "dtype", dtype) != dtype:
        module.to(dtype=dtype)


def model_folder(model: str | os.PathLike[str] | None) -> Path:
    """The folder of ``model``, or of the shipped default model when None (an error if it is not there)."""
    if model is None:
        if not (DEFAULT_MODEL_DIR / "model_index.json").is_file():
            raise EgoSonicsError(f"no default model is installed ({DEFAULT_MODEL_DIR} is missing); "
                                 "pass --model FOLDER (see docs/MODELS.md)")
        return DEFAULT_MODEL_DIR
    folder = Path(model)
    if not folder.is_dir():
        raise EgoSonicsError(f"{folder}: model folder not found")
    return folder


def load_vocoder(folder: str | os.PathLike[str], params: SpectrogramParams | None = None) -> FourierVocoder:
    """Load a vocoder folder (``save_pretrained`` format) strictly, in eval mode, on the CPU.

    A missing or mismatched file, or a vocoder built for another STFT than ``params``, raises ``EgoSonicsError``
    naming the file.
    """
    folder = Path(folder)
    model = _load_component(FourierVocoder, folder)
    if params is not None and (problem := model.check_params(params)):
        raise EgoSonicsError(f"{folder / 'config.json'}: vocoder made for another spectrogram ({problem})")
    return model.float().eval()


def resolve_vocoder(folder: Path, choice: str | None = None,
                    params: SpectrogramParams | None = None) -> FourierVocoder | None:
    """The learned vocoder of a model folder (``folder/vocoder``) for ``choice``, or None for Griffin-Lim.

    None: the learned one when the folder has ``vocoder/``, else Griffin-Lim; "learned" without it is an error
    naming the missing folder; a vocoder whose files or STFT settings do not match is an error naming the file.
    """
    if choice is not None and choice not in VOCODERS:
        raise EgoSonicsError(f"unknown vocoder {choice!r}; choose from {list(VOCODERS)}")
    path = folder / "vocoder"
    if choice == "griffin-lim" or (choice is None and not path.is_dir()):
        return None
    if not path.is_dir():
        raise EgoSonicsError(f"{path}: missing; --vocoder learned needs a vocoder/ folder in the model folder "
                             "(train one with 'egosonics train vocoder', see docs/TRAINING.md)")
    vocoder = load_vocoder(path, params)
    log.info("vocoder: the learned one in %s", path)
    return vocoder


def load_pipeline(model: str | os.PathLike[str] | None, *, device: torch.device | None = None,
                  dtype: torch.dtype = torch.float32, vocoder: str | None = None) -> EgoSonicsPipeline:
    """Load a model folder (or the shipped default model when ``model`` is None) onto ``device``: the
    ``HALF_PRECISION_PARTS`` in ``dtype``, the others in float32. ``vocoder`` chooses the waveform stage
    (``resolve_vocoder``)."""
    folder = model_folder(model)
    log.info("using the default model: %s" if model is None else "using the model in %s", folder)
    pipe = EgoSonicsPipeline.from_pretrained(folder)
    pipe.vocoder = resolve_vocoder(folder, vocoder, pipe.spectrogram_params)
    device = device or torch.device("cpu")
    for name in HALF_PRECISION_PARTS:
        module = getattr(pipe, name, None)
        if module is not None:
            module.to(device=device)
            cast(module, dtype)
    for name in ("frame_encoder", "superres"):
        getattr(pipe, name).to(device=device)
    pipe.set_progress_bar_config(disable=None, leave=False)
    return pipe
