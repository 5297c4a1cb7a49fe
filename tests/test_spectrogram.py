"""The spectrogram path: parameters, normalisation and resizing as inverse pairs, PNG files, fast Griffin-Lim."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from egosonics.clip_spec import DEFAULT_CLIP, ClipSpec
from egosonics.evaluation.spectral import log_spectral_distance, spectral_convergence
from egosonics.media.files import MediaError
from egosonics.spectrogram.codec import decode_windows, encode_windows
from egosonics.spectrogram.griffin_lim import griffin_lim
from egosonics.spectrogram.params import DEFAULT_PARAMS, SpectrogramParams
from egosonics.spectrogram.png import load_spectrogram_png, save_spectrogram_png
from egosonics.spectrogram.transform import (
    from_model_image,
    from_superres_image,
    magnitude_to_unit,
    stft_magnitude,
    to_model_image,
    to_superres_image,
    unit_to_magnitude,
    waveform_to_unit,
)
from tests.conftest import chirp, clicks, noise_bursts

SR = DEFAULT_CLIP.sample_rate
N = DEFAULT_CLIP.num_samples


def test_paper_defaults():
    p = DEFAULT_PARAMS
    assert (p.sample_rate, p.n_fft, p.hop_length, p.num_bins) == (22_050, 2048, 512, 1024)
    assert p.num_frames(N) == 430
    assert p.model_size == (512, 512) and p.superres_size == (1024, 512)
    assert stft_magnitude(torch.zeros(N)).shape == (1024, 430)
    assert DEFAULT_CLIP.num_frames == 300 and DEFAULT_CLIP.num_samples == 220_500


def test_params_validate_and_round_trip_through_dict():
    assert SpectrogramParams.from_dict(DEFAULT_PARAMS.to_dict()) == DEFAULT_PARAMS
    with pytest.raises(ValueError, match="unknown window 'hamming'"):
        SpectrogramParams(window="hamming")
    with pytest.raises(ValueError, match="db_floor"):
        SpectrogramParams(db_floor=0.0, db_ceiling=-10.0)
    with pytest.raises(ValueError, match="unknown spectrogram parameters"):
        SpectrogramParams.from_dict({"hop": 3})
    with pytest.raises(ValueError, match=r"unknown freq_pooling 'max'; choose from \['db', 'power'\]"):
        SpectrogramParams(freq_pooling="max")
    power = SpectrogramParams(model_size=(32, 256), freq_pooling="power")
    assert SpectrogramParams.from_dict(power.to_dict()) == power
    # A model folder saved before the option existed has no freq_pooling: it keeps the dB means it was trained on.
    older = {k: v for k, v in power.to_dict().items() if k != "freq_pooling"}
    assert SpectrogramParams.from_dict(older).freq_pooling == "db"


def test_power_pooling_keeps_a_narrow_tone_that_db_pooling_buries():
    t = np.arange(N) / SR
    # A sine at -20 dB on bin 100 (row 3 of 32) over noise at about -90 dB.
    tone = 0.1 * np.sin(2 * np.pi * 100 * DEFAULT_PARAMS.bin_hz * t)
    quiet = 3e-5 * np.random.default_rng(0).standard_normal(N)
    unit = waveform_to_unit(torch.tensor(tone + quiet, dtype=torch.float32))
    to_db = DEFAULT_PARAMS.db_ceiling - DEFAULT_PARAMS.db_floor
    rows = {pool: to_model_image(unit, SpectrogramParams(model_size=(32, 256), freq_pooling=pool))
            for pool in ("db", "power")}
    peak_db = float(unit[100, 10:-10].mean()) * to_db + DEFAULT_PARAMS.db_floor  # -20 dB
    # The power of 32 bins: the tone's (a Hann window spreads it as 1 + 2 × 0.5² of its peak's) over 32, so 13.3 dB
    # below its peak; the mean of the 32 bins' dB values drops it into the noise.
    power_db = float(rows["power"][3, 10:-10].mean()) * to_db + DEFAULT_PARAMS.db_floor
    mean_db = float(rows["db"][3, 10:-10].mean()) * to_db + DEFAULT_PARAMS.db_floor
    assert peak_db == pytest.approx(-20, abs=0.1)
    assert power_db == pytest.approx(peak_db + 10 * math.log10(1.5 / 32), abs=0.3)  # measured -33.29
    assert mean_db < peak_db - 60  # measured -92.9
    # Elsewhere (noise only) both poolings agree within a few dB, and a constant image stays what it was.
    assert abs(float(rows["power"][20].mean() - rows["db"][20].mean())) * to_db < 4
    flat = torch.full((1024, 430), 0.3)
    assert torch.allclose(to_model_image(flat, SpectrogramParams(freq_pooling="power")), torch.full((512, 512), 0.3),
                          atol=1e-5)


def test_full_scale_sine_is_0_db_and_silence_is_0():
    t = np.arange(N) / SR
    # A sine centred on bin 100 has its peak at exactly the reference magnitude.
    sine = torch.tensor(np.sin(2 * np.pi * 100 * DEFAULT_PARAMS.bin_hz * t), dtype=torch.float32)
    unit = waveform_to_unit(sine)
    assert unit[100, 5:-5].min() == pytest.approx(1.0, abs=1e-3)
    assert waveform_to_unit(torch.zeros(N)).max() == 0.0


def test_normalisation_is_an_exact_inverse_pair_inside_the_db_range():
    magnitude = stft_magnitude(torch.from_numpy(chirp(N)))
    floor = DEFAULT_PARAMS.reference_magnitude * 10 ** (DEFAULT_PARAMS.db_floor / 20)
    inside = magnitude > floor * 1.01
    back = unit_to_magnitude(magnitude_to_unit(magnitude))
    rel = ((back - magnitude).abs() / magnitude)[inside]
    assert inside.float().mean() > 0.3
    assert rel.max() < 1e-4


def test_superres_resize_has_an_exact_left_inverse():
    unit = waveform_to_unit(torch.from_numpy(noise_bursts(N)))
    image = to_superres_image(unit)
    assert image.shape == (1024, 512)
    assert torch.allclose(from_superres_image(image, 430), unit, atol=1e-5)


def test_model_resize_keeps_time_and_is_close_in_frequency():
    unit = waveform_to_unit(torch.from_numpy(chirp(N) + clicks([1.0, 5.0], N)))
    image = to_model_image(unit)
    assert image.shape == (512, 512)
    back = from_model_image(image, 430)
    assert back.shape == (1024, 430)
    assert (back - unit).abs().mean() < 0.04  # measured 0.024 (2.4 dB): halving the bins loses noise detail
    # Columns line up with time: a click at 5.0 s lands in column 5.0 / 10 * 512.
    column_energy = image.mean(dim=0)
    assert abs(int(column_energy[200:].argmax()) + 200 - round(5.0 / 10 * 512)) <= 1


# Measured with 32 iterations: chirp SC 0.19 / LSD 0.40, clicks 0.06 / 0.39, noise bursts 0.27 / 0.50.
@pytest.mark.parametrize(("signal", "max_sc", "max_lsd"), [("chirp", 0.3, 0.6), ("clicks", 0.15, 0.6),
                                                           ("noise", 0.4, 0.7)])
def test_round_trip_through_the_model_image_keeps_the_sound(signal, max_sc, max_lsd):
    wave = {"chirp": chirp(N), "clicks": clicks([0.5, 2.25, 6.0, 9.1], N), "noise": noise_bursts(N)}[signal]
    images = encode_windows(wave)  # [1, 512, 512]
    back = decode_windows(images, N, n_iter=32, seed=0)
    ref, est = torch.from_numpy(wave), torch.from_numpy(back)
    sc = float(spectral_convergence(ref, est))
    lsd = float(log_spectral_distance(ref, est))
    assert sc < max_sc, sc
    assert lsd < max_lsd, lsd
    # Events stay in place: the envelope peaks of the clicks are within 1 video frame.
    if signal == "clicks":
        hop = DEFAULT_CLIP.num_samples // (DEFAULT_CLIP.num_frames)  # 735 samples per video frame
        env_ref = np.abs(wave[: N // hop * hop]).reshape(-1, hop).max(axis=1)
        env_est = np.abs(back[: N // hop * hop]).reshape(-1, hop).max(axis=1)
        ref_peaks = set(np.flatnonzero(env_ref > 0.3 * env_ref.max()).tolist())
        est_peaks = np.flatnonzero(env_est > 0.3 * env_est.max())
        assert all(min(abs(p - r) for r in ref_peaks) <= 1 for p in est_peaks)


def test_griffin_lim_converges_and_momentum_helps():
    wave = torch.from_numpy(chirp(N) + noise_bursts(N) * 0.5)
    magnitude = stft_magnitude(wave)

    def sc_of(**kwargs):
        y = griffin_lim(magnitude, N, n_iter=16, generator=torch.Generator().manual_seed(0), **kwargs)
        return float((stft_magnitude(y) - magnitude).norm() / magnitude.norm())

    fast, classic = sc_of(momentum=0.99), sc_of(momentum=0.0)
    assert fast < classic
    assert fast < 0.2


def test_griffin_lim_is_batched_and_seeded():
    waves = torch.stack([torch.from_numpy(chirp(N)), torch.from_numpy(noise_bursts(N))])
    magnitude = stft_magnitude(waves)  # [2, 1024, 430]
    a = griffin_lim(magnitude, N, n_iter=4, generator=torch.Generator().manual_seed(3))
    b = griffin_lim(magnitude, N, n_iter=4, generator=torch.Generator().manual_seed(3))
    assert a.shape == (2, N)
    assert torch.equal(a, b)
    single = griffin_lim(magnitude[1:], N, n_iter=4, init="zeros")
    batched = griffin_lim(magnitude, N, n_iter=4, init="zeros")
    assert torch.allclose(single[0], batched[1], atol=1e-5)
    with pytest.raises(ValueError, match="unknown init 'x'"):
        griffin_lim(magnitude, N, init="x")


def test_windows_of_a_long_waveform_join_in_order():
    clip = ClipSpec(duration_s=2.0)
    n = int(4.5 * SR)
    wave = clicks([0.5, 2.5, 4.2], n)
    images = encode_windows(wave, clip=clip, params=SpectrogramParams(model_size=(512, 86)))
    assert images.shape[0] == math.ceil(4.5 / 2.0)
    back = decode_windows(images, n, clip=clip, params=SpectrogramParams(model_size=(512, 86)), n_iter=8)
    assert back.shape == (n,)
    for t in (0.5, 2.5, 4.2):
        i = int(t * SR)
        assert np.abs(back[i - 200:i + 1500]).max() > 5 * np.abs(back[i - 3000:i - 1500]).max()


def test_png_round_trip_keeps_values_orientation_and_params(tmp_path):
    unit = to_model_image(waveform_to_unit(torch.from_numpy(chirp(N))))
    params = SpectrogramParams(db_floor=-90.0)
    path = save_spectrogram_png(tmp_path / "s.png", unit, params, layout="model", duration_s=10.0)
    image, loaded, meta = load_spectrogram_png(path)
    assert loaded == params
    assert meta == {"layout": "model", "duration_s": 10.0}
    assert (image - unit).abs().max() <= 1 / 65535
    # Drawn with low frequencies at the bottom: the chirp's start (low) is in the last rows of the file.
    from PIL import Image

    pixels = np.array(Image.open(path))
    assert pixels.dtype == np.uint16
    assert pixels[-60:, :20].mean() > pixels[:60, :20].mean()


def test_png_without_parameters_is_refused(tmp_path):
    from PIL import Image

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "plain.png")
    with pytest.raises(MediaError, match=r"plain\.png: is not an EgoSonics spectrogram PNG"):
        load_spectrogram_png(tmp_path / "plain.png")
