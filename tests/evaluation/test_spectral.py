"""Paired spectral metrics: the identities of EVALUATION.md §7.4 items 18–21, and a direct port of auraloss."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from egosonics.evaluation.spectral import (
    PairedSpectralMetrics,
    log_spectral_distance,
    log_stft_magnitude,
    mcd_mfcc,
    mel_l1,
    multi_resolution_stft,
    rms_envelope_correlation,
    si_sdr,
    spectral_convergence,
)
from tests.conftest import chirp, clicks, noise_bursts

SR = 22_050


@pytest.fixture(scope="module")
def x() -> torch.Tensor:
    n = 3 * SR
    return torch.from_numpy(chirp(n) + noise_bursts(n) + clicks([0.5, 1.5, 2.5], n))


def test_identical_signals_score_zero(x: torch.Tensor) -> None:  # item 18
    assert float(spectral_convergence(x, x)) == 0
    assert float(log_stft_magnitude(x, x)) == 0
    assert float(multi_resolution_stft(x, x)) == 0
    assert float(log_spectral_distance(x, x)) == 0
    assert float(mel_l1(x, x)) == 0
    assert float(mcd_mfcc(x, x)) == 0
    assert float(rms_envelope_correlation(x, x)) == pytest.approx(1.0, abs=1e-12)


def test_si_sdr_is_large_for_identical_signals_and_scale_invariant(x: torch.Tensor) -> None:  # item 18
    same = float(si_sdr(x, x))
    assert same > 100
    assert float(si_sdr(x, 3 * x)) == pytest.approx(same, rel=1e-9)
    assert float(si_sdr(x, -0.5 * x)) == pytest.approx(same, rel=1e-9)


def test_si_sdr_at_a_known_snr() -> None:  # item 19
    rng = np.random.default_rng(0)
    s = rng.standard_normal(5 * SR)
    noise = rng.standard_normal(5 * SR)
    noise *= np.linalg.norm(s) / np.linalg.norm(noise) / math.sqrt(10)  # SNR 10 dB
    assert float(si_sdr(s, s + noise)) == pytest.approx(10.0, abs=0.5)
    assert math.isnan(float(si_sdr(np.zeros(100), np.ones(100))))


def test_lsd_of_x_against_2x_is_log10_4(x: torch.Tensor) -> None:  # item 20
    assert float(log_spectral_distance(x, 2 * x)) == pytest.approx(math.log10(4), rel=1e-4)


def test_sc_against_silence_is_about_one_but_not_exactly(x: torch.Tensor) -> None:  # item 21
    sc = float(spectral_convergence(x, 0 * x))
    assert sc == pytest.approx(1.0, abs=1e-3) and sc != 1.0


def auraloss_mrstft(x: torch.Tensor, y: torch.Tensor) -> float:
    """auraloss's MultiResolutionSTFTLoss (defaults) written out: batched Frobenius SC and L1 log magnitude."""
    sc = mag = 0.0
    for n_fft, hop, win in zip((1024, 2048, 512), (120, 240, 50), (600, 1200, 240), strict=True):
        window = torch.hann_window(win)

        def magnitude(s: torch.Tensor, n_fft: int = n_fft, hop: int = hop, win: int = win,
                      window: torch.Tensor = window) -> torch.Tensor:
            spec = torch.stft(s, n_fft, hop, win, window, return_complex=True)
            return torch.sqrt(torch.clamp(spec.real ** 2 + spec.imag ** 2, min=1e-7)).transpose(2, 1)

        xm, ym = magnitude(x), magnitude(y)
        sc += float(torch.norm(ym - xm, p="fro") / torch.norm(ym, p="fro"))
        mag += float(torch.nn.functional.l1_loss(torch.log(ym), torch.log(xm)))
    return sc / 3 + mag / 3


def test_multi_resolution_stft_matches_auraloss(x: torch.Tensor) -> None:
    y = x + 0.05 * torch.from_numpy(np.random.default_rng(1).standard_normal(len(x)).astype(np.float32))
    ours = float(multi_resolution_stft(x, y))  # reference first; auraloss takes (prediction, target)
    assert ours > 0
    assert ours == pytest.approx(auraloss_mrstft(y[None], x[None]), rel=1e-4)


def test_metrics_order_a_mild_and_a_strong_distortion(x: torch.Tensor) -> None:
    rng = np.random.default_rng(2)
    noise = torch.from_numpy(rng.standard_normal(len(x)).astype(np.float32))
    mild, strong = x + 0.01 * noise, x + 0.3 * noise
    for metric in (spectral_convergence, log_stft_magnitude, multi_resolution_stft, log_spectral_distance, mel_l1,
                   mcd_mfcc):
        assert 0 < float(metric(x, mild)) < float(metric(x, strong)), metric.__name__
    assert float(rms_envelope_correlation(x, mild)) > float(rms_envelope_correlation(x, strong))
    assert float(si_sdr(x, mild)) > float(si_sdr(x, strong))


def test_rms_envelope_correlation_edge_cases() -> None:
    n = 20 * 735
    ramp = np.linspace(0, 1, n) * np.sin(np.arange(n))
    assert float(rms_envelope_correlation(ramp, 0.1 * ramp)) == pytest.approx(1.0)
    assert float(rms_envelope_correlation(ramp, ramp[::-1].copy())) < -0.9
    assert math.isnan(float(rms_envelope_correlation(ramp, np.zeros(n))))
    with pytest.raises(ValueError, match="at least 2 frames"):
        rms_envelope_correlation(ramp[:1000], ramp[:1000])


def test_paired_metric_object(x: torch.Tensor) -> None:
    metric = PairedSpectralMetrics()
    with pytest.raises(ValueError, match="no clips added"):
        metric.compute()
    rows = metric.update(torch.stack([x, x]), torch.stack([x, 2 * x]))
    assert len(rows) == 2 and rows[0]["sc"] == 0 and rows[1]["lsd"] == pytest.approx(math.log10(4), rel=1e-4)
    metric.update(x.numpy(), x.numpy())
    out = metric.compute()
    assert out["n"] == 3 and set(PairedSpectralMetrics.NAMES) <= set(out)
    assert out["lsd"] == pytest.approx(math.log10(4) / 3, rel=1e-4)
    with pytest.raises(ValueError, match=r"reference \(66150,\) and estimate \(66149,\) differ in shape"):
        metric.update(x, x[:-1])
    with pytest.raises(ValueError, match="empty"):
        metric.update(np.zeros(0), np.zeros(0))
    metric.reset()
    assert metric.rows == []
    with pytest.raises(ValueError, match=r"params\.sample_rate 22050 differs from sample_rate 16000"):
        PairedSpectralMetrics(sample_rate=16_000)
