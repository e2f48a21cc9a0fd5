"""Helpers shared by the R-peak detectors: input checks, decimation, peak refinement."""

from __future__ import annotations

import numpy as np
from scipy.ndimage import uniform_filter1d

from ...errors import EmptySignalError, NonFiniteSignalError, SamplingRateError, SignalError

__all__ = [
    "MIN_FS",
    "check_fs",
    "prepare_signal",
    "normalise_leads",
    "decimate",
    "moving_average",
    "refine_peaks",
    "enforce_refractory",
]

#: Lowest sampling rate a QRS complex can still be located at (Hz).
MIN_FS = 50.0

NAN_POLICIES = ("raise", "mask")


def check_fs(fs) -> float:
    """``fs`` as a float, or :class:`SamplingRateError` when it cannot carry a QRS."""
    try:
        value = float(fs)
    except (TypeError, ValueError):
        raise SamplingRateError(f"sampling rate {fs!r} is not a number", fix="pass fs in Hz") from None
    if not np.isfinite(value) or value < MIN_FS:
        raise SamplingRateError(
            f"sampling rate {fs!r} Hz is too low to locate QRS complexes (minimum {MIN_FS:g} Hz)",
            fix="pass the true sampling rate in Hz",
        )
    return value


def _select_leads(x: np.ndarray, leads) -> np.ndarray:
    if leads is None:
        return x
    index = [leads] if np.isscalar(leads) else list(leads)
    if not index:
        raise SignalError("no leads selected", fix="pass leads=None (all) or lead indices")
    try:
        index = [int(i) for i in index]
    except (TypeError, ValueError):
        raise SignalError(f"leads={leads!r} must be integer row indices",
                          fix="pass indices such as leads=[0, 1]; use Record.lead_index() for names") from None
    bad = [i for i in index if not -x.shape[0] <= i < x.shape[0]]
    if bad:
        raise SignalError(f"lead index {bad[0]} is out of range for {x.shape[0]} lead(s)",
                          fix=f"pass indices between 0 and {x.shape[0] - 1}")
    return x[index]


def prepare_signal(signal, fs, leads=None, nan_policy: str = "raise"):
    """Validate a detector input without copying it more than needed.

    Returns ``(x, fs, invalid)``: ``x`` a float ``(leads, samples)`` array (a
    view of the input when possible), ``fs`` as float and ``invalid`` a boolean
    ``(samples,)`` mask of samples that were non-finite in some lead (``None``
    when all are finite). ``nan_policy="raise"`` raises
    :class:`NonFiniteSignalError` on NaN/inf; ``"mask"`` interpolates across
    them (the caller drops detections inside the gaps).
    """
    fs = check_fs(fs)
    if nan_policy not in NAN_POLICIES:
        raise SignalError(f"unknown nan_policy {nan_policy!r}", fix="use nan_policy='raise' or 'mask'")
    x = np.asarray(signal)
    if x.dtype == object or not (np.issubdtype(x.dtype, np.number) or x.dtype == bool):
        raise SignalError(f"signal of dtype {x.dtype} is not numeric", fix="pass a numeric array in mV")
    if np.iscomplexobj(x):
        raise SignalError("signal is complex", fix="pass the real-valued signal in mV")
    if x.ndim == 1:
        x = x[np.newaxis, :]
    if x.ndim != 2:
        raise SignalError(f"signal has shape {x.shape}; expected (samples,) or (leads, samples)",
                          fix="pass one lead or a (leads, samples) array")
    if x.shape[0] == 0:
        raise EmptySignalError("signal has no leads", fix="pass at least one lead")
    x = _select_leads(x, leads)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float64)
    invalid = None
    # A float64 sum is a cheap finiteness screen; only a non-finite sum needs the exact check.
    if x.size and not np.isfinite(np.sum(x, dtype=np.float64)):
        bad = ~np.isfinite(x)
        if bad.any():
            if nan_policy == "raise":
                first = int(np.flatnonzero(bad.any(axis=0))[0])
                raise NonFiniteSignalError(
                    f"{int(bad.sum())} samples are NaN or infinite (first at sample {first})",
                    fix="clean the signal, or pass nan_policy='mask' to detect around the gaps",
                )
            invalid = bad.any(axis=0)
            x = x.astype(np.float64)  # a copy we may edit
            idx = np.arange(x.shape[1])
            for row, b in zip(x, bad):
                if b.all():
                    row[:] = 0.0
                elif b.any():
                    row[b] = np.interp(idx[b], idx[~b], row[~b])
        # Values near the float limits: rescale so sums and squares stay finite.
        peak = np.abs(x).max()
        if peak > 1e100:
            x = x / peak
    return x, fs, invalid


