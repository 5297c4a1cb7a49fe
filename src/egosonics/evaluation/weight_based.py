"""Weight-based audio metrics (EVALUATION.md §7.3), enabled only when the user gives local weight files.

    SpectrogramFID     fid_spec_inception: FID of rendered spectrogram images with pytorch-fid's Inception-v3
                       (2048-d pool3). Lower is better. Mirrors the paper's "FID on spectrogram images" under our
                       rendering (below); its exact extractor is not published (§2.2), so treat the match as assumed.
    MelceptionMetrics  melception_fid / kid / kl / isc: SpecVQGAN's protocol on its own 80-mel spectrograms (§2.1,
                       §3), comparable with SpecVQGAN and Diff-Foley tables. FID, KID, KL lower is better; ISc higher.

Rendering for ``SpectrogramFID``: the method's own 512 × 512 model image of the first 10 s (zero-padded, as
``spectrogram.codec.encode_windows``), values in [0, 1], rows flipped so low frequencies are at the bottom (as the
PNG files and figures show them), replicated to 3 channels, bilinear to 299 × 299, not quantised to 8 bits.

SpecVQGAN spectrogram (``specvqgan_mel``, ``feature_extraction/extract_mel_spectrogram.py::TRANSFORMS`` and
``evaluation/datasets/fakes.py::read_wav``): the waveform at 22,050 Hz is zero-padded or cut to 10 s; |STFT|
(n_fft 1024, hop 256, periodic Hann, centred with reflect padding as librosa 0.8 in SpecVQGAN's environment);
80 Slaney mel bands 125–7600 Hz; max(·, 1e-5); log10; ×20 − 20 + 100, ÷100; clip to [0, 1]; first 860 frames; then
each mel band is standardised with SpecVQGAN's VGGSound training means and stds
(``train_means_stds_melspec_10s_22050hz.txt``, 80 rows of "mean std").

Both FIDs are reported two ways by default (``methods``): ``fid`` = ``fid_sqrtm``, scipy ``sqrtm`` (pytorch-fid's and
SpecVQGAN's algorithm, what published numbers use; about 20 s for 2048-d on one busy CPU core), and ``fid_eigh``, the
stable symmetric form (§2.4; computed through the n × n cross-Gram matrix when n ≪ 2048, the same number). With fewer
clips than 2048 the covariances are rank-deficient: the numbers are defined but comparable only at equal n.
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np
import torch

from egosonics.clip_spec import DEFAULT_CLIP
from egosonics.errors import EgoSonicsError
from egosonics.evaluation.base import Metric
from egosonics.evaluation.classify import inception_score, kl_divergence
from egosonics.evaluation.features import as_waveform, magnitude_spectrogram, mel_filterbank
from egosonics.evaluation.frechet import frechet_distance_from_embeddings, kernel_inception_distance
from egosonics.evaluation.inception import (
    FEATURE_DIM,
    FIDInceptionV3,
    Melception,
    load_fid_inception,
    load_melception,
)
from egosonics.models.local_weights import sha256_file

log = logging.getLogger(__name__)

SPECVQGAN_MEL = {"sample_rate": 22_050, "n_fft": 1024, "hop_length": 256, "n_mels": 80, "fmin": 125.0,
                 "fmax": 7600.0, "frames": 860, "duration_s": 10.0}
MELCEPTION_STATS_FILE = "SpecVQGAN's train_means_stds_melspec_10s_22050hz.txt (80 rows: mean std)"


# ------------------------------------------------------------------------------------------------ inputs


def spectrogram_image(waveform: np.ndarray | torch.Tensor, *, sample_rate: int = DEFAULT_CLIP.sample_rate
                      ) -> torch.Tensor:
    """Waveform [n] at 22,050 Hz → the rendered spectrogram image [512, 512] in [0, 1], low frequencies at the
    bottom (row 0 = the highest band): the first 10 s window, zero-padded."""
    from egosonics.spectrogram.codec import encode_windows

    if sample_rate != DEFAULT_CLIP.sample_rate:
        raise ValueError(f"spectrogram images are made at {DEFAULT_CLIP.sample_rate} Hz, got {sample_rate} Hz: "
                         "resample first")
    wave = as_waveform(waveform)
    if wave.ndim != 1:
        raise ValueError(f"waveform must be mono [n], got shape {tuple(wave.shape)}")
    image = encode_windows(wave[:DEFAULT_CLIP.num_samples])[0]  # [512, 512], row 0 = 0 Hz
    return image.flip(0)


def specvqgan_mel(waveform: np.ndarray | torch.Tensor, *, sample_rate: int = 22_050) -> torch.Tensor:
    """Waveform [..., n] at 22,050 Hz → SpecVQGAN's log-mel spectrogram [..., 80, 860] in [0, 1] (module docstring;
    not yet standardised)."""
    s = SPECVQGAN_MEL
    if sample_rate != s["sample_rate"]:
        raise ValueError(f"SpecVQGAN spectrograms are made at {s['sample_rate']} Hz, got {sample_rate} Hz: resample "
                         "first")
    wave = as_waveform(waveform, dtype=torch.float64)
    length = round(s["duration_s"] * s["sample_rate"])
    wave = torch.nn.functional.pad(wave[..., :length], (0, max(0, length - wave.shape[-1])))  # [..., 220500]
    spec = magnitude_spectrogram(wave, n_fft=s["n_fft"], hop_length=s["hop_length"],
                                 pad_mode="reflect")  # [..., 513, 862]
    bank = torch.tensor(mel_filterbank(s["sample_rate"], s["n_fft"], s["n_mels"], s["fmin"], s["fmax"]))
    mel = torch.einsum("mf,...ft->...mt", bank, spec)  # [..., 80, 862]
    mel = (20 * torch.log10(mel.clamp(min=1e-5)) - 20 + 100) / 100
    return mel.clamp(0.0, 1.0)[..., : s["frames"]].float()  # [..., 80, 860]


def load_melception_stats(path: str | os.PathLike[str] | None) -> tuple[np.ndarray, str]:
    """SpecVQGAN's per-band training statistics: a text file of 80 rows "mean std" → ([80, 2] float64, sha256)."""
    if path is None or not os.path.isfile(path):
        where = f"{path}: not found; " if path else "no file given; "
        raise EgoSonicsError(f"{where}the Melception metrics need {MELCEPTION_STATS_FILE} as a local file "
                             "(EgoSonics never downloads it)")
    try:
        stats = np.loadtxt(path, dtype=np.float64)
    except ValueError as exc:
        raise EgoSonicsError(f"{path}: not a table of numbers ({exc}); expected {MELCEPTION_STATS_FILE}") from None
    n_mels = SPECVQGAN_MEL["n_mels"]
    if stats.shape != (n_mels, 2) or not np.all(stats[:, 1] > 0):
        raise EgoSonicsError(f"{path}: expected {n_mels} rows of 'mean std' with positive stds, got shape "
                             f"{stats.shape}")
    digest = sha256_file(path)
    log.info("Melception statistics: %s (sha256 %s)", path, digest)
    return stats, digest


