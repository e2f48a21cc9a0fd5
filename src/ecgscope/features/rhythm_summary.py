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

import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..errors import ECGScopeError
from ..signal.beats import _correlation
from ..signal.filters import bandpass
from .ectopy import ECTOPY_FEATURES, ectopy_vector
from .hrv_stream import HRV_FEATURE_NAMES, RR_STAT_NAMES, hrv_vector, rr_statistics

__all__ = ["QRS_SHAPE_FEATURES", "SUMMARY_FEATURES", "SUMMARY_VERSION", "TEMPLATE_FS", "TEMPLATE_S", "RecordParts",
           "record_parts", "rhythm_summaries", "rhythm_summary", "span_summaries"]

#: How spans of one record are summarised. 1: each span on its own (band-pass, delineation, quality);
#: 2: those computed once on the record (:func:`record_parts`) and read per span. A model trained on one
#: version's window values is not given the other's.
SUMMARY_VERSION = 2
#: Median-beat span around the R peak (s) and the rate it is reported at (Hz).
TEMPLATE_S: tuple[float, float] = (-0.25, 0.5)
TEMPLATE_FS = 40.0
_N_TEMPLATE = round((TEMPLATE_S[1] - TEMPLATE_S[0]) * TEMPLATE_FS) + 1
_WINDOW_S, _HOP_S = 10.0, 5.0
_QUALITY_CHUNK_S = 3600.0  # signal quality is computed an hour at a time (its detectors hold the whole input)
_QUALITY = ("flatline", "saturation", "hf_noise", "baseline", "drift_mv", "agreement")

_TEMPLATE_FEATURES = tuple(f"tpl_{i}" for i in range(_N_TEMPLATE))

SUMMARY_FEATURES: tuple[str, ...] = (
    tuple(f"rr_{k}" for k in RR_STAT_NAMES)
    + tuple(f"hrv_{k}" for k in HRV_FEATURE_NAMES)
    + tuple(f"ectopy_{k}" for k in ECTOPY_FEATURES)
    + ("win_hr_min", "win_hr_max", "win_irr_min", "win_irr_max")
    + ("rr_max_s", "rr_min_s", "rr_max_ratio", "rr_min_ratio")
    + ("int_p_share", "int_pr", "int_pr_iqr", "int_p", "int_qrs", "int_qrs_iqr", "int_qt", "int_qtc")
    + _TEMPLATE_FEATURES
    + ("tpl_qrs_mv", "tpl_r", "tpl_p", "tpl_t", "tpl_st")
    + ("corr_p10", "corr_iqr")
    + ("aa_rms", "aa_band_share", "aa_peak_hz", "aa_organisation")
    + ("sq_score_mean", "sq_score_min") + tuple(f"sq_{k}" for k in _QUALITY)
    + ("duration_s",)
)


