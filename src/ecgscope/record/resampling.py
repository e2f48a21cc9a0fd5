"""Polyphase resampling shared by :class:`Record` and the signal layer."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
__all__ = ["resample_signal", "rational_ratio"]


def rational_ratio(fs_in: float, fs_out: float, max_denominator: int = 1000) -> tuple[int, int]:
    """``(up, down)`` integers with ``up / down`` ~= ``fs_out / fs_in``."""
    frac = Fraction(float(fs_out) / float(fs_in)).limit_denominator(max_denominator)
    return frac.numerator, frac.denominator


def resample_signal(signal: np.ndarray, fs: float, fs_out: float) -> np.ndarray:
    """Resample along the last axis from ``fs`` to ``fs_out`` (zero-phase polyphase FIR).

    Works for 1-D ``(samples,)`` and 2-D ``(leads, samples)`` arrays and keeps
    float32. Returns the input unchanged when the rates are equal.
    """
    x = np.asarray(signal)
    if float(fs) == float(fs_out):
        return x
    up, down = rational_ratio(fs, fs_out)
    if x.shape[-1] == 0:
        n_out = 0
        return np.zeros(x.shape[:-1] + (n_out,), dtype=np.float32)
    from scipy.signal import resample_poly  # imported here: keeps `import ecgscope` fast

    y = resample_poly(x.astype(np.float32, copy=False), up, down, axis=-1, padtype="line")
    return y.astype(np.float32, copy=False)
