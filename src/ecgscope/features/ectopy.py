"""Ectopy-aware rhythm features: beat shapes against the span's median beat, RR irregularity of alike beats.

An irregular RR series has two common causes that RR statistics alone
confuse: atrial fibrillation (alike, usually narrow QRS complexes at irregular
intervals) and frequent ectopic beats (premature beats of another shape, with
regular intervals between the normal ones). :func:`ectopy_vector` tells them
apart without any labels, so it can feed a model that is evaluated zero-shot:

1. Every beat's QRS segment (``HALF_WIDTH_S`` either side of its R peak, all
   leads) is compared with the span's median beat: Pearson correlation and
   peak-to-peak ratio. A beat is *deviant* when its correlation is below
   ``MIN_CORRELATION`` or its amplitude is off by more than 2× either way.
2. An RR interval is *alike* when both its beats are not deviant; successive
   differences are taken between adjacent alike intervals only.

============================  =============================================================
``DeviantShare``              share of beats that are deviant
``TemplateCorr``              median correlation of the beats with the median beat
``AlikePairShare``            share of RR intervals whose two beats are both alike
``AlikeMADSDnorm``            median absolute successive difference of alike intervals /
                              their median
``AlikeIrregularShare``       share of those differences above 10 % of the median interval
``PrematureDeviantShare``     share of beats that are deviant *and* premature (preceding RR
                              below 85 % of the span's median RR): the PVC signature
============================  =============================================================

Values that cannot be measured (fewer than ``MIN_BEATS`` complete beats, or
fewer than two pairs of adjacent alike intervals) are masked, as in
:func:`ecgscope.features.hrv_stream.hrv_vector`.
"""

from __future__ import annotations

import numpy as np

from ..signal.heart_rate_variability import NN_LIMITS_MS

__all__ = ["ECTOPY_FEATURES", "HALF_WIDTH_S", "MIN_BEATS", "MIN_CORRELATION", "ectopy_vector"]

#: Names of the :func:`ectopy_vector` entries, in order.
ECTOPY_FEATURES: tuple[str, ...] = ("DeviantShare", "TemplateCorr", "AlikePairShare", "AlikeMADSDnorm",
                                    "AlikeIrregularShare", "PrematureDeviantShare")
#: Half-width of the QRS segment compared with the median beat (s).
HALF_WIDTH_S = 0.1
#: Beats correlating less than this with the median beat are deviant.
MIN_CORRELATION = 0.85
#: Fewer complete beats than this leave every value unmeasured.
MIN_BEATS = 4


def _shapes(x: np.ndarray, r: np.ndarray, half: int) -> tuple[np.ndarray, np.ndarray]:
    """Correlation and peak-to-peak ratio of each beat's segment with the median segment."""
    seg = x[:, r[:, None] + np.arange(-half, half + 1)[None, :]]  # (leads, beats, width)
    seg = seg.transpose(1, 0, 2).reshape(r.size, -1).astype(np.float64)
    seg -= seg.mean(1, keepdims=True)
    template = np.median(seg, 0)
    norms = np.linalg.norm(seg, axis=1) * np.linalg.norm(template)
    corr = np.where(norms > 0, seg @ template / np.maximum(norms, 1e-12), 0.0)
    ratio = np.ptp(seg, 1) / max(float(np.ptp(template)), 1e-12)
    return corr, ratio


def ectopy_vector(signal, rpeaks, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """``(values float32[6], mask bool[6])``: the :data:`ECTOPY_FEATURES` of one span.

    Args:
        signal: ``(leads, samples)`` or ``(samples,)`` of the span (band-passed).
        rpeaks: R-peak sample positions inside the span.
        fs: sampling rate in Hz.

    ``mask`` is True where a value was measured; unmeasured values are 0.
    """
    x = np.atleast_2d(np.asarray(signal, dtype=np.float32))
    r = np.unique(np.asarray(rpeaks, dtype=np.int64).reshape(-1))
    half = max(1, round(HALF_WIDTH_S * fs))
    values = np.full(len(ECTOPY_FEATURES), np.nan)
    complete = (r >= half) & (r < x.shape[-1] - half)
    if complete.sum() >= MIN_BEATS:
        corr, ratio = _shapes(np.nan_to_num(x), r[complete], half)
        deviant = np.zeros(r.size, bool)  # beats too near the edge to compare count as alike
        deviant[complete] = (corr < MIN_CORRELATION) | (ratio < 0.5) | (ratio > 2.0)
        rr = np.diff(r) / float(fs)
        valid = (rr >= NN_LIMITS_MS[0] / 1000) & (rr <= NN_LIMITS_MS[1] / 1000)
        alike = valid & ~deviant[:-1] & ~deviant[1:]
        values[0] = deviant[complete].mean()
        values[1] = np.median(corr)
        if rr.size:
            values[2] = alike.mean()
            premature = np.zeros(r.size, bool)
            if valid.any():
                premature[1:] = valid & (rr < 0.85 * np.median(rr[valid]))
            values[5] = (deviant & premature)[1:].mean()
        pairs = alike[:-1] & alike[1:]
        if pairs.sum() >= 2:
            diffs = np.abs(np.diff(rr))[pairs]
            median_rr = float(np.median(rr[alike]))
            values[3] = np.median(diffs) / median_rr
            values[4] = np.mean(diffs > 0.1 * median_rr)
    mask = np.isfinite(values)
    return np.where(mask, values, 0.0).astype(np.float32), mask
