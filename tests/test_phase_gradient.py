"""Phase from magnitude by phase-gradient integration (spectrogram/phase_gradient.py); Griffin-Lim started from it."""

from __future__ import annotations

import math

import pytest
import torch

from egosonics.spectrogram.griffin_lim import griffin_lim, iterate
from egosonics.spectrogram.params import DEFAULT_PARAMS
from egosonics.spectrogram.phase_gradient import (
    FROM_EARLIER_FRAME,
    FROM_HIGHER_BIN,
    FROM_LATER_FRAME,
    FROM_LOWER_BIN,
    integrate_phase,
    integration_tree,
    log_magnitude,
    phase_from_magnitude,
    phase_gradients,
)
from egosonics.spectrogram.transform import istft, stft

SR = DEFAULT_PARAMS.sample_rate
HOP = DEFAULT_PARAMS.hop_length
N = 3 * SR
LENGTH = HOP * math.ceil(N / HOP)


def spectral_convergence(x: torch.Tensor, phases: torch.Tensor) -> float:
    """‖ |STFT(istft(|S| · phases))| − |S| ‖ / ‖S‖ for a signal x: 0 when the phases are consistent with |S|."""
    magnitude = stft(x, DEFAULT_PARAMS).abs()
    y = istft(magnitude * phases, DEFAULT_PARAMS, LENGTH)[:N]
    return float((stft(y, DEFAULT_PARAMS).abs() - magnitude).norm() / magnitude.norm())


def signals() -> dict[str, torch.Tensor]:
    t = torch.arange(N, dtype=torch.float64) / SR
    clicks = torch.zeros(N, dtype=torch.float64)
    clicks[1000::5000] = 1.0
    gen = torch.Generator().manual_seed(0)
    bursts = torch.randn(N, generator=gen, dtype=torch.float64) * torch.exp(-((t * SR) % 11025) / 2000)
    return {"tone": torch.sin(2 * math.pi * 440.3 * t).float(),
            "chirp": torch.sin(2 * math.pi * (200 * t + 300 * t ** 2)).float(),
            "clicks": clicks.float(), "bursts": bursts.float()}


@pytest.mark.parametrize(("name", "bound"), [("tone", 0.03), ("chirp", 0.05), ("clicks", 0.3), ("bursts", 0.25)])
def test_phase_from_magnitude_is_nearly_consistent_where_random_phase_is_not(name, bound):
    x = signals()[name]
    magnitude = stft(x, DEFAULT_PARAMS).abs()
    ours = spectral_convergence(x, phase_from_magnitude(magnitude, DEFAULT_PARAMS))
    random = spectral_convergence(x, torch.polar(torch.ones_like(magnitude),
                                                 torch.rand(magnitude.shape, generator=torch.Generator().manual_seed(1))
                                                 * 2 * math.pi))
    assert ours < bound < random, (ours, random)


def test_gradients_of_an_impulse_and_of_a_tone_match_their_phases():
    # an impulse d samples after the centre of frame n: dφ/dm = −2π·d/M exactly for the Hann window at a = M/4
    d, frame = 300, 20
    x = torch.zeros(N)
    x[frame * HOP + d] = 1.0
    spec = stft(x, DEFAULT_PARAMS)
    _, along_frequency = phase_gradients(log_magnitude(spec.abs())[None], DEFAULT_PARAMS)
    expected = -2 * math.pi * d / DEFAULT_PARAMS.n_fft
    assert torch.allclose(along_frequency[0, 10:1000, frame], torch.tensor(expected), atol=1e-3)
    # a tone advances its window-centre phase by 2π·f·hop per frame: the gradient at its peak says so within 2 %
    f = 1000.7
    spec = stft(torch.sin(2 * math.pi * f * torch.arange(N) / SR), DEFAULT_PARAMS)
    along_time, _ = phase_gradients(log_magnitude(spec.abs())[None], DEFAULT_PARAMS)
    peak = int(spec.abs()[:, 40].argmax())
    assert along_time[0, peak, 40].item() == pytest.approx(2 * math.pi * f * HOP / SR, rel=0.02)


def test_the_tree_grows_from_the_loudest_bin_to_louder_neighbours_first():
    # 3 bins × 4 frames; the loudest bin is (1, 2); (0, 0) is more than 60 dB below it (a root that keeps its phase)
    logs = torch.tensor([[-20.0, 1.0, 2.0, 1.5],
                         [0.0, 3.0, 5.0, 4.0],
                         [0.5, 2.5, 4.5, 0.2]])
    parent, kind, order = integration_tree(logs, dynamic_range_db=60.0)

    def flat(m: int, n: int) -> int:
        return m * 4 + n

    assert order[0] == flat(1, 2) and kind[flat(1, 2)] == 0  # the seed
    assert kind[flat(0, 0)] == 0 and flat(0, 0) not in order  # below the range: not reached
    assert sorted(order.tolist()) == sorted(set(range(12)) - {flat(0, 0)})
    position = {int(v): i for i, v in enumerate(order)}
    for v in order[1:]:
        m, n = divmod(int(v), 4)
        assert position[int(parent[v])] < position[int(v)]  # parents first
        assert {FROM_EARLIER_FRAME: (m, n - 1), FROM_LATER_FRAME: (m, n + 1), FROM_LOWER_BIN: (m - 1, n),
                FROM_HIGHER_BIN: (m + 1, n)}[int(kind[v])] == divmod(int(parent[v]), 4)
    # louder bins pass their phase on first: (2, 3) could take it from (1, 3) at 4.0 or from (2, 2) at 4.5: (2, 2)
    assert parent[flat(2, 3)] == flat(2, 2) and kind[flat(2, 3)] == FROM_EARLIER_FRAME
    # the frame before the loudest one takes its phase from it (backwards in time), not from the quiet frame before
    assert kind[flat(1, 1)] == FROM_LATER_FRAME


