"""Non-linear HRV: Poincaré plot, sample entropy, detrended fluctuation analysis.

* Poincaré SD1/SD2 over successive NN pairs (Brennan, Palaniswami & Kamen,
  IEEE TBME 48(11), 2001): ``SD1 = SD((x[k+1] - x[k]) / sqrt 2)``,
  ``SD2 = SD((x[k+1] + x[k]) / sqrt 2)``.
* Sample entropy ``-ln(A / B)`` with Chebyshev distance ``<= r`` and the same
  ``N - m`` templates for both lengths (Richman & Moorman, Am. J. Physiol.
  278(6), 2000); pair counting with a k-d tree, so long series stay fast.
* DFA (Peng et al., Chaos 5(1), 1995): profile of the mean-removed series,
  non-overlapping windows of each scale, linear detrend per window, RMS
  fluctuation ``F(n)``; ``alpha`` is the slope of ``log F`` against ``log n``
  for ``n = 4..16`` (alpha1) and ``16..64`` beats (alpha2).
"""

from __future__ import annotations

import numpy as np
from scipy.spatial import cKDTree

from .clean import NNSeries

__all__ = ["nonlinear_indices", "sample_entropy", "dfa", "poincare"]


def poincare(series: NNSeries) -> dict[str, float]:
    """SD1, SD2 (ms), SD1/SD2, ellipse area S (ms²), CSI and CVI from successive pairs."""
    x0 = series.nn[:-1][series.successive]
    x1 = series.nn[1:][series.successive]
    nan = float("nan")
    if x0.size < 2:
        return {"SD1": nan, "SD2": nan, "SD1SD2": nan, "S": nan, "CSI": nan, "CVI": nan}
    sd1 = float(np.std((x1 - x0) / np.sqrt(2), ddof=1))
    sd2 = float(np.std((x1 + x0) / np.sqrt(2), ddof=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        return {
            "SD1": sd1, "SD2": sd2, "SD1SD2": sd1 / sd2 if sd2 else nan, "S": float(np.pi * sd1 * sd2),
            "CSI": sd2 / sd1 if sd1 else nan,
            "CVI": float(np.log10(16 * sd1 * sd2)) if sd1 * sd2 > 0 else nan,
        }


def _count_pairs(templates: np.ndarray, r: float) -> int:
    tree = cKDTree(templates)
    return int((tree.count_neighbors(tree, r, p=np.inf) - templates.shape[0]) // 2)


def sample_entropy(x, m: int = 2, r: float | None = None) -> float:
    """Sample entropy of ``x`` (template length ``m``, tolerance ``r`` = 0.2 SD by default).

    Returns ``inf`` when no template of length ``m + 1`` matches and NaN when
    the series is too short (fewer than ``m + 2`` values) or constant.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    if x.size < m + 2:
        return float("nan")
    tol = 0.2 * x.std(ddof=1) if r is None else float(r)
    if not tol > 0:
        return float("nan")
    n_templates = x.size - m
    emb = np.lib.stride_tricks.sliding_window_view(x, m + 1)[:n_templates]
    b = _count_pairs(np.ascontiguousarray(emb[:, :m]), tol)
    a = _count_pairs(np.ascontiguousarray(emb), tol)
    if b == 0:
        return float("nan")
    if a == 0:
        return float("inf")
    return float(-np.log(a / b))


def _fluctuation(profile: np.ndarray, n: int) -> float:
    k = profile.size // n
    seg = profile[: k * n].reshape(k, n)
    t = np.arange(n, dtype=np.float64)
    tc = t - t.mean()
    slope = (seg - seg.mean(axis=1, keepdims=True)) @ tc / (tc @ tc)
    resid = seg - seg.mean(axis=1, keepdims=True) - slope[:, None] * tc[None, :]
    return float(np.sqrt(np.mean(resid**2)))


def dfa(x, scales) -> float:
    """DFA exponent of ``x`` over window sizes ``scales`` (NaN if under 2 usable scales)."""
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    profile = np.cumsum(x - x.mean())
    ns = np.asarray([int(s) for s in scales if int(s) >= 3 and x.size // int(s) >= 2])
    if ns.size < 2:
        return float("nan")
    f = np.array([_fluctuation(profile, int(n)) for n in ns])
    ok = f > 0
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(ns[ok]), np.log(f[ok]), 1)[0])


def nonlinear_indices(series: NNSeries, m: int = 2, r_factor: float = 0.2) -> dict[str, float]:
    """Poincaré indices, SampEn (m, r = r_factor * SDNN), DFA alpha1 (4-16) and alpha2 (16-64)."""
    out = poincare(series)
    nn = series.nn
    r = r_factor * nn.std(ddof=1) if nn.size > 1 else None
    out["SampEn"] = sample_entropy(nn, m=m, r=r) if nn.size > m + 1 else float("nan")
    out["DFA_alpha1"] = dfa(nn, range(4, 17))
    out["DFA_alpha2"] = dfa(nn, range(16, 65))
    return out