#: The summary values that describe the shape of the ventricular complex itself (the median beat's samples and
#: amplitudes, QRS width, QT): a bundle-branch block or a paced or widened complex moves them whatever the
#: rhythm. The other values describe the rhythm, the atrial activity, beat-to-beat shape changes and quality.
QRS_SHAPE_FEATURES: tuple[str, ...] = (
    _TEMPLATE_FEATURES
    + ("tpl_qrs_mv", "tpl_r", "tpl_t", "tpl_st", "int_qrs", "int_qrs_iqr", "int_qt", "int_qtc")
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


def _intervals(beats: dict[str, np.ndarray] | None, inside: slice) -> list[float]:
    """Median and spread of the delineated intervals of the beats ``inside`` (a slice of the record's)."""
    if beats is None or inside.stop - inside.start < 3:
        return [np.nan] * 8
    pr, qrs = beats["PR"][inside], beats["QRS"][inside]

    def med(v):
        return float(np.nanmedian(v)) if np.isfinite(v).any() else np.nan

    def iqr(v):
        v = v[np.isfinite(v)]
        return float(np.subtract(*np.percentile(v, [75, 25]))) if v.size >= 2 else np.nan

    return [float(np.isfinite(pr).mean()), med(pr), iqr(pr), med(beats["P"][inside]), med(qrs), iqr(qrs),
            med(beats["QT"][inside]), med(beats["QTc_Bazett"][inside])]


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
    from ..signal.spectral import welch_psd

    if tpl is None or not qrs_mv > 0:
        return [np.nan] * 4
    offsets = np.arange(round(-0.1 * fs), round(0.45 * fs) + 1)
    part = tpl[round((-0.1 - TEMPLATE_S[0]) * fs):][: offsets.size]
    residual = x.astype(np.float64).copy()
    lo = r + offsets[0]  # each beat's piece ends where the next one's starts, so pieces never overlap
    hi = np.minimum(np.minimum(r + offsets[-1] + 1, np.r_[r[1:], x.size] + offsets[0]), x.size)
    ok = (lo >= 0) & (hi > r)
    lo, hi = lo[ok], hi[ok]
    if lo.size:
        k = np.arange(part.size)[None, :]
        inside = k < (hi - lo)[:, None]
        idx = np.where(inside, lo[:, None] + k, 0)
        piece = np.where(inside, part[None, :], 0.0)
        gain = (residual[idx] * piece).sum(1) / np.maximum((piece * piece).sum(1), 1e-12)
        residual[idx[inside]] -= (np.clip(gain, 0.5, 2.0)[:, None] * piece)[inside]
    f, p = welch_psd(residual, fs, int(4 * fs))
    total = p[(f >= 0.5) & (f <= 40)].sum()
    band = (f >= 3) & (f <= 12)
    if total <= 0 or not band.any():
        return [np.nan] * 4
    pb, fb = p[band], f[band]
    k = int(np.argmax(pb))
    near = np.abs(fb - fb[k]) <= 0.5
    return [float(np.sqrt(np.mean(residual ** 2))) / qrs_mv, float(pb.sum() / total), float(fb[k]),
            float(pb[near].sum() / pb.sum())]


@dataclass
class RecordParts:
    """What a record's summaries share, computed once: the band-passed lead ``xb``, the R peaks ``r``, each
    beat's delineated ``beats`` intervals (None: not delineated) and the ``quality`` windows (their
    ``centre`` sample, ``score`` and mean metrics ``(windows, len(_QUALITY))``)."""

    fs: float
    xb: np.ndarray
    r: np.ndarray
    beats: dict[str, np.ndarray] | None
    centre: np.ndarray
    score: np.ndarray
    metrics: np.ndarray

    def beats_in(self, lo: int, hi: int) -> slice:
        """The beats (indices into ``r``, which is sorted) with R peaks in samples ``[lo, hi)``."""
        i, j = np.searchsorted(self.r, [lo, hi])
        return slice(int(i), int(j))

    def crop(self, lo: int, hi: int) -> RecordParts:
        """The parts of samples ``[lo, hi)``, renumbered from 0 (summaries of spans inside it are unchanged)."""
        keep = self.beats_in(lo, hi)
        windows = (self.centre >= lo) & (self.centre < hi)
        beats = None if self.beats is None else {k: v[keep] for k, v in self.beats.items()}
        return RecordParts(self.fs, self.xb[lo:hi], self.r[keep] - lo, beats, self.centre[windows] - lo,
                           self.score[windows], self.metrics[windows])

    def quality(self, lo: int, hi: int) -> list[float]:
        """Mean and worst score and mean metrics of the quality windows centred in ``[lo, hi)`` (else the
        window nearest the span's centre)."""
        if not self.centre.size:
            return [np.nan] * (2 + len(_QUALITY))
        inside = (self.centre >= lo) & (self.centre < hi)
        if not inside.any():
            inside = np.abs(self.centre - (lo + hi) / 2) == np.abs(self.centre - (lo + hi) / 2).min()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a metric unmeasured in every window: NaN
            metrics = np.nanmean(self.metrics[inside], axis=0)
        return [float(self.score[inside].mean()), float(self.score[inside].min())] + metrics.tolist()


def _quality_piece(x: np.ndarray, fs: float, window: float, step: float) -> tuple[np.ndarray, ...]:
    """Window centres (from the piece's start), combined scores and :data:`_QUALITY` metrics of one piece."""
    from ..signal.quality import signal_quality

    q = signal_quality(x, fs, window=window, step=step)
    return (q.start + q.stop) / 2, q.combined_score, np.stack([q.metrics[k][0] for k in _QUALITY], 1)


def record_parts(signal, fs: float, rpeaks=None, *, block_s: float | None = None,
                 quality_step_s: float | None = None, executor=None) -> RecordParts:
    """The :class:`RecordParts` of one lead (the first of a 2-D array): band-pass 0.5-40 Hz, R peaks (found
    when not given), delineation (P waves judged per ``block_s`` s, default: up to 2,048 beats; see
    :func:`~ecgscope.signal.delineate`) and signal quality in 10-s windows every ``quality_step_s`` s
    (default 10), an hour at a time on records over two hours (each hour's windows from its start).
    ``executor`` (a :class:`concurrent.futures.Executor`) shares the delineation blocks and the hours out;
    the parts are the same."""
    from ..signal import find_rpeaks
    from ..signal.delineation import beat_intervals, delineate

    x = np.atleast_2d(np.asarray(signal, dtype=np.float64))[0]
    x = np.where(np.isfinite(x), x, 0.0)
    fs = float(fs)
    if x.size < fs:  # under a second: nothing to measure
        return RecordParts(fs, x, np.zeros(0, np.int64), None, np.zeros(0), np.zeros(0), np.zeros((0, len(_QUALITY))))
    if rpeaks is None:
        rpeaks = find_rpeaks(x, fs)
    r = np.unique(np.asarray(rpeaks, dtype=np.int64).reshape(-1))
    r = r[(r >= 0) & (r < x.size)]
    xb = bandpass(x, fs, 0.5, min(40.0, 0.45 * fs))
    beats = None
    if r.size >= 3:
        try:
            beats = beat_intervals(delineate(xb, fs, r, block_s=block_s, executor=executor))
        except ECGScopeError:  # e.g. intervals too irregular to clean: the intervals stay unmeasured
            pass
    window = min(10.0, x.size / fs)
    step = window if quality_step_s is None else float(quality_step_s)
    chunk = max(int(round(_QUALITY_CHUNK_S / step)), 1) * int(round(step * fs))  # whole steps
    starts = [0]  # records up to two hours in one piece; bounded memory beyond
    while starts[-1] + 2 * chunk <= x.size:  # the last piece takes the rest (one to two chunks)
        starts.append(starts[-1] + chunk)
    pieces = [x[lo:hi] for lo, hi in zip(starts, starts[1:] + [x.size])]
    job = partial(_quality_piece, fs=fs, window=window, step=step)
    done = list(map(job, pieces) if executor is None or len(pieces) < 2 else executor.map(job, pieces))
    centre = np.concatenate([lo + c for lo, (c, _, _) in zip(starts, done)])
    return RecordParts(fs, xb, r, beats, centre, np.concatenate([q for _, q, _ in done]),
                       np.concatenate([m for _, _, m in done]))


def span_summaries(parts: RecordParts, spans) -> np.ndarray:
    """``float32[len(spans), len(SUMMARY_FEATURES)]``: the summary of each ``[start, end)`` sample span."""
    spans = np.asarray(spans, dtype=np.int64).reshape(-1, 2)
    out = np.full((len(spans), len(SUMMARY_FEATURES)), np.nan, np.float32)
    for row, (lo, hi) in zip(out, spans.tolist()):
        row[:] = _span_summary(parts, lo, hi)
    return out


def _span_summary(parts: RecordParts, lo: int, hi: int) -> np.ndarray:
    fs = parts.fs
    duration = (hi - lo) / fs
    values = np.full(len(SUMMARY_FEATURES), np.nan, np.float32)
    values[-1] = duration
    if hi - lo < fs:
        return values
    xb = parts.xb[lo:hi]
    inside = parts.beats_in(lo, hi)  # a slice: a 24-h record's spans need not scan all its beats
    r = parts.r[inside] - lo
    tpl_values, tpl, qrs_mv = _template(xb, r, fs)
    families = [
        (len(RR_STAT_NAMES), lambda: rr_statistics(r, fs)),
        (len(HRV_FEATURE_NAMES), lambda: _masked(*hrv_vector(r, fs, duration_s=duration))),
        (len(ECTOPY_FEATURES), lambda: _masked(*ectopy_vector(xb, r, fs))),
        (4, lambda: _windowed(r, fs, xb.size)),
        (4, lambda: _extremes(r, fs)),
        (8, lambda: _intervals(parts.beats, inside)),
        (len(tpl_values), lambda: tpl_values),
        (4, lambda: _atrial_activity(xb, r, fs, tpl, qrs_mv)),
        (2 + len(_QUALITY), lambda: parts.quality(lo, hi)),
    ]
    at = 0
    for width, compute in families:
        try:
            values[at:at + width] = compute()
        except ECGScopeError:  # e.g. every interval an artefact: that family stays unmeasured
            pass
        at += width
    return values


def rhythm_summaries(signal, fs: float, spans=None, rpeaks=None, *, block_s: float | None = None,
                     quality_step_s: float | None = None) -> np.ndarray:
    """``float32[spans, len(SUMMARY_FEATURES)]``: the summary of each ``[start, end)`` sample span of a record.

    What spans share is computed once on the whole record (:func:`record_parts`): the band-pass, the
    delineation of every beat (P waves judged per ``block_s`` seconds) and the signal quality in 10-s windows
    every ``quality_step_s`` s, which a span aggregates over the windows centred in it. So summarising every
    10-s window and its minute of context costs little more than the HRV and template of each.
    ``spans`` default: the whole record.
    """
    parts = record_parts(signal, fs, rpeaks, block_s=block_s, quality_step_s=quality_step_s)
    if spans is None:
        spans = [[0, parts.xb.size]]
    return span_summaries(parts, spans)


def rhythm_summary(signal, fs: float, rpeaks=None) -> np.ndarray:
    """``float32[len(SUMMARY_FEATURES)]`` of one single-lead span (first lead of a 2-D array); NaN unmeasured.

    Args:
        signal: ``(samples,)`` or ``(leads, samples)`` in mV, raw (it is band-passed 0.5-40 Hz here).
        fs: sampling rate in Hz.
        rpeaks: R-peak positions; found with :func:`ecgscope.signal.find_rpeaks` when omitted.
    """
    return rhythm_summaries(signal, fs, None, rpeaks)[0]