def frechet_distance_low_rank(reference: np.ndarray, generated: np.ndarray) -> float:
    """The "eigh" Fréchet distance of two embedding sets [n1, d], [n2, d], computed in O(n1·n2·d) for n ≪ d.

    With centred sets X, Y and c1 = n1 − 1, c2 = n2 − 1, the nonzero eigenvalues of S1 S2 = XᵀX YᵀY / (c1 c2) are the
    squared singular values of X Yᵀ / sqrt(c1 c2), so Tr (S1 S2)^{1/2} is the nuclear norm of that n1 × n2 matrix:
    the same number as ``frechet_distance(..., method="eigh")`` without any d × d decomposition.
    """
    ref, gen = np.asarray(reference, np.float64), np.asarray(generated, np.float64)
    x, y = ref - ref.mean(0), gen - gen.mean(0)
    c1, c2 = len(ref) - 1, len(gen) - 1
    if c1 < 1 or c2 < 1:
        raise ValueError(f"need at least 2 embeddings per set, got {len(ref)} and {len(gen)}")
    diff = ref.mean(0) - gen.mean(0)
    trace_sqrt = np.linalg.svd(x @ y.T, compute_uv=False).sum() / np.sqrt(c1 * c2)
    return max(float(diff @ diff + (x * x).sum() / c1 + (y * y).sum() / c2 - 2 * trace_sqrt), 0.0)


