"""Input checks shared by the measurement modules (quality, beats, HRV, delineation)."""

from __future__ import annotations

import numpy as np

from ..errors import EmptySignalError, SignalError
from ..io.validate import check_fs

__all__ = ["as_signal", "as_fs", "as_positions"]


def as_signal(signal, name: str = "signal") -> tuple[np.ndarray, bool]:
    """``(x, was_1d)``: ``signal`` as float32 ``(leads, samples)``; 1-D input becomes one lead."""
    x = np.asarray(signal)
    was_1d = x.ndim == 1
    if was_1d:
        x = x[np.newaxis, :]
    if x.ndim != 2:
        raise SignalError(f"{name} has shape {x.shape}, expected (samples,) or (leads, samples)",
                          fix="pass a 1-D lead or a 2-D (leads, samples) array")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise EmptySignalError(f"{name} is empty (shape {x.shape})", fix="pass a signal with samples")
    if not np.issubdtype(x.dtype, np.number):
        raise SignalError(f"{name} has dtype {x.dtype}, expected numbers", fix="pass a numeric array in mV")
    return x.astype(np.float32, copy=False), was_1d


def as_fs(fs) -> float:
    """The sampling rate as float (raises :class:`~ecgscope.errors.SamplingRateError`)."""
    return check_fs(fs)


def as_positions(positions, name: str = "rpeaks") -> np.ndarray:
    """Sample positions as a sorted 1-D int64 array."""
    p = np.asarray(positions if positions is not None else [], dtype=np.float64).reshape(-1)
    if p.size and not np.all(np.isfinite(p)):
        raise SignalError(f"{name} holds NaN or infinite positions", fix="drop missing positions first")
    p = np.rint(p).astype(np.int64)
    if p.size > 1 and np.any(np.diff(p) < 0):
        p = np.sort(p, kind="stable")
    return p
