"""Weight-based metric objects with random networks: spectrogram FID, the Melception protocol, KL and the Inception
Score (EVALUATION.md §2–3, §7.4 items 10–11), and SpecVQGAN's spectrogram against librosa."""

from __future__ import annotations

import math
import urllib.request
from pathlib import Path

import numpy as np
import pytest
import torch

from egosonics.errors import EgoSonicsError
from egosonics.evaluation.classify import inception_score, kl_divergence
from egosonics.evaluation.frechet import frechet_distance_from_embeddings
from egosonics.evaluation.inception import FIDInceptionV3, Melception
from egosonics.evaluation.weight_based import (
    MelceptionMetrics,
    SpectrogramFID,
    frechet_distance_low_rank,
    load_melception_stats,
    spectrogram_image,
    specvqgan_mel,
)
from tests.conftest import chirp, clicks, noise_bursts
from tests.evaluation.test_inception import calibrate

SR = 22_050


@pytest.fixture(scope="module")
def waves() -> list[np.ndarray]:
    """Four different 2 s sounds."""
    n = 2 * SR
    return [clicks([0.3, 0.9, 1.5], n), chirp(n), noise_bursts(n, seed=1), chirp(n, f0=2000, f1=300)]


@pytest.fixture(scope="module")
def fid_net() -> FIDInceptionV3:
    torch.manual_seed(0)
    net = FIDInceptionV3()
    return calibrate(net, net.features, torch.rand(3, 1, 64, 64))


def test_specvqgan_mel_matches_librosa() -> None:
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(0)
    y = (0.1 * rng.standard_normal(10 * SR)).astype(np.float64)
    y[SR:SR + 2000] += np.sin(np.arange(2000) * 0.3)
    # SpecVQGAN's TRANSFORMS with librosa 0.8's stft (reflect padding), written out.
    spec = np.abs(librosa.stft(y, n_fft=1024, hop_length=256, pad_mode="reflect"))
    mel = librosa.filters.mel(sr=SR, n_fft=1024, fmin=125, fmax=7600, n_mels=80) @ spec
    expected = np.clip((20 * np.log10(np.maximum(1e-5, mel)) - 20 + 100) / 100, 0, 1)[:, :860]
    ours = specvqgan_mel(y).numpy()
    assert ours.shape == (80, 860)
    assert np.abs(ours - expected).max() < 1e-4
    # Shorter audio is zero-padded to 10 s, as SpecVQGAN's read_wav does.
    short = specvqgan_mel(y[: 3 * SR]).numpy()
    assert short.shape == (80, 860) and np.all(short[:, 300:] == 0.0)


def test_spectrogram_image_is_the_model_image_flipped(waves) -> None:
    from egosonics.spectrogram.codec import encode_windows

    image = spectrogram_image(waves[1])
    assert image.shape == (512, 512) and image.min() >= 0 and image.max() <= 1
    assert torch.equal(image, encode_windows(waves[1])[0].flip(0))
    with pytest.raises(ValueError, match="16000 Hz: resample first"):
        spectrogram_image(waves[1], sample_rate=16_000)


def test_low_rank_frechet_equals_eigh() -> None:
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((7, 40)), 0.5 + 2 * rng.standard_normal((9, 40))
    assert frechet_distance_low_rank(x, y) == pytest.approx(frechet_distance_from_embeddings(x, y, method="eigh"),
                                                            rel=1e-6)  # eigh: √ of round-off eigenvalues
    assert frechet_distance_low_rank(x, x) == pytest.approx(0.0, abs=1e-9)


def test_spectrogram_fid(fid_net, waves) -> None:
    fid = SpectrogramFID(fid_net, weights_sha256="abc", methods=("eigh",))
    fid.update(reference=waves[:3], generated=waves[:3])
    same = fid.compute()
    assert same["fid"] == pytest.approx(0.0, abs=1e-6) and same["fid_method"] == "eigh"
    assert (same["n_reference"], same["n_generated"], same["dim"], same["weights_sha256"]) == (3, 3, 2048, "abc")
    fid.reset()
    fid.update(reference=waves[:3])
    fid.update(generated=[w[::-1].copy() for w in waves[1:]])  # other sounds
    assert fid.compute()["fid"] > 1e-3
    # Images and precomputed features give the same statistics as waveforms.
    images = torch.stack([spectrogram_image(w) for w in waves[:2]])
    assert np.allclose(fid.embed(images, images=True), fid.embed(waves[:2]))
    fid.reset()
    fid.update(generated=waves[0])
    with pytest.raises(ValueError, match="at least 2 clips per set, got 0 reference and 1 generated"):
        fid.compute()
    with pytest.raises(ValueError, match="unknown Fréchet methods"):
        SpectrogramFID(fid_net, methods=("cholesky",))