def normalise_leads(x: np.ndarray, copy: bool = True) -> np.ndarray:
    """Each lead with its mean removed and its peak magnitude scaled to 1 (float64; in place if ``copy=False``)."""
    y = np.array(x, dtype=np.float64, copy=copy or x.dtype != np.float64)
    if y.shape[-1]:
        y -= y.mean(axis=-1, keepdims=True)
        peak = np.abs(y).max(axis=-1, keepdims=True)
        y /= np.where(peak > 0, peak, 1.0)
    return y


def decimate(x: np.ndarray, q: int) -> np.ndarray:
    """Mean of consecutive blocks of ``q`` samples along the last axis (a CIC anti-alias filter).

    Sample ``k`` of the result is centred on input sample ``k * q + (q - 1) / 2``.
    """
    if q <= 1:
        return x.astype(np.float64, order="C")
    n = x.shape[-1] // q
    out = x[..., 0: n * q: q].astype(np.float64, order="C")
    for k in range(1, q):
        out += x[..., k: n * q: q]
    out *= 1.0 / q
    return out


def moving_average(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving average of ``width`` samples along the last axis."""
    width = max(1, int(width))
    return uniform_filter1d(x, width, axis=-1, mode="nearest")


def refine_peaks(x: np.ndarray, positions: np.ndarray, radius: int, polarity: np.ndarray | None = None) -> np.ndarray:
    """Move each position to the dominant extremum of 1-D ``x`` within ``±radius`` samples.

    The extremum is the largest ``|x - baseline|`` where the baseline is the
    mean of the window's two ends; with ``polarity`` (+1/-1 per position)
    only deflections of that sign are considered.
    """
    positions = np.asarray(positions, dtype=np.int64)
    n = x.shape[-1]
    if positions.size == 0 or n == 0 or radius <= 0:
        return positions
    offsets = np.arange(-radius, radius + 1)
    idx = np.clip(positions[:, None] + offsets[None, :], 0, n - 1)
    win = x[idx]
    base = 0.5 * (win[:, :1] + win[:, -1:])
    dev = win - base
    if polarity is not None:
        dev = dev * np.asarray(polarity, dtype=np.float64)[:, None]
    else:
        dev = np.abs(dev)
    return idx[np.arange(idx.shape[0]), np.argmax(dev, axis=1)].astype(np.int64)


def enforce_refractory(positions: np.ndarray, heights: np.ndarray, min_distance: int) -> np.ndarray:
    """Boolean mask that keeps, among sorted detections closer than ``min_distance``, the tallest.

    Only runs of conflicting detections are visited (tallest first), so the
    cost is that of a vectorised ``diff`` when there are few conflicts.
    """
    positions = np.asarray(positions)
    keep = np.ones(positions.size, bool)
    if positions.size < 2:
        return keep
    close = np.diff(positions) < min_distance
    if not close.any():
        return keep
    # Runs of detections chained by close neighbours.
    edges = np.diff(np.concatenate(([0], close.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) + 1
    for a, b in zip(starts.tolist(), stops.tolist()):
        pos, order = positions[a:b], np.argsort(-heights[a:b], kind="stable")
        taken = np.zeros(b - a, bool)
        for i in order.tolist():
            near = np.abs(pos - pos[i]) < min_distance
            if (taken & near).any():
                keep[a + i] = False
            else:
                taken[i] = True
    return keep
