"""Elgendi's two-moving-averages QRS detector.

Elgendi M., Jonkman M., De Boer F., "Frequency bands effects on QRS
detection", Proc. BIOSIGNALS 2010, pp. 428-431; parameters as optimised in
Elgendi M., "Fast QRS detection with an optimized knowledge-based method:
evaluation on 11 standard ECG databases", PLoS ONE 8(9):e73557, 2013.

Band-pass 8-20 Hz (Butterworth, order 3, zero phase), squaring, a 97 ms
moving average (QRS scale) compared with a 611 ms moving average (beat scale)
plus an offset ``beta * mean(y^2)`` (``beta = 0.08``); blocks of interest at
least 97 ms wide are QRS complexes. The R peak is the largest filtered sample
of each block, moved to the dominant extremum of the original signal.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from ._common import enforce_refractory, moving_average, refine_peaks

__all__ = ["detect"]

W1_S, W2_S, BETA = 0.097, 0.611, 0.08
BAND_HZ = (8.0, 20.0)


def detect(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Elgendi R peaks on the first lead of ``x``; confidence from the block's energy ratio."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.float64))
    lead = x[0].astype(np.float64)
    n = lead.size
    hi = min(BAND_HZ[1], 0.45 * fs)
    sos = butter(3, [BAND_HZ[0], hi], "bandpass", fs=fs, output="sos")
    if n <= 3 * (2 * len(sos) + 1) or not np.any(lead - lead[0]):
        return empty
    lead = lead - lead.mean()
    lead /= max(np.abs(lead).max(), 1e-300)
    y = sosfiltfilt(sos, lead) ** 2
    w1 = max(1, int(round(W1_S * fs)))
    ma_qrs = moving_average(y, w1)
    ma_beat = moving_average(y, int(round(W2_S * fs)))
    blocks = ma_qrs > ma_beat + BETA * y.mean()
    edges = np.diff(np.concatenate(([0], blocks.astype(np.int8), [0])))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    wide = (stops - starts) >= w1
    starts, stops = starts[wide], stops[wide]
    if starts.size == 0:
        return empty
    # Largest filtered sample of each block: samples outside blocks are masked, so a
    # running maximum from each block start finds it (maximum.reduceat, vectorised).
    marks = np.zeros(n + 1, np.int64)
    np.add.at(marks, starts, 1)
    np.add.at(marks, stops, -1)
    masked = np.where(np.cumsum(marks[:-1]) > 0, y, -np.inf)
    peak_val = np.maximum.reduceat(masked, starts)
    seg = np.repeat(np.arange(starts.size), np.diff(np.append(starts, n)))
    is_max = masked[starts[0]:] == peak_val[seg]
    first = np.flatnonzero(is_max)
    pos = (starts[0] + first[np.unique(seg[first], return_index=True)[1]]).astype(np.int64)
    keep = enforce_refractory(pos, peak_val, int(round(0.2 * fs)))
    pos, peak_val = pos[keep], peak_val[keep]
    ratio = ma_qrs[pos] / np.maximum(ma_beat[pos] + BETA * y.mean(), 1e-300)
    pos = refine_peaks(x[0], pos, max(1, int(round(0.05 * fs))))
    conf = np.clip(1.0 - 1.0 / np.maximum(ratio, 1.0), 0.0, 1.0)
    pos, idx = np.unique(pos, return_index=True)
    return pos, conf[idx]
