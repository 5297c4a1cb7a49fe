"""Metrics on a classifier's logits: paired KL divergence and the Inception Score (EVALUATION.md §3.1–3.2).

    kl_divergence     mean over pairs of KL(p_gt ‖ p_gen + 1e-6), p = softmax(logits)   lower is better (0 = same)
    inception_score   exp(E_x KL(p(y|x) ‖ p(y))) over splits of the generated set          higher is better

Both follow SpecVQGAN's ``evaluation/metrics/kl.py`` and ``isc.py`` (the Melception protocol), in float64.
"""

from __future__ import annotations

import numpy as np

from egosonics.evaluation.base import as_matrix


def _log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def kl_divergence(gt_logits: np.ndarray, gen_logits: np.ndarray, *, eps: float = 1e-6) -> float:
    """KL(gt ‖ gen) averaged over pairs: Σ_c p_gt (log p_gt − log(p_gen + eps)) / N (SpecVQGAN's
    ``F.kl_div((p_gen + eps).log(), p_gt, reduction='sum') / N``; 0·log 0 = 0).

    Args:
        gt_logits, gen_logits: logits [N, C] of the ground truth and of the generated clip of each pair, same order.
    """
    gt = as_matrix(gt_logits, "gt_logits")
    gen = as_matrix(gen_logits, "gen_logits")
    if gt.shape != gen.shape:
        raise ValueError(f"paired logits must have the same shape, got {gt.shape} and {gen.shape}")
    p_gt = np.exp(_log_softmax(gt))
    log_q = np.log(np.exp(_log_softmax(gen)) + eps)
    terms = np.where(p_gt > 0, p_gt * (np.log(np.where(p_gt > 0, p_gt, 1.0)) - log_q), 0.0)
    return float(terms.sum() / gt.shape[0])


def inception_score(logits: np.ndarray, *, splits: int = 10, shuffle: bool = True,
                    seed: int = 2020) -> tuple[float, float]:
    """Inception Score (mean, std over splits) of logits [N, C]; SpecVQGAN shuffles with RandomState(2020) first.

    Split i holds rows [i·N // splits, (i+1)·N // splits); each split scores exp(mean_x Σ_c p (log p − log q)),
    q = the split's mean prediction.
    """
    x = as_matrix(logits, "logits")
    n = x.shape[0]
    if not 1 <= splits <= n:
        raise ValueError(f"splits must be in 1..{n} (the number of samples), got {splits}")
    if shuffle:
        x = x[np.random.RandomState(seed).permutation(n)]
    log_p = _log_softmax(x)
    p = np.exp(log_p)
    scores = []
    for i in range(splits):
        lo, hi = i * n // splits, (i + 1) * n // splits
        q = p[lo:hi].mean(axis=0, keepdims=True)
        kl = (p[lo:hi] * (log_p[lo:hi] - np.log(q))).sum(axis=1).mean()
        scores.append(float(np.exp(kl)))
    return float(np.mean(scores)), float(np.std(scores))
