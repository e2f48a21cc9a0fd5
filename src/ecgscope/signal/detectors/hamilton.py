"""Hamilton-Tompkins QRS detector (the OSEA rules).

Hamilton P. S., Tompkins W. J., "Quantitative investigation of QRS detection
rules using the MIT/BIH arrhythmia database", IEEE Trans. Biomed. Eng.
33(12):1157-1165, 1986; and Hamilton P., "Open source ECG analysis",
Computers in Cardiology 29:101-104, 2002.

Band-pass 8-16 Hz, absolute first derivative and an 80 ms moving average
give the detection signal. Its peaks are classified with the 1986 paper's
best rule set: the detection threshold is ``noise + 0.3125 (qrs - noise)``
where ``qrs`` and ``noise`` are the means of the last eight QRS and noise
peaks; a peak is ignored when a larger one lies within 200 ms; a peak
within 360 ms of the previous QRS whose maximal slope is under half of that
QRS's is a T wave; when no QRS is found within 1.5 average RR intervals, the
largest peak since the last QRS above half the threshold is taken
(search-back). Positions are moved to the dominant extremum of the signal.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, find_peaks, sosfiltfilt

from ._common import enforce_refractory, moving_average, refine_peaks

__all__ = ["detect"]

BAND_HZ = (8.0, 16.0)
MA_S = 0.08
TH = 0.3125


def detect(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Hamilton R peaks on the first lead of ``x``; confidence from peak height over threshold."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.float64))
    lead = x[0].astype(np.float64)
    sos = butter(2, [BAND_HZ[0], min(BAND_HZ[1], 0.45 * fs)], "bandpass", fs=fs, output="sos")
    if lead.size <= 3 * (2 * len(sos) + 1) or not np.any(lead - lead[0]):
        return empty
    lead = lead - lead.mean()
    lead /= max(np.abs(lead).max(), 1e-300)
    bp = sosfiltfilt(sos, lead)
    slope = np.abs(np.gradient(bp))
    det = moving_average(slope, int(round(MA_S * fs)))
    # A peak is ignored when a larger one lies within 200 ms.
    peaks, props = find_peaks(det, distance=max(1, int(round(0.2 * fs))), height=0.0)
    if peaks.size == 0:
        return empty
    heights = props["peak_heights"]
    learn = peaks < 8 * fs
    qrs_buf = list(np.sort(heights[learn])[-8:]) if learn.any() else [heights.max()]
    noise_buf = [float(np.median(det[: int(8 * fs)]))]
    win = int(round(MA_S * fs))
    qrs: list[int] = []
    qrs_h: list[float] = []
    searched: list[bool] = []
    thr_at: list[float] = []
    rr_buf: list[float] = []
    last_slope = 0.0
    since: list[tuple[int, float]] = []  # noise peaks since the last QRS

    def threshold() -> float:
        qm, nm = float(np.mean(qrs_buf)), float(np.mean(noise_buf))
        return nm + TH * (qm - nm)

    def accept(p: int, hgt: float, back: bool) -> None:
        nonlocal last_slope
        if qrs:
            rr_buf.append(p - qrs[-1])
            del rr_buf[:-8]
        qrs.append(p)
        qrs_h.append(hgt)
        searched.append(back)
        thr_at.append(threshold())
        qrs_buf.append(hgt)
        del qrs_buf[:-8]
        last_slope = float(slope[max(0, p - win): p + 1].max())
        since.clear()

    for p, hgt in zip(peaks.tolist(), heights.tolist()):
        rr_avg = float(np.mean(rr_buf)) if rr_buf else fs
        if qrs and p - qrs[-1] > 1.5 * rr_avg and since:
            half = 0.5 * threshold()
            good = [c for c in since if c[1] > half and c[0] - qrs[-1] > 0.36 * fs]
            if good:
                c = max(good, key=lambda c: c[1])
                accept(c[0], c[1], True)
        if hgt > threshold():
            s = float(slope[max(0, p - win): p + 1].max())
            if qrs and p - qrs[-1] < 0.36 * fs and s < 0.5 * last_slope:
                noise_buf.append(hgt)  # T wave
                del noise_buf[:-8]
                continue
            accept(p, hgt, False)
        else:
            noise_buf.append(hgt)
            del noise_buf[:-8]
            since.append((p, hgt))
    if not qrs:
        return empty
    pos = np.asarray(qrs, dtype=np.int64)
    # The detection signal peaks at the end of the QRS slopes: look back over the averaging window.
    pos = refine_peaks(x[0], np.clip(pos - win // 2, 0, lead.size - 1), max(1, int(round(0.08 * fs))))
    ratio = np.asarray(qrs_h) / np.maximum(np.asarray(thr_at), 1e-300)
    conf = np.clip(1.0 - 0.5 / np.maximum(ratio, 0.5), 0.0, 1.0) * np.where(searched, 0.5, 1.0)
    order = np.argsort(pos, kind="stable")
    pos, conf = pos[order], conf[order]
    # The refractory period also holds for the refined positions (R and S of one wide QRS).
    keep = enforce_refractory(pos, np.asarray(qrs_h)[order], int(round(0.2 * fs)))
    return pos[keep], conf[keep]
