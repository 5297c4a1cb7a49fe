"""Phase from magnitude by integrating its phase gradient: Průša, Balazs & Søndergaard 2017, "PGHI".

For a Gaussian window the STFT's log-magnitude and phase are tied: the phase's rate along time (instantaneous
frequency) is the log-magnitude's slope along frequency, and its rate along frequency (local group delay) is the
log-magnitude's slope along time. Our Hann window is close to a Gaussian of time constant γ = 0.25645 · n_fft²
(the paper's fit), so from a magnitude alone, per bin m and frame n (a = hop, M = n_fft, phase relative to the
window's centre):

    dφ/dn ≈ (a·M/γ) · ∂_m log|S| + 2π·a·m/M        dφ/dm ≈ −(γ/(a·M)) · ∂_n log|S|

(along frequency we use the Hann window's own rule instead, see ``phase_gradients``). The gradient is integrated
along a tree: starting at the loudest bin, a heap always extends the phase to the unassigned neighbours (in time or in
frequency) of the loudest bin reached so far, by the trapezoid rule on the gradient between the two; a bin more than
``dynamic_range_db`` below the loudest keeps a random phase, and a region cut off by such bins starts again at its
own loudest bin. Loud bins thus pass their phase to quieter ones, in both directions of time: the frames before an
onset take theirs from the onset, not from the silence before it.

The tree is built by a compiled heap (numba; with the gradients and the sums ~30 ms for a 10 s window on one thread,
more for noise, where every bin is within the range); the sums along it are a torch autograd function, so a network
can learn corrections to the gradient (``models/vocoder.py``, ``phase="gradient"``).

Shapes: magnitudes and gradients [..., F, T] on the full STFT grid (F = n_fft/2 + 1); phases in radians, in the
convention ``spectrogram.transform.stft`` uses (window starting at the frame, so a factor (−1)^m from the centre).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from egosonics.spectrogram.params import SpectrogramParams

HANN_GAMMA = 0.25645  # γ / n_fft² of the Gaussian closest to a Hann window (Průša et al. 2017)


def log_magnitude(magnitude: torch.Tensor, dynamic_range_db: float = 60.0) -> torch.Tensor:
    """log |S| [..., F, T], floored ``dynamic_range_db`` below each item's loudest bin (flat, gradient-free floor)."""
    logs = torch.log(torch.clamp(magnitude, min=1e-10))
    peak = logs.flatten(-2).amax(dim=-1)[..., None, None]
    return torch.maximum(logs, peak - dynamic_range_db / 20 * math.log(10))


def _central_difference(x: torch.Tensor, dim: int) -> torch.Tensor:
    """(x[i+1] − x[i−1]) / 2 along ``dim``, one-sided at the ends."""
    padded = torch.cat([x.narrow(dim, 0, 1) * 2 - x.narrow(dim, 1, 1), x,
                        x.narrow(dim, -1, 1) * 2 - x.narrow(dim, -2, 1)], dim=dim)
    n = x.shape[dim]
    return (padded.narrow(dim, 2, n) - padded.narrow(dim, 0, n)) / 2


def phase_gradients(logs: torch.Tensor, params: SpectrogramParams) -> tuple[torch.Tensor, torch.Tensor]:
    """log |S| [..., F, T] → (dφ/dn, dφ/dm) [..., F, T] in radians per frame and per bin (window-centre phase).

    Along time, the Gaussian rule above. Along frequency, the Hann window's own rule, which stays bounded where a
    sound enters or leaves the window (the Gaussian rule's log-slope is unbounded there): an impulse at d samples
    from the centre of frame n gives |S| ∝ cos²(π·d/M) in that frame and cos²(π·d/M ∓ π·a/M) in its neighbours, so
    with s = √|S| and a = M/4, tan(π·d/M) = (s[n+1] − s[n−1]) / (√2 · s[n]) exactly, and dφ/dm = −2π·d/M.
    """
    a, m_fft = params.hop_length, params.n_fft
    gamma = HANN_GAMMA * m_fft ** 2
    bins = torch.arange(logs.shape[-2], dtype=logs.dtype, device=logs.device)[:, None]  # [F, 1]
    along_time = (a * m_fft / gamma) * _central_difference(logs, -2) + 2 * math.pi * a * bins / m_fft
    if 4 * a == m_fft:
        s = torch.exp(logs / 2)
        before = torch.cat([s[..., :1], s[..., :-1]], dim=-1)
        after = torch.cat([s[..., 1:], s[..., -1:]], dim=-1)
        along_frequency = -2 * torch.atan2(after - before, math.sqrt(2) * s)
    else:  # other overlaps: the Gaussian rule
        along_frequency = -(gamma / (a * m_fft)) * _central_difference(logs, -1)
    return along_time, along_frequency


