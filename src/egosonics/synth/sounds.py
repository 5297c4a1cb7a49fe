"""Physically motivated sound synthesis for the synthetic scenes.

Every function returns a mono float64 waveform whose sample 0 is the event's onset (the visual contact), made only
with causal filters, so nothing sounds before the onset and every sound starts with a transient in its first
millisecond. Peaks are normalised (0.3–0.7) before mixing; loudness differences between classes are deliberate.

    impact     modal synthesis: damped sinusoids at material-dependent, inharmonic mode ratios, higher modes decaying
               faster (wood: low, few, short; metal: mid, many, ringing for a second; glass: high, bright, ~0.3 s),
               plus a contact burst whose length and brightness follow the material's stiffness
    chop       the knife crunching through a vegetable (high-passed crackle) and knocking the wooden board
    saw        a rasp: band-passed noise gated at the tooth rate; level and tooth rate follow the blade's speed
    machine    motor hum whose pitch and level follow the rotor's speed (spin-up, spin-down), air noise, switch click
    pour       flow noise and Minnaert bubbles at a rate set by the flow, a resonance that rises as the glass fills,
               and the first splash
    footsteps  a heel's click and thump and the floor's own response (wood knock, gravel crunch, tile click)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal

# ------------------------------------------------------------------------------------------------ building blocks


@lru_cache(maxsize=512)
def _sos(kind: str, cutoff: float | tuple[float, float], sr: int, order: int = 2) -> np.ndarray:
    """Butterworth second-order sections; cut-offs are clamped below Nyquist (cached: designs repeat)."""
    nyq = 0.5 * sr
    if isinstance(cutoff, tuple):
        lo, hi = max(cutoff[0], 1.0), min(cutoff[1], 0.95 * nyq)
        return signal.butter(order, (lo, hi), btype="bandpass", fs=sr, output="sos")
    return signal.butter(order, min(cutoff, 0.95 * nyq), btype=kind, fs=sr, output="sos")


def filtered(x: np.ndarray, kind: str, cutoff: float | tuple[float, float], sr: int, order: int = 2) -> np.ndarray:
    """Causal Butterworth filtering (zero initial state: silence in, silence out)."""
    return signal.sosfilt(_sos(kind, cutoff, sr, order), x)


def decay(n: int, tau_s: float, sr: int) -> np.ndarray:
    """exp(-t / tau) for n samples."""
    return np.exp(-np.arange(n) / (tau_s * sr))


def burst(rng: np.random.Generator, n: int, tau_s: float, sr: int, band: float | tuple[float, float],
          kind: str = "lowpass") -> np.ndarray:
    """Filtered noise under an exponential decay, peak 1: the contact transient every event starts with.

    The decay is applied after filtering, so the burst is loudest in its first samples.
    """
    noise = filtered(rng.standard_normal(n), kind, band, sr)
    out = noise * decay(n, tau_s, sr)
    return out / (np.abs(out).max() + 1e-12)


def modal(freqs: np.ndarray, amps: np.ndarray, taus: np.ndarray, n: int, sr: int) -> np.ndarray:
    """Sum of damped sinusoids (a struck object's modes), sine phase so that each starts from rest. [n]"""
    keep = freqs < 0.45 * sr
    t = np.arange(n) / sr  # [n]
    modes = np.sin(2 * np.pi * freqs[keep, None] * t) * np.exp(-t / taus[keep, None])  # [m, n]
    return amps[keep] @ modes


def normalise(x: np.ndarray, peak: float) -> np.ndarray:
    """Scale to a given peak amplitude and fade out the last 5 ms (a cut tail would click)."""
    x = x * (peak / (np.abs(x).max() + 1e-12))
    fade = min(len(x), 110)
    x[len(x) - fade:] *= np.linspace(1.0, 0.0, fade)
    return x


# ------------------------------------------------------------------------------------------------ impacts


@dataclass(frozen=True)
class ModalMaterial:
    """Modal model of a struck object (mode frequencies as ratios of the fundamental).

    Attributes:
        f0_hz: range of the fundamental, drawn per object.
        ratios: mode frequency ratios (inharmonic: a free bar's or plate's, not a string's).
        tau_s: range of the fundamental's decay time constant; mode i decays with tau * ratio_i ** -decay_exponent.
        decay_exponent: how much faster higher modes die (wood's internal friction: fast; metal: slow).
        amp_exponent: mode amplitudes fall as ratio ** -amp_exponent.
        contact_s: decay of the contact burst (soft wood: long, glass: very short).
        contact_hz: low-pass cut-off of the contact burst (stiffer, brighter).
        contact_level: share of the contact burst in the peak.
        doublets: split each mode into two 0.3 % apart, as the near-degenerate mode pairs of a round pan or bell beat.
    """

    f0_hz: tuple[float, float]
    ratios: tuple[float, ...]
    tau_s: tuple[float, float]
    decay_exponent: float
    amp_exponent: float
    contact_s: float
    contact_hz: float
    contact_level: float
    doublets: bool = False


MATERIALS: dict[str, ModalMaterial] = {
    "wood": ModalMaterial((170.0, 380.0), (1.0, 2.61, 4.3, 6.2, 8.5), (0.05, 0.1), 1.0, 0.9,
                          0.004, 2500.0, 0.35),
    "metal": ModalMaterial((420.0, 900.0), (1.0, 2.76, 5.40, 8.93, 13.34, 19.0), (0.55, 1.1), 0.35, 0.45,
                           0.0008, 9000.0, 0.3, doublets=True),
    "glass": ModalMaterial((1300.0, 2300.0), (1.0, 2.32, 4.25, 6.63), (0.2, 0.35), 0.8, 0.5,
                           0.0004, 10000.0, 0.2),
}


def impact_sound(material: str, rng: np.random.Generator, sr: int, *, strength: float = 1.0,
                 f0_hz: float | None = None) -> np.ndarray:
    """A tool striking an object of ``material`` (a key of ``MATERIALS``); about 5 decay constants long.

    ``f0_hz`` fixes the object's fundamental (the same object struck again keeps its pitch); otherwise it is drawn.
    """
    mat = MATERIALS[material]
    f0 = f0_hz if f0_hz is not None else rng.uniform(*mat.f0_hz)
    ratios = np.asarray(mat.ratios) * (1.0 + 0.015 * rng.standard_normal(len(mat.ratios)))
    ratios[0] = 1.0
    # Where the object is struck changes which modes ring: random per-strike excitation of each mode.
    amps = ratios ** -mat.amp_exponent * rng.uniform(0.5, 1.0, len(ratios))
    tau0 = rng.uniform(*mat.tau_s)
    taus = tau0 * ratios ** -mat.decay_exponent
    freqs = f0 * ratios
    if mat.doublets:
        freqs = np.concatenate([freqs, freqs * 1.003])
        amps = np.concatenate([amps, amps * 0.7])
        taus = np.concatenate([taus, taus * 0.9])
    n = int(min(5.0 * tau0, 2.5) * sr)
    ring = modal(freqs, amps, taus, n, sr)
    contact = burst(rng, n, mat.contact_s, sr, mat.contact_hz)
    out = (1.0 - mat.contact_level) * ring / (np.abs(ring).max() + 1e-12) + mat.contact_level * contact
    return normalise(out, 0.6 * strength)


# ------------------------------------------------------------------------------------------------ chop, footsteps


def chop_sound(rng: np.random.Generator, sr: int, *, strength: float = 1.0) -> np.ndarray:
    """A knife through a carrot onto a wooden board: a bright crunch (fibres breaking) and a short, dull knock."""
    n = int(0.12 * sr)
    crunch = burst(rng, n, 0.007, sr, 2500.0, kind="highpass")
    # Fibres snap one after another: sparse clicks over the first ~20 ms.
    crackle = np.zeros(n)
    clicks = rng.integers(0, int(0.02 * sr), 12)
    crackle[clicks] = rng.uniform(-1.0, 1.0, len(clicks))
    crackle = filtered(crackle, "highpass", 3000.0, sr) * decay(n, 0.012, sr)
    knock = modal(rng.uniform(220.0, 320.0) * np.array([1.0, 2.7, 4.6]), np.array([1.0, 0.5, 0.25]),
                  np.array([0.025, 0.012, 0.007]), n, sr)
    thud = np.sin(2 * np.pi * rng.uniform(80.0, 110.0) * np.arange(n) / sr) * decay(n, 0.018, sr)
    out = (0.5 * crunch + 0.35 * crackle / (np.abs(crackle).max() + 1e-12)
           + 0.35 * knock / (np.abs(knock).max() + 1e-12) + 0.25 * thud)
    return normalise(out, 0.55 * strength)


def footstep_sound(floor: str, rng: np.random.Generator, sr: int, *, strength: float = 1.0) -> np.ndarray:
    """A heel strike: a low body thump plus the floor's response (``floor`` in ``FLOOR_MATERIALS``)."""
    n = int(0.2 * sr)
    t = np.arange(n) / sr
    thump = np.sin(2 * np.pi * rng.uniform(55.0, 80.0) * t) * decay(n, 0.03, sr)
    heel = burst(rng, n, 0.012, sr, 700.0)
    if floor == "wood":  # boards ring briefly at a few hundred Hz
        response = modal(rng.uniform(120.0, 200.0) * np.array([1.0, 2.4, 3.9]), np.array([1.0, 0.6, 0.3]),
                         np.array([0.06, 0.03, 0.015]), n, sr)
        response /= np.abs(response).max() + 1e-12
    elif floor == "gravel":  # stones grinding against each other: many tiny clicks over ~120 ms
        response = np.zeros(n)
        times = np.minimum((rng.exponential(0.035, 60) * sr).astype(int), n - 1)
        times[0] = 0
        response[times] = rng.uniform(-1.0, 1.0, len(times)) * np.exp(-times / (0.05 * sr))
        response = filtered(response, "bandpass", (700.0, 3500.0), sr)
        response /= np.abs(response).max() + 1e-12
    elif floor == "tile":  # a hard, bright click with a short ring
        response = burst(rng, n, 0.003, sr, (1000.0, 3000.0), kind="bandpass")
        ring = modal(np.array([rng.uniform(600.0, 900.0)]), np.array([1.0]), np.array([0.02]), n, sr)
        response = response + 0.4 * ring / (np.abs(ring).max() + 1e-12)
    else:
        raise ValueError(f"unknown floor {floor!r}")
    click = burst(rng, n, 0.0015, sr, (800.0, 4000.0), kind="bandpass")  # the heel's hard edge meeting the floor
    out = 0.6 * thump + 0.35 * heel + 0.3 * response + 0.3 * click
    return normalise(out, 0.45 * strength)


# ------------------------------------------------------------------------------------------------ motion-driven


def saw_sound(speed: np.ndarray, rng: np.random.Generator, sr: int, *, teeth_hz: float = 260.0) -> np.ndarray:
    """One push stroke of a saw; ``speed`` [n] is the blade's speed (0..1) at the audio rate.

    The teeth pass the wood at ``teeth_hz * speed``: noise gated at that rate gives the rasp its pitch, so both the
    level and the pitch are locked to the motion drawn in the frames. A short bite starts the stroke.
    """
    n = len(speed)
    phase = np.cumsum(teeth_hz * speed) / sr  # teeth passed so far
    gate = 0.3 + 0.7 * (0.5 + 0.5 * np.cos(2 * np.pi * phase)) ** 4
    hiss = filtered(rng.standard_normal(n), "bandpass", (1500.0, 7500.0), sr)
    body = filtered(rng.standard_normal(n), "bandpass", (300.0, 1000.0), sr)
    rasp = (hiss + 0.4 * body) * gate * speed ** 0.8
    rasp /= np.abs(rasp).max() + 1e-12
    bite = burst(rng, n, 0.003, sr, (1000.0, 6000.0), kind="bandpass")
    return normalise(rasp + 0.7 * bite, 0.4)


def machine_sound(omega: np.ndarray, rng: np.random.Generator, sr: int, *, hum_hz: float = 120.0) -> np.ndarray:
    """A motor running while its rotor turns; ``omega`` [n] is the rotor's speed (0..1) at the audio rate.

    The hum's pitch glides with the speed (55 % of ``hum_hz`` at rest), its level follows the speed, and it is
    silent exactly where the rotor stands still. A switch click marks the start.
    """
    n = len(omega)
    phase = 2 * np.pi * np.cumsum(hum_hz * (0.55 + 0.45 * omega)) / sr
    harmonics = np.arange(1, 9)
    amps = (1.0 / harmonics) * np.where(harmonics % 2, 1.3, 1.0) * rng.uniform(0.6, 1.0, len(harmonics))
    hum = amps @ np.sin(harmonics[:, None] * phase[None, :])  # [n]
    air = filtered(rng.standard_normal(n), "bandpass", (300.0, 2000.0), sr)
    level = np.where(omega > 0, 0.3 + 0.7 * omega, 0.0)
    body = (hum / (np.abs(hum).max() + 1e-12) + 0.12 * air / (np.abs(air).max() + 1e-12)) * level
    click = burst(rng, n, 0.002, sr, (1500.0, 8000.0), kind="bandpass")
    return normalise(body + 0.8 * click, 0.35)


def pour_sound(flow: np.ndarray, level: np.ndarray, rng: np.random.Generator, sr: int) -> np.ndarray:
    """Water poured into a glass; ``flow`` [n] (0..1) is the stream's flow, ``level`` [n] (0..1) how full the glass is.

    Bubbles form at a rate proportional to the flow, each a short upward-gliding sinusoid (Minnaert resonance); the
    air column above the water resonates higher as the glass fills (quarter-wave: f = c / 4L), the cue by which one
    hears a glass filling up. The first water to land splashes.
    """
    n = len(flow)
    # Flow noise through a resonator whose centre follows the level, updated every 20 ms (filter state carried).
    noise = rng.standard_normal(n) * flow
    column = np.zeros(n)
    block = int(0.02 * sr)
    zi = np.zeros((1, 2))
    for start in range(0, n, block):
        centre = 50.0 * round(10.0 + 50.0 * float(level[min(start, n - 1)]))  # 500..3000 Hz in 50 Hz steps
        sos = _sos("bandpass", (0.8 * centre, 1.25 * centre), sr, order=1)
        column[start:start + block], zi = signal.sosfilt(sos, noise[start:start + block], zi=zi)
    # Bubbles: a Poisson process with rate 120 / s at full flow.
    bubbles = np.zeros(n)
    count = rng.poisson(120.0 * flow.sum() / sr)
    starts = np.sort(rng.choice(n, size=count, p=flow / flow.sum())) if count and flow.sum() > 0 else []
    for s in starts:
        tau = rng.uniform(0.005, 0.018)
        m = min(n - s, int(5 * tau * sr))
        t = np.arange(m) / sr
        f = rng.uniform(350.0, 900.0) * (1.0 + 1.5 * level[s])
        bubbles[s:s + m] += rng.uniform(0.3, 1.0) * np.sin(2 * np.pi * f * t * (1.0 + 0.5 * t / tau)) * np.exp(-t / tau)
    splash = burst(rng, n, 0.015, sr, 2000.0)
    out = (0.35 * column / (np.abs(column).max() + 1e-12) + 0.8 * bubbles / (np.abs(bubbles).max() + 1e-12)) * flow
    return normalise(filtered(out, "lowpass", 5000.0, sr) + 0.8 * splash, 0.4)


# ------------------------------------------------------------------------------------------------ the room


def room_tone(n: int, dbfs: float, rng: np.random.Generator) -> np.ndarray:
    """Background noise at an RMS of ``dbfs``: brownish (low-passed) noise plus some white, like a quiet room."""
    white = rng.standard_normal(n)
    brown = signal.lfilter([0.1], [1.0, -0.9], white)
    noise = brown / brown.std() + 0.3 * rng.standard_normal(n)
    return noise * (10.0 ** (dbfs / 20.0) / (noise.std() + 1e-12))


def distant(x: np.ndarray, sr: int, gain_db: float) -> np.ndarray:
    """A sound heard from off-screen: quieter and duller (air and walls absorb the highs)."""
    return filtered(x, "lowpass", 2500.0, sr) * 10.0 ** (gain_db / 20.0)


def mix(placed: list[tuple[int, np.ndarray]], n_samples: int, noise_dbfs: float, noise_rng: np.random.Generator, *,
        stems: bool = False) -> tuple[np.ndarray, list[np.ndarray] | None]:
    """A clip's soundtrack: each (start sample, wave) added in place, room tone under it, scaled to peak at most 0.99.

    Returns:
        (audio float32 [n_samples], the scaled wave of each placed sound alone [n_samples] each, when ``stems``).
    """
    audio = np.zeros(n_samples)
    for start, wave in placed:
        m = min(len(wave), n_samples - start)
        audio[start:start + m] += wave[:m]
    audio += room_tone(n_samples, noise_dbfs, noise_rng)
    peak = np.abs(audio).max()
    gain = 0.99 / peak if peak > 0.99 else 1.0
    stem_list = None
    if stems:
        stem_list = []
        for start, wave in placed:
            stem = np.zeros(n_samples, np.float32)
            m = min(len(wave), n_samples - start)
            stem[start:start + m] = gain * wave[:m]
            stem_list.append(stem)
    return (gain * audio).astype(np.float32), stem_list