@pytest.fixture(scope="module")
def melception() -> MelceptionMetrics:
    torch.manual_seed(0)
    net = Melception(num_classes=7)
    calibrate(net, net.outputs, torch.randn(3, 80, 40))
    stats = np.stack([np.full(80, 0.4), np.full(80, 0.2)], axis=1)
    return MelceptionMetrics(net, stats, methods=("eigh",), kid_subsets=5)


def test_melception_metrics(melception) -> None:
    rng = np.random.default_rng(0)
    mels = [rng.uniform(0, 1, (80, 40)).astype(np.float32) for _ in range(4)]
    m = melception
    m.reset()
    for mel in mels:
        m.update(reference=mel, generated=mel, mels=True)
    same = m.compute()
    assert same["fid"] == pytest.approx(0.0, abs=1e-6)
    assert same["kl"] == pytest.approx(0.0, abs=1e-5)  # KL(p ‖ p + 1e-6)
    assert same["n_pairs"] == 4 and same["isc_mean"] >= 1.0 - 1e-9
    m.reset()
    for i, mel in enumerate(mels):
        m.update(reference=mel, generated=np.roll(mels[(i + 1) % 4], 7, axis=1) * 0.5, mels=True)
    other = m.compute()
    assert other["fid"] > 1e-3 and other["kl"] > 1e-4
    with pytest.raises(ValueError, match=r"mel spectrogram \[80, T\], got mel shape \(64, 40\)"):
        m.update(generated=np.zeros((64, 40)), mels=True)
    with pytest.raises(ValueError, match=r"stats must be \[80, 2\]"):
        MelceptionMetrics(m.network, np.zeros((64, 2)))


def test_melception_stats_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: pytest.fail("network"))
    good = tmp_path / "train_means_stds_melspec_10s_22050hz.txt"
    np.savetxt(good, np.stack([np.linspace(0.2, 0.6, 80), np.full(80, 0.1)], axis=1), fmt="%0.8f")
    stats, digest = load_melception_stats(good)
    assert stats.shape == (80, 2) and len(digest) == 64
    with pytest.raises(EgoSonicsError, match=r"nope\.txt: not found.*train_means_stds_melspec_10s_22050hz\.txt"):
        load_melception_stats(tmp_path / "nope.txt")
    bad = tmp_path / "bad.txt"
    np.savetxt(bad, np.ones((10, 2)))
    with pytest.raises(EgoSonicsError, match=r"got shape \(10, 2\)"):
        load_melception_stats(bad)
    with pytest.raises(EgoSonicsError, match="Melception metrics needs a local weight file"):
        MelceptionMetrics.from_files(None, good)


def test_kl_direction_and_oracles() -> None:
    # SpecVQGAN kl.py's toy: p_gt = [9/25, 12/25, 4/25], p_gen uniform; KL(gt ‖ gen) = Σ p log(p / (1/3 + 1e-6)).
    p = np.array([9 / 25, 12 / 25, 4 / 25])
    expected = float(np.sum(p * (np.log(p) - np.log(1 / 3 + 1e-6))))
    assert kl_divergence(np.log(p)[None], np.zeros((1, 3))) == pytest.approx(expected, rel=1e-9)
    reverse = float(np.sum(1 / 3 * (np.log(1 / 3) - np.log(p + 1e-6))))
    assert kl_divergence(np.zeros((1, 3)), np.log(p)[None]) == pytest.approx(reverse, rel=1e-9)
    assert abs(expected - reverse) > 1e-3  # the direction matters
    logits = np.random.default_rng(0).standard_normal((5, 4))
    assert kl_divergence(logits, logits) == pytest.approx(0.0, abs=1e-5)
    with pytest.raises(ValueError, match=r"same shape, got \(5, 4\) and \(4, 4\)"):
        kl_divergence(logits, logits[:4])


def test_inception_score_oracles() -> None:
    same = np.tile([[2.0, -1.0, 0.5]], (20, 1))
    assert inception_score(same, splits=2)[0] == pytest.approx(1.0)
    classes = 4
    one_hot = 60.0 * np.eye(classes)[np.arange(40) % classes]  # evenly spread, one class per sample
    mean, std = inception_score(one_hot, splits=1)
    assert mean == pytest.approx(classes, rel=1e-6) and std == 0.0
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((30, 5))
    assert inception_score(logits, splits=3, shuffle=False) == inception_score(logits, splits=3, shuffle=False)
    assert math.isfinite(inception_score(logits, splits=3)[0])
    with pytest.raises(ValueError, match=r"splits must be in 1\.\.30"):
        inception_score(logits, splits=31)
