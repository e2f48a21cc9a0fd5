"""Small random-process helpers shared by the noise and atrial models."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

__all__ = ["smooth_gaussian"]


def smooth_gaussian(n: int, fs: float, cutoff: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-variance Gaussian noise low-passed at ``cutoff`` Hz (zero phase), length ``n``."""
    pad = int(4 * fs / cutoff)
    x = rng.standard_normal(n + 2 * pad)
    sos = butter(2, min(cutoff / (fs / 2), 0.99), output="sos")
    y = sosfiltfilt(sos, x)[pad:pad + n]
    return (y - y.mean()) / (y.std() + 1e-12)
