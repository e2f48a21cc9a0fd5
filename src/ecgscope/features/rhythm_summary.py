"""Record-level rhythm summary: one fixed-length vector of rhythm, morphology, atrial-activity and quality features.

The hand-crafted feature families that the strongest CinC 2017 entries
combined (Datta et al. 2017; Teijeiro et al. 2018; Zabihi et al. 2017; Clifford
et al. 2017 review) computed with the signal layer, for one single-lead span of
any length and sampling rate. Every value is NaN where it cannot be measured
(too few beats, no P wave found), so gradient-boosted trees take it as is.

=========================  ====================================================================
family                     features
=========================  ====================================================================
``rr_*``                   the eight RR statistics (:func:`~.hrv_stream.rr_statistics`)
``hrv_*``                  the HRV vector (:func:`~.hrv_stream.hrv_vector`)
``ectopy_*``               beat shapes against the median beat (:func:`~.ectopy.ectopy_vector`)
``win_*``                  heart rate and irregularity over 10-s windows (5-s hop): their
                           min and max, so a short paroxysm or run in a long record shows
``rr_max_s`` ...           longest and shortest interval and their ratio to the median (pauses,
                           runs)
``int_*``                  delineated intervals (:func:`~ecgscope.signal.delineate`): the share of
                           beats with a P wave, PR / QRS / QT medians and spreads, QTc
``tpl_*``                  the median beat, ``TEMPLATE_S`` around the R peak at ``TEMPLATE_FS``
                           Hz, in units of its QRS amplitude, and its P, T, ST and R amplitudes
``corr_*``                 beat-to-median-beat correlation: 10th percentile and spread
``aa_*``                   atrial activity after QRST cancellation (the median beat subtracted
                           at every beat): residual RMS against the QRS amplitude, the share of
                           3-12 Hz power, its dominant frequency and organisation (f waves)
``sq_*``                   signal quality (:func:`~ecgscope.signal.signal_quality`): mean and
                           worst window score and the mean metrics
``duration_s``             span length
=========================  ====================================================================
"""

from __future__ import annotations

import numpy as np

from ..errors import ECGScopeError
from ..signal.beats import _correlation
from ..signal.filters import bandpass
from .ectopy import ECTOPY_FEATURES, ectopy_vector
from .hrv_stream import HRV_FEATURE_NAMES, RR_STAT_NAMES, hrv_vector, rr_statistics

__all__ = ["SUMMARY_FEATURES", "TEMPLATE_FS", "TEMPLATE_S", "rhythm_summary"]

#: Median-beat span around the R peak (s) and the rate it is reported at (Hz).
TEMPLATE_S: tuple[float, float] = (-0.25, 0.5)
TEMPLATE_FS = 40.0
_N_TEMPLATE = round((TEMPLATE_S[1] - TEMPLATE_S[0]) * TEMPLATE_FS) + 1
_WINDOW_S, _HOP_S = 10.0, 5.0
_QUALITY = ("flatline", "saturation", "hf_noise", "baseline", "drift_mv", "agreement")

SUMMARY_FEATURES: tuple[str, ...] = (
    tuple(f"rr_{k}" for k in RR_STAT_NAMES)
    + tuple(f"hrv_{k}" for k in HRV_FEATURE_NAMES)
    + tuple(f"ectopy_{k}" for k in ECTOPY_FEATURES)
    + ("win_hr_min", "win_hr_max", "win_irr_min", "win_irr_max")
    + ("rr_max_s", "rr_min_s", "rr_max_ratio", "rr_min_ratio")
    + ("int_p_share", "int_pr", "int_pr_iqr", "int_p", "int_qrs", "int_qrs_iqr", "int_qt", "int_qtc")
    + tuple(f"tpl_{i}" for i in range(_N_TEMPLATE))
    + ("tpl_qrs_mv", "tpl_r", "tpl_p", "tpl_t", "tpl_st")
    + ("corr_p10", "corr_iqr")
    + ("aa_rms", "aa_band_share", "aa_peak_hz", "aa_organisation")
    + ("sq_score_mean", "sq_score_min") + tuple(f"sq_{k}" for k in _QUALITY)
    + ("duration_s",)
)


