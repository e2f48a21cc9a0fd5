"""Pooling: global pooling over time (average, max, both) and power-mean pooling over windows.

:func:`power_mean` is ECG-RAMBA's record-level aggregation of window
probabilities, ``(mean_w p_w^Q)^(1/Q)``: ``Q = 1`` is the mean, ``Q -> inf``
the maximum, and values in between let a few confident windows (paroxysmal
AF in a long record) raise the record score without one noisy window
deciding it alone.
"""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["WINDOW_POOLING", "GlobalPool1d", "pool_windows", "power_mean", "log_mean_probability"]

_MODES = ("avg", "max", "avgmax")
#: Record-level pooling modes of :func:`pool_windows`.
WINDOW_POOLING = ("power", "mean", "max")


class GlobalPool1d(nn.Module):
    """``(B, C, L) -> (B, C)`` (``avg``, ``max``) or ``(B, 2C)`` (``avgmax``: both, concatenated)."""

    def __init__(self, mode: str = "avg") -> None:
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"GlobalPool1d: unknown mode {mode!r}; use one of {_MODES}")
        self.mode = mode

    def multiplier(self) -> int:
        """Output channels per input channel."""
        return 2 if self.mode == "avgmax" else 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.mode == "avg":
            return x.mean(dim=-1)
        if self.mode == "max":
            return x.amax(dim=-1)
        return torch.cat([x.mean(dim=-1), x.amax(dim=-1)], dim=1)


def power_mean(p: torch.Tensor, q: float, mask: torch.Tensor | None = None, dim: int = 1,
               eps: float = 1e-12) -> torch.Tensor:
    """``(mean p^q)^(1/q)`` of non-negative ``p`` along ``dim``, over the entries where ``mask`` is true.

    Computed in the log domain, ``exp((logsumexp(q log p) - log n) / q)``, so a
    large ``q`` neither underflows nor overflows; ``q = inf`` is the maximum.
    ``mask`` (broadcastable to ``p``, e.g. ``(B, W, 1)`` for ``p (B, W, K)``)
    marks real entries, so padded windows do not count. An all-masked slice gives 0.
    """
    q = float(q)
    if not q > 0:
        raise ValueError(f"power_mean: q={q!r} must be positive (1 = mean, inf = max)")
    logp = p.clamp_min(eps).log()
    if mask is None:
        mask = torch.ones_like(p, dtype=torch.bool)
    mask = mask.to(torch.bool).expand_as(p)
    if math.isinf(q):
        return logp.masked_fill(~mask, -math.inf).amax(dim=dim).exp().nan_to_num(0.0)
    n = mask.sum(dim=dim).clamp_min(1).to(p.dtype)
    total = torch.logsumexp((q * logp).masked_fill(~mask, -math.inf), dim=dim)
    return ((total - n.log()) / q).exp().nan_to_num(0.0)


def log_mean_probability(logits: torch.Tensor, log_weights: torch.Tensor | None = None) -> torch.Tensor:
    """Log of the mean over dim 0 of ``softmax(logits)`` (``(k, B, C) -> (B, C)``), in the log domain.

    ``log_weights`` ``(k,)`` (log of weights summing to 1) makes it a weighted
    mean; by default the ``k`` members weigh the same. An ensemble's output
    that a cross-entropy can train as logits.
    """
    logp = torch.log_softmax(logits, dim=2)
    if log_weights is None:
        return torch.logsumexp(logp, dim=0) - math.log(logits.shape[0])
    return torch.logsumexp(logp + log_weights[:, None, None], dim=0)


def pool_windows(p: torch.Tensor, mode: str = "power", q: float = 3.0, mask: torch.Tensor | None = None,
                 *, renormalise: bool = False) -> torch.Tensor:
    """Record probabilities ``(B, K)`` from window probabilities ``p (B, W, K)`` and ``mask (B, W)``.

    ``mode``: ``"power"`` (:func:`power_mean` with ``q``), ``"mean"`` (q = 1) or
    ``"max"`` (q = inf). With ``renormalise`` (softmax heads) the pooled values
    are divided by their sum over classes, so a record's probabilities again sum
    to 1; pooling each class separately otherwise breaks that (the power mean
    of a distribution is not a distribution).
    """
    if mode not in WINDOW_POOLING:
        raise ValueError(f"pool_windows: unknown mode {mode!r}; use one of {WINDOW_POOLING}")
    q = {"power": q, "mean": 1.0, "max": math.inf}[mode]
    pooled = power_mean(p, q, None if mask is None else mask[..., None], dim=1)
    if renormalise:
        pooled = pooled / pooled.sum(dim=-1, keepdim=True).clamp_min(1e-12)
    return pooled