def _fids(reference: np.ndarray, generated: np.ndarray, methods: tuple[str, ...]) -> dict[str, Any]:
    """{"fid": the first method's value, "fid_method", "fid_<method>" for each}; sqrtm gives None when scipy fails
    on it (a singular, ill-conditioned product)."""
    out: dict[str, Any] = {}
    for method in methods:
        if method == "eigh" and len(reference) * len(generated) <= reference.shape[1] ** 2:
            out["fid_eigh"] = frechet_distance_low_rank(reference, generated)  # same value, no 2048² eigh
            continue
        try:
            out[f"fid_{method}"] = frechet_distance_from_embeddings(reference, generated, method=method)
        except ValueError as exc:
            log.warning("FID with method %s failed (%s)", method, exc)
            out[f"fid_{method}"] = None
    out["fid"], out["fid_method"] = out[f"fid_{methods[0]}"], methods[0]
    return out


def _check_methods(methods: tuple[str, ...]) -> tuple[str, ...]:
    bad = [m for m in methods if m not in ("sqrtm", "eigh", "eigvals")]
    if not methods or bad:
        raise ValueError(f"unknown Fréchet methods {bad or list(methods)}; choose from ['sqrtm', 'eigh', 'eigvals']")
    return tuple(methods)


# ------------------------------------------------------------------------------------------------ metrics


class SpectrogramFID(Metric):
    """``fid_spec_inception``: Fréchet distance of Inception pool3 features of spectrogram images. Lower is better.

    ``update(reference=..., generated=...)`` takes waveforms at 22,050 Hz ([n] or a list of them) or, with
    ``images=True``, rendered images [B, H, W] / [H, W] in [0, 1]. ``compute()`` returns {"fid" (the first of
    ``methods``), "fid_method", "fid_<method>" each, "n_reference", "n_generated", "dim", "weights_sha256",
    "rendering"}; it needs ≥ 2 clips per set.

    Args:
        network: pytorch-fid's FID Inception (``load_fid_inception``; random weights in tests).
        weights_sha256: recorded in the result.
        batch_size: images per forward pass.
        methods: Fréchet square-root variants to report, the first being ``fid`` (module docstring).
    """

    higher_is_better = False
    RENDERING = ("model image 512x512 of the first 10 s at 22050 Hz, low frequencies at the bottom, 3 channels, "
                 "bilinear 299x299, [0, 1] -> [-1, 1], float (not 8-bit)")

    def __init__(self, network: FIDInceptionV3, *, weights_sha256: str | None = None, batch_size: int = 16,
                 methods: tuple[str, ...] = ("sqrtm", "eigh")) -> None:
        self.network, self.weights_sha256, self.batch_size = network.eval(), weights_sha256, batch_size
        self.methods = _check_methods(methods)
        self.reset()

    @classmethod
    def from_file(cls, path: str | os.PathLike[str] | None, **kwargs: Any) -> SpectrogramFID:
        """Load pytorch-fid's weight file (never downloaded; sha256 logged)."""
        network, digest = load_fid_inception(path)
        return cls(network, weights_sha256=digest, **kwargs)

    def reset(self) -> None:
        self._features: dict[str, list[np.ndarray]] = {"reference": [], "generated": []}

    def _images(self, value: Any, images: bool) -> torch.Tensor:
        if images:
            x = torch.as_tensor(value, dtype=torch.float32)
            x = x[None] if x.ndim == 2 else x
            if x.ndim != 3:
                raise ValueError(f"images must be [B, H, W] or [H, W], got shape {tuple(x.shape)}")
            return x
        waves = [value] if np.ndim(value) == 1 else list(value)
        return torch.stack([spectrogram_image(w) for w in waves])  # [B, 512, 512]

    def embed(self, value: Any, *, images: bool = False) -> np.ndarray:
        """Waveforms (or images) → pool3 features [B, 2048] float64, e.g. to reuse one ground truth for many sets."""
        x = self._images(value, images)  # [B, H, W]
        feats = [self.network.features(x[i:i + self.batch_size, None]).double().cpu().numpy()
                 for i in range(0, x.shape[0], self.batch_size)]  # [b, 2048] each
        return np.concatenate(feats)

    def update(self, *, reference: Any = None, generated: Any = None, images: bool = False,
               embedded: bool = False) -> None:
        """Add clips to either set (see the class docstring); ``embedded``: the values are ``embed`` outputs."""
        if reference is None and generated is None:
            raise ValueError("update() needs reference and/or generated clips, got neither")
        for name, value in (("reference", reference), ("generated", generated)):
            if value is not None:
                feats = np.atleast_2d(np.asarray(value, np.float64)) if embedded else self.embed(value, images=images)
                if feats.shape[1] != FEATURE_DIM:
                    raise ValueError(f"{name} features must be [B, {FEATURE_DIM}], got shape {feats.shape}")
                self._features[name].append(feats)

    def compute(self) -> dict[str, Any]:
        ref = np.concatenate(self._features["reference"]) if self._features["reference"] else np.zeros((0, 1))
        gen = np.concatenate(self._features["generated"]) if self._features["generated"] else np.zeros((0, 1))
        if len(ref) < 2 or len(gen) < 2:
            raise ValueError(f"spectrogram FID needs at least 2 clips per set, got {len(ref)} reference and "
                             f"{len(gen)} generated")
        return {**_fids(ref, gen, self.methods), "n_reference": len(ref), "n_generated": len(gen),
                "dim": ref.shape[1], "weights_sha256": self.weights_sha256, "rendering": self.RENDERING}


