"""Pan-Tompkins QRS detector.

Pan J., Tompkins W. J., "A real-time QRS detection algorithm", IEEE Trans.
Biomed. Eng. 32(3):230-236, 1985.

Faithful to the paper: the signal is resampled to the paper's 200 Hz and run
through its integer-coefficient filters (low-pass ``(1 - z^-6)^2 / (1 - z^-1)^2``,
high-pass ``z^-16 - (1 - z^-32) / (32 (1 - z^-1))``, together a 5-15 Hz band-pass),
the five-point derivative, squaring and a 150 ms (30-sample) moving-window
integrator. Peaks of the integrated signal are classified with two sets of
adaptive thresholds (``SPKI/NPKI`` on the integrated signal, ``SPKF/NPKF`` on
the band-passed signal), a 200 ms refractory period, T-wave discrimination
(a peak within 360 ms of a QRS whose maximal slope is under half of that QRS's
is a T wave), halved thresholds for irregular RR, and search-back with the
second thresholds when no QRS occurs within 166 % of the average RR.
Positions are moved to the dominant extremum of the original signal.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks, lfilter

from ...record import resample_signal
from ._common import refine_peaks

__all__ = ["detect"]

FS = 200.0
#: Filter delays at 200 Hz (samples): low-pass 5, high-pass 16, derivative 2.
_DELAY = 5 + 16 + 2
_MWI = 30  # 150 ms


def _filters(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Band-passed, derivative and integrated signals at 200 Hz (all causal, as published)."""
    lp = lfilter([1, 0, 0, 0, 0, 0, -2, 0, 0, 0, 0, 0, 1], [1, -2, 1], x)
    b_hp = np.zeros(33)
    b_hp[0], b_hp[16], b_hp[17], b_hp[32] = -1 / 32, 1.0, -1.0, 1 / 32
    bp = lfilter(b_hp, [1, -1], lp)
    der = lfilter(np.array([2, 1, 0, -1, -2]) / 8.0, [1], bp)
    mwi = lfilter(np.ones(_MWI) / _MWI, [1], der * der)
    return bp, der, mwi


def _classify(mwi, bp, der, peaks):
    """The paper's decision rules over the integrated-signal peaks; returns QRS indices and flags."""
    n = mwi.size
    learn = min(n, int(2 * FS))
    spki, npki = mwi[:learn].max() / 3.0, mwi[:learn].mean() / 2.0
    spkf, npkf = np.abs(bp[:learn]).max() / 3.0, np.abs(bp[:learn]).mean() / 2.0
    rr2: list[float] = []  # RR AVERAGE2's intervals: the last 8 within 92-116 % of it
    rr_avg2 = FS  # 1 s until beats are seen
    qrs: list[int] = []
    searched: list[bool] = []
    heights: list[float] = []
    last_slope = 0.0
    pending: list[tuple[int, float, float, float]] = []  # noise peaks since last QRS (for search-back)
    irregular = False
    lookback = _MWI  # the QRS lies in the integrator window before its peak

    def slope_and_bp(p: int) -> tuple[float, float]:
        lo = max(0, p - lookback)
        return float(np.abs(der[lo: p + 1]).max()), float(np.abs(bp[lo: p + 1]).max())

    def accept(p: int, pki: float, pkf: float, slope: float, back: bool) -> None:
        nonlocal spki, spkf, last_slope, rr_avg2, irregular
        if back:
            spki = 0.25 * pki + 0.75 * spki
            spkf = 0.25 * pkf + 0.75 * spkf
        else:
            spki = 0.125 * pki + 0.875 * spki
            spkf = 0.125 * pkf + 0.875 * spkf
        if qrs:
            rr = p - qrs[-1]
            irregular = not (0.92 * rr_avg2 <= rr <= 1.16 * rr_avg2)
            if not irregular or len(rr2) < 8:
                rr2.append(rr)
                del rr2[:-8]
            rr_avg2 = float(np.mean(rr2)) if rr2 else rr_avg2
        qrs.append(p)
        searched.append(back)
        heights.append(pki / max(spki, 1e-300))
        last_slope = slope
        pending.clear()

    for p in peaks.tolist():
        pki = float(mwi[p])
        slope, pkf = slope_and_bp(p)
        # Search-back before handling this peak when an RR is clearly missed.
        if qrs and p - qrs[-1] > 1.66 * rr_avg2 and pending:
            thr_i2 = 0.5 * (npki + 0.25 * (spki - npki))
            thr_f2 = 0.5 * (npkf + 0.25 * (spkf - npkf))
            good = [c for c in pending if c[1] > thr_i2 and c[2] > thr_f2 and c[0] - qrs[-1] >= 0.2 * FS]
            if good:
                c = max(good, key=lambda c: c[1])
                accept(c[0], c[1], c[2], c[3], True)
        if qrs and p - qrs[-1] < 0.2 * FS:
            continue  # refractory period
        thr_i1 = npki + 0.25 * (spki - npki)
        thr_f1 = npkf + 0.25 * (spkf - npkf)
        if irregular:
            thr_i1 *= 0.5
            thr_f1 *= 0.5
        if pki > thr_i1 and pkf > thr_f1:
            if qrs and p - qrs[-1] < 0.36 * FS and slope < 0.5 * last_slope:
                npki = 0.125 * pki + 0.875 * npki  # a T wave
                npkf = 0.125 * pkf + 0.875 * npkf
                continue
            accept(p, pki, pkf, slope, False)
        else:
            npki = 0.125 * pki + 0.875 * npki
            npkf = 0.125 * pkf + 0.875 * npkf
            pending.append((p, pki, pkf, slope))
    return np.asarray(qrs, dtype=np.int64), np.asarray(searched, bool), np.asarray(heights)


def detect(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Pan-Tompkins R peaks on the first lead of ``x``; confidence from the integrated peak height."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.float64))
    lead = x[0]
    if lead.size < int(0.5 * fs) or not np.ptp(lead) > 0:
        return empty
    y = lead.astype(np.float64) - np.median(lead)
    y /= max(np.abs(y).max(), 1e-300)  # unit scale before the float32 resampler
    if fs != FS:
        y = resample_signal(y, fs, FS).astype(np.float64)
    bp, der, mwi = _filters(y)
    if not np.any(mwi > 0):
        return empty
    peaks, _ = find_peaks(mwi, distance=int(0.2 * FS))  # the 200 ms refractory period
    qrs, searched, heights = _classify(mwi, bp, der, peaks)
    if qrs.size == 0:
        return empty
    # The R wave: the band-pass extremum inside the integrator window, minus the filter delays.
    lo = np.clip(qrs - _MWI, 0, None)
    win = np.clip(lo[:, None] + np.arange(_MWI + 1)[None, :], 0, bp.size - 1)
    r200 = win[np.arange(qrs.size), np.argmax(np.abs(bp[win]), axis=1)] - (_DELAY - 2)  # band-pass delay: 21 samples
    pos = np.rint(np.clip(r200, 0, None) * (fs / FS)).astype(np.int64)
    pos = np.clip(pos, 0, lead.size - 1)
    pos = refine_peaks(lead, pos, max(1, int(round(0.05 * fs))))
    conf = np.clip(heights, 0, 1) * np.where(searched, 0.5, 1.0)
    pos, idx = np.unique(pos, return_index=True)
    return pos, conf[idx]