def _masked(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return np.where(mask, values, np.nan)


def _windowed(r: np.ndarray, fs: float, n: int) -> list[float]:
    """Min and max over 10-s windows of the heart rate and of the normalised median successive RR difference."""
    hr, irr = [], []
    win, hop = int(_WINDOW_S * fs), int(_HOP_S * fs)
    for start in range(0, max(n - win, 0) + 1, hop):
        rr = np.diff(r[(r >= start) & (r < start + win)]) / fs
        rr = rr[(rr > 0.2) & (rr < 3.0)]
        if rr.size >= 4:
            hr.append(60.0 / np.median(rr))
            irr.append(np.median(np.abs(np.diff(rr))) / np.median(rr))
    if not hr:
        return [np.nan] * 4
    return [min(hr), max(hr), min(irr), max(irr)]


def _extremes(r: np.ndarray, fs: float) -> list[float]:
    rr = np.diff(r) / fs
    if rr.size < 2:
        return [np.nan] * 4
    med = float(np.median(rr))
    return [float(rr.max()), float(rr.min()), float(rr.max()) / med, float(rr.min()) / med]


def _intervals(x: np.ndarray, r: np.ndarray, fs: float) -> list[float]:
    from ..signal.delineation import beat_intervals, delineate

    if r.size < 3:
        return [np.nan] * 8
    beats = beat_intervals(delineate(x, fs, r))
    pr, qrs = beats["PR"], beats["QRS"]

    def med(v):
        return float(np.nanmedian(v)) if np.isfinite(v).any() else np.nan

    def iqr(v):
        v = v[np.isfinite(v)]
        return float(np.subtract(*np.percentile(v, [75, 25]))) if v.size >= 2 else np.nan

    return [float(np.isfinite(pr).mean()), med(pr), iqr(pr), med(beats["P"]), med(qrs), iqr(qrs), med(beats["QT"]),
            med(beats["QTc_Bazett"])]


def _segments(x: np.ndarray, r: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Beats ``TEMPLATE_S`` around complete R peaks ``(beats, width)`` and the offsets of that span."""
    offsets = np.arange(round(TEMPLATE_S[0] * fs), round(TEMPLATE_S[1] * fs) + 1)
    r = r[(r + offsets[0] >= 0) & (r + offsets[-1] < x.size)]
    return x[r[:, None] + offsets[None, :]], offsets


def _template(x: np.ndarray, r: np.ndarray, fs: float) -> tuple[list[float], np.ndarray | None, float]:
    """Template samples, its amplitudes, correlation summaries; the template at ``fs`` and its QRS amplitude."""
    seg, offsets = _segments(x, r, fs)
    width = _N_TEMPLATE + 5 + 2
    if seg.shape[0] < 3:
        return [np.nan] * width, None, np.nan
    seg = seg - np.median(seg[:, :max(1, int(0.05 * fs))], axis=1, keepdims=True)  # PR-segment-ish baseline
    tpl = np.median(seg, axis=0)
    t = offsets / fs
    qrs = np.abs(t) <= 0.06
    qrs_mv = float(np.ptp(tpl[qrs])) if qrs.any() else np.nan
    scale = qrs_mv if qrs_mv > 1e-6 else np.nan
    grid = np.linspace(TEMPLATE_S[0], TEMPLATE_S[1], _N_TEMPLATE)
    sampled = np.interp(grid, t, tpl) / scale

    def peak(lo, hi):
        part = tpl[(t >= lo) & (t <= hi)]
        return float(part[np.argmax(np.abs(part))]) / scale if part.size else np.nan

    amps = [qrs_mv, float(tpl[offsets == 0][0]) / scale, peak(-0.25, -0.08), peak(0.15, 0.45),
            float(np.mean(tpl[(t >= 0.06) & (t <= 0.1)])) / scale]
    corr = _correlation(seg, tpl[None])
    corr_summary = [float(np.percentile(corr, 10)), float(np.subtract(*np.percentile(corr, [75, 25])))]
    return list(sampled) + amps + corr_summary, tpl, qrs_mv


def _atrial_activity(x: np.ndarray, r: np.ndarray, fs: float, tpl: np.ndarray | None, qrs_mv: float) -> list[float]:
    """Residual after subtracting the (least-squares scaled) median beat at every beat: power and spectrum."""
    from scipy.signal import welch

    if tpl is None or not qrs_mv > 0:
        return [np.nan] * 4
    offsets = np.arange(round(-0.1 * fs), round(0.45 * fs) + 1)
    part = tpl[round((-0.1 - TEMPLATE_S[0]) * fs):][: offsets.size]
    residual = x.astype(np.float64).copy()
    nxt = np.r_[r[1:], x.size]
    for i, ri in enumerate(r):
        lo, hi = ri + offsets[0], min(ri + offsets[-1] + 1, nxt[i] + offsets[0], x.size)
        if lo < 0 or hi <= ri:
            continue
        piece = part[: hi - lo]
        gain = float(residual[lo:hi] @ piece / max(piece @ piece, 1e-12))
        residual[lo:hi] -= np.clip(gain, 0.5, 2.0) * piece
    f, p = welch(residual, fs, nperseg=min(residual.size, int(4 * fs)))
    total = p[(f >= 0.5) & (f <= 40)].sum()
    band = (f >= 3) & (f <= 12)
    if total <= 0 or not band.any():
        return [np.nan] * 4
    pb, fb = p[band], f[band]
    k = int(np.argmax(pb))
    near = np.abs(fb - fb[k]) <= 0.5
    return [float(np.sqrt(np.mean(residual ** 2))) / qrs_mv, float(pb.sum() / total), float(fb[k]),
            float(pb[near].sum() / pb.sum())]


def _quality(x: np.ndarray, fs: float) -> list[float]:
    from ..signal.quality import signal_quality

    q = signal_quality(x, fs, window=min(10.0, x.size / fs))
    metrics = [float(np.nanmean(q.metrics[k])) if np.isfinite(q.metrics[k]).any() else np.nan for k in _QUALITY]
    return [float(q.combined_score.mean()), float(q.combined_score.min())] + metrics


def rhythm_summary(signal, fs: float, rpeaks=None) -> np.ndarray:
    """``float32[len(SUMMARY_FEATURES)]`` of one single-lead span (first lead of a 2-D array); NaN unmeasured.

    Args:
        signal: ``(samples,)`` or ``(leads, samples)`` in mV, raw (it is band-passed 0.5-40 Hz here).
        fs: sampling rate in Hz.
        rpeaks: R-peak positions; found with :func:`ecgscope.signal.find_rpeaks` when omitted.
    """
    from ..signal import find_rpeaks

    x = np.atleast_2d(np.asarray(signal, dtype=np.float64))[0]
    x = np.where(np.isfinite(x), x, 0.0)
    fs = float(fs)
    duration = x.size / fs
    values = np.full(len(SUMMARY_FEATURES), np.nan, np.float32)
    values[-1] = duration
    if x.size < fs:  # under a second: nothing to measure
        return values
    if rpeaks is None:
        rpeaks = find_rpeaks(x, fs)
    r = np.unique(np.asarray(rpeaks, dtype=np.int64).reshape(-1))
    r = r[(r >= 0) & (r < x.size)]
    xb = bandpass(x, fs, 0.5, min(40.0, 0.45 * fs))
    tpl_values, tpl, qrs_mv = _template(xb, r, fs)
    parts = [
        (len(RR_STAT_NAMES), lambda: rr_statistics(r, fs)),
        (len(HRV_FEATURE_NAMES), lambda: _masked(*hrv_vector(r, fs, duration_s=duration))),
        (len(ECTOPY_FEATURES), lambda: _masked(*ectopy_vector(xb, r, fs))),
        (4, lambda: _windowed(r, fs, x.size)),
        (4, lambda: _extremes(r, fs)),
        (8, lambda: _intervals(xb, r, fs)),
        (len(tpl_values), lambda: tpl_values),
        (4, lambda: _atrial_activity(xb, r, fs, tpl, qrs_mv)),
        (2 + len(_QUALITY), lambda: _quality(x, fs)),
    ]
    at = 0
    for width, compute in parts:
        try:
            values[at:at + width] = compute()
        except ECGScopeError:  # e.g. intervals too irregular to clean: that family stays unmeasured
            pass
        at += width
    return values