def test_integration_sums_the_gradient_along_the_tree_and_its_backward_is_exact():
    torch.manual_seed(0)
    logs = torch.randn(5, 6)
    tree = integration_tree(logs, dynamic_range_db=200.0)
    parent, kind, order = tree
    along_time = torch.randn(1, 5, 6, dtype=torch.float64, requires_grad=True)
    along_frequency = torch.randn(1, 5, 6, dtype=torch.float64, requires_grad=True)
    roots = torch.full((1, 5, 6), 0.3, dtype=torch.float64)
    phase = integrate_phase(along_time, along_frequency, [tree], roots)[0].reshape(-1)
    # the same sums by hand, in plain autograd
    t, f = along_time[0].reshape(-1), along_frequency[0].reshape(-1)
    expected: list[torch.Tensor] = [roots.reshape(-1)[0]] * 30
    for v in (int(i) for i in order):
        p = int(parent[v])
        step = {0: None, FROM_EARLIER_FRAME: (t[p] + t[v]) / 2, FROM_LATER_FRAME: -(t[p] + t[v]) / 2,
                FROM_LOWER_BIN: (f[p] + f[v]) / 2, FROM_HIGHER_BIN: -(f[p] + f[v]) / 2}[int(kind[v])]
        expected[v] = roots.reshape(-1)[v] if step is None else expected[p] + step
    reference = torch.stack(expected)
    assert torch.allclose(phase, reference)
    weights = torch.randn(30, dtype=torch.float64)
    ours = torch.autograd.grad((phase * weights).sum(), (along_time, along_frequency))
    theirs = torch.autograd.grad((reference * weights).sum(), (along_time, along_frequency))
    assert all(torch.allclose(a, b) for a, b in zip(ours, theirs, strict=True))

def test_griffin_lim_from_the_phase_gradient_beats_a_random_start():
    x = signals()["chirp"] + 0.5 * signals()["clicks"]
    magnitude = stft(x, DEFAULT_PARAMS).abs()[:1024]

    def error(init: str) -> float:
        y = griffin_lim(magnitude, N, n_iter=8, init=init, generator=torch.Generator().manual_seed(0))
        return float((stft(y, DEFAULT_PARAMS).abs()[:1024] - magnitude).norm() / magnitude.norm())

    assert error("phase-gradient") < 0.5 * error("random")


def test_iterations_are_differentiable_and_match_the_in_place_ones():
    x = signals()["tone"][: 16 * HOP]
    spec = stft(x, DEFAULT_PARAMS)
    target = spec.abs()
    start = torch.polar(torch.ones_like(target), torch.rand(target.shape, generator=torch.Generator().manual_seed(2)))
    with torch.inference_mode():
        in_place = iterate(start.clone(), target, DEFAULT_PARAMS, 16 * HOP, n_iter=3, momentum=0.99)
    target = target.clone().requires_grad_(True)
    unrolled = iterate(start, target, DEFAULT_PARAMS, 16 * HOP, n_iter=3, momentum=0.99)
    assert torch.allclose(unrolled.detach(), in_place, atol=1e-4)
    unrolled.square().sum().backward()
    assert torch.isfinite(target.grad).all() and target.grad.abs().sum() > 0


def test_resynth_from_the_phase_gradient_start_is_closer_than_from_random_phase(av_clip, tmp_path, capsys):
    from egosonics.cli import main

    distances = {}
    for start in ("random", "phase-gradient"):
        out = tmp_path / f"{start}.mp4"
        assert main(["resynth", str(av_clip), "-o", str(out), "--gl-iters", "8", "--gl-init", start]) == 0
        assert out.is_file()
        line = capsys.readouterr().out.strip().splitlines()[-1]
        distances[start] = float(line.split("log-spectral distance ")[1].split()[0])
    assert distances["phase-gradient"] < distances["random"], distances


def test_the_heap_compiles_without_a_writable_cache(monkeypatch):
    import numba

    from egosonics.spectrogram import phase_gradient

    real, calls = numba.njit, []

    def no_cache(*args, cache=False, **kwargs):
        calls.append(cache)
        if cache:
            raise RuntimeError("cannot cache function 'f': no locator available for file 'f.py'")
        return real(*args, **kwargs)

    monkeypatch.setattr(numba, "njit", no_cache)
    monkeypatch.setattr(phase_gradient, "_COMPILED", {})
    _, _, order = phase_gradient.integration_tree(torch.tensor([[0.0, 1.0], [2.0, 0.5]]))
    assert calls == [True, False]  # refused the disk cache, compiled in memory
    assert order[0] == 2 and sorted(order.tolist()) == [0, 1, 2, 3]