FROM_EARLIER_FRAME, FROM_LATER_FRAME, FROM_LOWER_BIN, FROM_HIGHER_BIN = 1, 2, 3, 4  # how a bin got its phase; 0: a root
BUCKET = 0.1  # the heap's level step, natural-log units (0.87 dB): bins closer than this are taken in any order


def integration_tree(logs: torch.Tensor, dynamic_range_db: float = 60.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """log |S| [F, T] → (parent [F·T], step kind [F·T], order [K]): the heap's tree over the flattened bins.

    ``kind`` says from which neighbour each bin took its phase (0: a root: the loudest bin of a region, or a bin below
    the range); ``order`` lists the K bins within the range in the order they were reached (parents first).
    """
    flat = logs.detach().reshape(-1).double().cpu().numpy()
    floor = float(flat.max()) - dynamic_range_db / 20 * math.log(10) + 1e-4  # the floored bins, with float32's slack
    return _heap_tree(flat, logs.shape[-2], logs.shape[-1], floor)


def integrate_phase(along_time: torch.Tensor, along_frequency: torch.Tensor,
                    trees: list[tuple[np.ndarray, np.ndarray, np.ndarray]], roots: torch.Tensor) -> torch.Tensor:
    """Phase gradients [B, F, T], one tree per item, root phases [B, F, T] → phase [B, F, T] (window-centre).

    Each bin's phase is its parent's plus the trapezoid of the gradient between them (along time for a neighbour in
    time, along frequency otherwise); a root keeps its value from ``roots``. Differentiable in the gradients.
    """
    columns = []
    for b, (parent, kind, order) in enumerate(trees):
        t_grad, f_grad = along_time[b].reshape(-1), along_frequency[b].reshape(-1)
        p = torch.from_numpy(parent).to(t_grad.device)
        k = torch.from_numpy(kind).to(t_grad.device)
        step = torch.where(k <= FROM_LATER_FRAME, t_grad[p] + t_grad, f_grad[p] + f_grad) / 2
        step = torch.where((k == FROM_LATER_FRAME) | (k == FROM_HIGHER_BIN), -step, step)
        start = torch.where(k == 0, roots[b].reshape(-1), step)
        columns.append(_TreeSum.apply(start, parent, kind, order).view(along_time.shape[-2:]))
    return torch.stack(columns)


class _TreeSum(torch.autograd.Function):
    """x [N] → y with y[root] = x[root], y[v] = y[parent v] + x[v] in ``order``; backward sums each subtree."""

    @staticmethod
    def forward(ctx, x: torch.Tensor, parent: np.ndarray, kind: np.ndarray, order: np.ndarray) -> torch.Tensor:
        ctx.tree = (parent, kind, order)
        values = x.detach().cpu().double().numpy()
        return torch.from_numpy(_sum_down(values, parent, kind, order)).to(x.dtype).to(x.device)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        values = grad.detach().cpu().double().numpy()
        out = torch.from_numpy(_sum_up(values, *ctx.tree)).to(grad.dtype).to(grad.device)
        return out, None, None, None


def to_frame_convention(phase: torch.Tensor) -> torch.Tensor:
    """Window-centre phase [..., F, T] → the phase ``stft`` would give (its window starts n_fft/2 earlier: + π·m)."""
    bins = torch.arange(phase.shape[-2], dtype=phase.dtype, device=phase.device)[:, None]
    return phase + math.pi * bins


def random_roots(shape: torch.Size, seed: int = 0) -> torch.Tensor:
    """Uniform phases in [0, 2π) [..., F, T] for roots, the same for the same seed; the root of each region starts
    at its own value, and a bin below the range keeps it (a region's phase is arbitrary anyway)."""
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * (2 * math.pi)


def retrieve_phase(magnitude: torch.Tensor, params: SpectrogramParams, *, dynamic_range_db: float = 60.0,
                   corrections: tuple[torch.Tensor, torch.Tensor] | None = None, seed: int = 0) -> torch.Tensor:
    """|S| [B, F, T] on the full grid → phase [B, F, T] in radians (``stft``'s convention); ``corrections`` (along
    time, along frequency) [B, F, T] are added to the gradient before it is integrated (a learned vocoder's)."""
    logs = log_magnitude(magnitude, dynamic_range_db)
    along_time, along_frequency = phase_gradients(logs, params)
    if corrections is not None:
        along_time, along_frequency = along_time + corrections[0], along_frequency + corrections[1]
    trees = [integration_tree(item, dynamic_range_db) for item in logs]
    roots = random_roots(logs.shape, seed).to(magnitude.device)
    return to_frame_convention(integrate_phase(along_time, along_frequency, trees, roots))


def phase_from_magnitude(magnitude: torch.Tensor, params: SpectrogramParams, *, dynamic_range_db: float = 60.0,
                         seed: int = 0) -> torch.Tensor:
    """|S| [..., F, T] on the full grid → unit phases [..., F, T] (complex), e.g. a Griffin-Lim start."""
    shape = magnitude.shape
    flat = magnitude.reshape(-1, *shape[-2:]).float().cpu()
    phase = retrieve_phase(flat, params, dynamic_range_db=dynamic_range_db, seed=seed)
    return torch.polar(torch.ones_like(phase), phase).reshape(shape).to(magnitude.device)


# ---------------------------------------------------------------------------------------------- compiled helpers
# numba compiles these on first use, cached on disk next to this file; where it cannot write there (a read-only
# install), in memory for the process (the same code, compiled again by the next process).

def _jit(function):
    import numba

    try:
        return numba.njit(cache=True)(function)
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return numba.njit(function)


def _heap_tree_py(flat: np.ndarray, num_bins: int, num_frames: int, floor: float):
    # The heap is a bucket queue: levels quantised to BUCKET nats (0 = the loudest), a stack per level; a push or a pop
    # costs O(1) plus the scan over empty levels, where a binary heap of 440,000 tuples costs O(log n) each (3× slower).
    n = flat.size
    parent = np.arange(n)
    kind = np.zeros(n, np.int8)
    done = flat <= floor
    top = flat.max()
    level = ((top - flat) / BUCKET).astype(np.int64)
    head = np.full(level.max() + 1, -1, np.int64)  # the stack of each level, linked through `below`
    below = np.full(n, -1, np.int64)
    # region seeds, loudest level first: every bin within the range, in its level's stack
    seeds = np.full(level.max() + 1, -1, np.int64)
    seed_next = np.full(n, -1, np.int64)
    for i in range(n - 1, -1, -1):
        if not done[i]:
            seed_next[i] = seeds[level[i]]
            seeds[level[i]] = i
    order = np.empty(n - done.sum(), np.int64)
    reached = 0
    for seed_level in range(seeds.size):
        seed = seeds[seed_level]
        while seed != -1:
            if not done[seed]:
                done[seed] = True
                order[reached] = seed
                reached += 1
                below[seed] = head[level[seed]]
                head[level[seed]] = seed
                loudest = level[seed]
                while loudest < head.size:
                    v = head[loudest]
                    if v == -1:
                        loudest += 1
                        continue
                    head[loudest] = below[v]
                    frame, row = v % num_frames, v // num_frames
                    for step in range(1, 5):  # the neighbours: later frame, earlier frame, higher bin, lower bin
                        if step == 1:
                            u, ok = v + 1, frame + 1 < num_frames
                        elif step == 2:
                            u, ok = v - 1, frame >= 1
                        elif step == 3:
                            u, ok = v + num_frames, row + 1 < num_bins
                        else:
                            u, ok = v - num_frames, row >= 1
                        if ok and not done[u]:
                            done[u] = True
                            parent[u] = v
                            kind[u] = step
                            order[reached] = u
                            reached += 1
                            below[u] = head[level[u]]
                            head[level[u]] = u
                            loudest = min(loudest, level[u])
            seed = seed_next[seed]
    return parent, kind, order


def _sum_down_py(values: np.ndarray, parent: np.ndarray, kind: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = values.copy()
    for v in order:
        if kind[v] != 0:
            out[v] = out[parent[v]] + values[v]
    return out


def _sum_up_py(grad: np.ndarray, parent: np.ndarray, kind: np.ndarray, order: np.ndarray) -> np.ndarray:
    out = grad.copy()
    for i in range(order.size - 1, -1, -1):
        v = order[i]
        if kind[v] != 0:
            out[parent[v]] += out[v]
    return out


def _heap_tree(flat: np.ndarray, num_bins: int, num_frames: int, floor: float):
    return _compiled("heap_tree")(flat, num_bins, num_frames, floor)


def _sum_down(values: np.ndarray, parent: np.ndarray, kind: np.ndarray, order: np.ndarray) -> np.ndarray:
    return _compiled("sum_down")(values, parent, kind, order)


def _sum_up(grad: np.ndarray, parent: np.ndarray, kind: np.ndarray, order: np.ndarray) -> np.ndarray:
    return _compiled("sum_up")(grad, parent, kind, order)


_COMPILED: dict[str, object] = {}


def _compiled(name: str):
    if name not in _COMPILED:
        _COMPILED[name] = _jit({"heap_tree": _heap_tree_py, "sum_down": _sum_down_py, "sum_up": _sum_up_py}[name])
    return _COMPILED[name]
