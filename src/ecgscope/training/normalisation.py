"""Standardisation statistics fitted on training beats only, stored in the model card."""

from __future__ import annotations

import numpy as np

__all__ = ["fit_normalisation", "apply_normalisation"]


def fit_normalisation(x: np.ndarray, rr: np.ndarray, enabled: bool = True) -> dict:
    """Per-channel mean/SD of beats ``x (n, C, L)`` and per-feature mean/SD of ``rr (n, k)``.

    With ``enabled=False`` the statistics are the identity (means 0, SDs 1).
    Returns a JSON-safe dict (lists of floats).
    """
    c, k = x.shape[1], rr.shape[1]
    if not enabled or x.shape[0] == 0:
        return {"x_mean": [0.0] * c, "x_std": [1.0] * c, "rr_mean": [0.0] * k, "rr_std": [1.0] * k}
    x64 = x.astype(np.float64, copy=False)
    x_mean = x64.mean(axis=(0, 2))
    x_std = x64.std(axis=(0, 2))
    rr_mean = rr.astype(np.float64).mean(axis=0) if k else np.zeros(0)
    rr_std = rr.astype(np.float64).std(axis=0) if k else np.zeros(0)
    safe = lambda s: np.where(np.isfinite(s) & (s > 1e-8), s, 1.0)  # noqa: E731
    return {"x_mean": x_mean.tolist(), "x_std": safe(x_std).tolist(),
            "rr_mean": rr_mean.tolist(), "rr_std": safe(rr_std).tolist()}


def apply_normalisation(x: np.ndarray, rr: np.ndarray, stats: dict) -> tuple[np.ndarray, np.ndarray]:
    """``((x - mean) / sd, (rr - mean) / sd)`` as float32 with the stats of :func:`fit_normalisation`."""
    xm = np.asarray(stats["x_mean"], np.float32)[None, :, None]
    xs = np.asarray(stats["x_std"], np.float32)[None, :, None]
    out_x = ((x - xm) / xs).astype(np.float32, copy=False)
    if rr.shape[1]:
        out_rr = ((rr - np.asarray(stats["rr_mean"], np.float32)) / np.asarray(stats["rr_std"], np.float32))
    else:
        out_rr = rr
    return out_x, out_rr.astype(np.float32, copy=False)
