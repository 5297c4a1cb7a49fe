"""Our torch mel filterbank, mel spectrogram, MFCC and delta against librosa (the dev-only reference), and the
statistic embeddings' shapes and settings."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from egosonics.evaluation.embeddings import EMBEDDINGS, embed, logmel_stats, mfcc_stats
from egosonics.evaluation.features import delta, frame_rms, magnitude_spectrogram, mel_filterbank, mel_spectrogram, mfcc
from tests.conftest import chirp, noise_bursts

librosa = pytest.importorskip("librosa")

SR = 22_050


@pytest.fixture(scope="module")
def signal() -> np.ndarray:
    n = 2 * SR
    return (chirp(n) + noise_bursts(n)).astype(np.float32)


@pytest.mark.parametrize(("n_fft", "n_mels", "fmin", "fmax"), [(1024, 80, 0.0, None), (2048, 128, 0.0, None),
                                                                (1024, 64, 125.0, 7600.0)])
def test_mel_filterbank_matches_librosa(n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> None:
    ours = mel_filterbank(SR, n_fft, n_mels, fmin, fmax)
    ref = librosa.filters.mel(sr=SR, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    np.testing.assert_allclose(ours, ref, rtol=1e-5, atol=1e-8)


def test_mel_spectrogram_and_mfcc_match_librosa(signal: np.ndarray) -> None:
    x = torch.from_numpy(signal).double()
    mel = mel_spectrogram(x, sample_rate=SR, n_fft=1024, hop_length=256, n_mels=80, power=1.0).numpy()
    ref = librosa.feature.melspectrogram(y=signal.astype(np.float64), sr=SR, n_fft=1024, hop_length=256, n_mels=80,
                                         power=1.0)
    np.testing.assert_allclose(mel, ref, rtol=1e-6, atol=1e-9)
    ours = mfcc(x, sample_rate=SR, n_mfcc=20).numpy()
    ref_mfcc = librosa.feature.mfcc(y=signal.astype(np.float64), sr=SR, n_mfcc=20)
    np.testing.assert_allclose(ours, ref_mfcc, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(delta(ref_mfcc), librosa.feature.delta(ref_mfcc), rtol=1e-9, atol=1e-9)


def test_stft_magnitude_options(signal: np.ndarray) -> None:
    x = torch.from_numpy(signal)
    mag = magnitude_spectrogram(x, n_fft=1024, hop_length=120, win_length=600, pad_mode="reflect", floor=1e-7)
    assert mag.shape == (513, 1 + len(signal) // 120)
    assert float(mag.min()) >= np.sqrt(1e-7) * 0.999
    power = magnitude_spectrogram(x, n_fft=512, hop_length=128, power=2.0)
    torch.testing.assert_close(power, magnitude_spectrogram(x, n_fft=512, hop_length=128) ** 2, rtol=1e-4, atol=1e-6)
    with pytest.raises(ValueError, match="n_fft=0"):
        magnitude_spectrogram(x, n_fft=0, hop_length=1)


def test_embeddings_shapes_batches_and_settings(signal: np.ndarray) -> None:
    assert logmel_stats(signal).shape == (128,)
    assert mfcc_stats(signal).shape == (80,)
    batch = np.stack([signal, 0.5 * signal[::-1].copy()])
    np.testing.assert_allclose(logmel_stats(batch)[0], logmel_stats(signal), rtol=1e-5)
    np.testing.assert_allclose(mfcc_stats(batch)[1], mfcc_stats(batch[1]), rtol=1e-5, atol=1e-6)
    # The log-mel embedding is (mean, std) over frames of log(mel + 1e-5), 64 mels, n_fft 1024, hop 256.
    ref = np.log(librosa.feature.melspectrogram(y=signal.astype(np.float64), sr=SR, n_fft=1024, hop_length=256,
                                                n_mels=64, power=1.0) + 1e-5)
    np.testing.assert_allclose(logmel_stats(signal), np.concatenate([ref.mean(1), ref.std(1)]), rtol=1e-4, atol=1e-4)
    assert set(EMBEDDINGS) == {"logmel_stats", "mfcc_stats"}
    np.testing.assert_array_equal(embed("mfcc_stats", signal), mfcc_stats(signal))
    with pytest.raises(ValueError, match="unknown embedding 'vggish'"):
        embed("vggish", signal)
    with pytest.raises(ValueError, match="width=9"):
        mfcc_stats(signal[:2000])


def test_frame_rms_is_aligned_with_video_frames() -> None:
    x = np.zeros(10 * 735, np.float32)
    x[3 * 735:4 * 735] = 0.5  # frame 3 only
    rms = frame_rms(x, 22_050, 30)
    assert rms.shape == (10,)
    np.testing.assert_allclose(rms, np.where(np.arange(10) == 3, 0.5, 0.0), atol=1e-7)
    assert frame_rms(x, 22_050, 30, num_frames=12).shape == (12,)
    # A non-integer number of samples per frame (29.97 fps) still covers every sample once.
    y = np.ones(22_050, np.float32)
    np.testing.assert_allclose(frame_rms(y, 22_050, 29.97), 1.0, atol=2e-3)