class MelceptionMetrics(Metric):
    """SpecVQGAN's Melception protocol: FID and KID on '2048', KL(gt ‖ gen) on 'logits', ISc on 'logits_unbiased'.

    ``update(reference=wave, generated=wave)`` adds 22,050 Hz waveforms [n] (or mel spectrograms [80, T] with
    ``mels=True``); a call with both is one ground-truth/generated pair for KL. ``compute()`` returns {"fid" (the
    first of ``methods``), "fid_method", "fid_<method>" each, "kid_mean", "kid_std", "kl", "isc_mean", "isc_std",
    "n_reference", "n_generated", "n_pairs", "weights_sha256", "stats_sha256"}. FID, KID and KL: lower is better;
    ISc: higher is better.

    Args:
        network: Melception (``load_melception``; random weights in tests).
        stats: per-band [80, 2] (mean, std) of SpecVQGAN's training spectrograms.
        kid_subsets, kid_subset_size: SpecVQGAN's 100 × 1000 (the size is lowered to the set size).
        isc_splits: 10 (lowered to the number of generated clips when fewer).
        methods: Fréchet square-root variants to report, the first being ``fid``.
    """

    higher_is_better = False

    def __init__(self, network: Melception, stats: np.ndarray, *, weights_sha256: str | None = None,
                 stats_sha256: str | None = None, kid_subsets: int = 100, kid_subset_size: int = 1000,
                 isc_splits: int = 10, seed: int = 2020, methods: tuple[str, ...] = ("sqrtm", "eigh")) -> None:
        stats = np.asarray(stats, np.float64)
        if stats.shape != (SPECVQGAN_MEL["n_mels"], 2):
            raise ValueError(f"stats must be [{SPECVQGAN_MEL['n_mels']}, 2] (mean, std per band), got {stats.shape}")
        self.network = network.eval()
        self.means = torch.tensor(stats[:, :1], dtype=torch.float32)  # [80, 1]
        self.stds = torch.tensor(stats[:, 1:], dtype=torch.float32)  # [80, 1]
        self.weights_sha256, self.stats_sha256 = weights_sha256, stats_sha256
        self.methods = _check_methods(methods)
        self.kid_subsets, self.kid_subset_size, self.isc_splits, self.seed = (kid_subsets, kid_subset_size,
                                                                              isc_splits, seed)
        self.reset()

    @classmethod
    def from_files(cls, weights: str | os.PathLike[str] | None, stats: str | os.PathLike[str] | None,
                   **kwargs: Any) -> MelceptionMetrics:
        """Load the Melception checkpoint and the statistics file (never downloaded; sha256 of both logged)."""
        network, weights_sha = load_melception(weights)
        table, stats_sha = load_melception_stats(stats)
        return cls(network, table, weights_sha256=weights_sha, stats_sha256=stats_sha, **kwargs)

    def reset(self) -> None:
        self._out: dict[str, dict[str, list[np.ndarray]]] = {"reference": {}, "generated": {}}
        self._pairs: list[tuple[np.ndarray, np.ndarray]] = []

    def embed(self, value: Any, *, mels: bool = False) -> dict[str, np.ndarray]:
        """One clip (waveform [n] at 22,050 Hz, or mel spectrogram [80, T] with ``mels``) → Melception outputs
        {'2048': [2048], 'logits_unbiased': [C], 'logits': [C]} float64."""
        mel = torch.as_tensor(value, dtype=torch.float32) if mels else specvqgan_mel(value)  # [80, T]
        if mel.ndim != 2 or mel.shape[0] != SPECVQGAN_MEL["n_mels"]:
            raise ValueError(f"expected one clip: a waveform [n] or a mel spectrogram [80, T], got mel shape "
                             f"{tuple(mel.shape)}")
        x = (mel - self.means) / self.stds  # [80, T]
        return {k: v[0].double().cpu().numpy() for k, v in self.network.outputs(x[None]).items()}

    def update(self, *, reference: Any = None, generated: Any = None, mels: bool = False,
               embedded: bool = False) -> None:
        """Add one clip to either set; both at once also make a pair for KL. ``embedded``: ``embed`` outputs."""
        if reference is None and generated is None:
            raise ValueError("update() needs a reference and/or a generated clip, got neither")
        outs = {}
        for name, value in (("reference", reference), ("generated", generated)):
            if value is not None:
                outs[name] = value if embedded else self.embed(value, mels=mels)
                for key, feat in outs[name].items():
                    self._out[name].setdefault(key, []).append(feat)
        if len(outs) == 2:
            self._pairs.append((outs["reference"]["logits"], outs["generated"]["logits"]))

    def compute(self) -> dict[str, Any]:
        ref, gen = self._out["reference"].get("2048", []), self._out["generated"].get("2048", [])
        if len(ref) < 2 or len(gen) < 2:
            raise ValueError(f"Melception FID needs at least 2 clips per set, got {len(ref)} reference and "
                             f"{len(gen)} generated")
        ref_m, gen_m = np.stack(ref), np.stack(gen)
        kid_mean, kid_std = kernel_inception_distance(ref_m, gen_m, subsets=self.kid_subsets,
                                                      subset_size=self.kid_subset_size, seed=self.seed)
        logits = np.stack(self._out["generated"]["logits_unbiased"])
        isc_mean, isc_std = inception_score(logits, splits=min(self.isc_splits, len(logits)), seed=self.seed)
        kl = (kl_divergence(np.stack([p[0] for p in self._pairs]), np.stack([p[1] for p in self._pairs]))
              if self._pairs else None)
        return {**_fids(ref_m, gen_m, self.methods), "kid_mean": kid_mean, "kid_std": kid_std, "kl": kl,
                "isc_mean": isc_mean, "isc_std": isc_std, "n_reference": len(ref_m), "n_generated": len(gen_m),
                "n_pairs": len(self._pairs),
                "weights_sha256": self.weights_sha256, "stats_sha256": self.stats_sha256,
                "spectrogram": SPECVQGAN_MEL}
