"""Beat segmentation (fixed windows around R peaks) and RR-interval features.

``segment_beats`` cuts a window around every beat, at the record's rate or
any other (the whole signal is resampled with an anti-aliasing polyphase
filter first, then each window is read at its exact fractional position), and
says which beats lie fully inside the signal. ``rr_features`` gives the
RR context classifiers use (de Chazal et al., IEEE TBME 51(7), 2004: previous,
next, local and record-average RR, and their ratios). ``beat_morphology``
summarises how each beat departs from the record's own median beat in its P,
QRS and T regions.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import SignalError
from ..record.resampling import rational_ratio, resample_signal
from ._inputs import as_fs, as_positions, as_signal

__all__ = ["segment_beats", "rr_features", "beat_morphology", "BEAT_NORMALIZATIONS", "RR_COLUMNS",
           "MORPHOLOGY_COLUMNS", "PRE_MEDIAN_BEATS"]

BEAT_NORMALIZATIONS = (None, "zscore", "record", "median")
#: Columns of :func:`rr_features`, in order.
RR_COLUMNS = (
    "pre_rr", "post_rr", "local_rr", "record_rr",
    "pre_local", "post_local", "pre_record", "post_record", "local_record", "post_pre", "irregularity",
    "pre_median",
)
#: Columns of :func:`beat_morphology`, in order.
MORPHOLOGY_COLUMNS = (
    "p_rms", "qrs_rms", "t_rms", "p_corr", "qrs_corr", "t_corr", "qrs_amplitude", "qrs_length", "qrs_width",
)
#: Seconds from the R peak that bound the QRS region of :func:`beat_morphology` (P before, T after).
QRS_REGION = (-0.083, 0.100)
#: Seconds from the R peak searched for the QRS width of :func:`beat_morphology` (wide enough for a
#: 200-ms ventricular beat annotated anywhere in its QRS, short of most T waves).
WIDTH_REGION = (-0.120, 0.160)


def segment_beats(
    signal,
    fs: float,
    rpeaks,
    window: tuple[float, float] = (0.25, 0.45),
    target_fs: float | None = None,
    normalize: str | None = None,
    pad: str = "edge",
) -> tuple[np.ndarray, np.ndarray]:
    """Cut one window per beat: ``(beats float32 (n, leads, L), valid bool (n,))``.

    Args:
        signal: ``(samples,)`` or ``(leads, samples)`` in mV.
        fs: sampling rate of ``signal`` in Hz.
        rpeaks: beat positions in samples (detected or reference).
        window: seconds ``(before, after)`` the R peak; ``L = round((before+after) * target_fs)``
            and the R peak is sample ``round(before * target_fs)`` of each window.
        target_fs: rate of the windows (default ``fs``); the signal is resampled
            (polyphase, anti-aliased) and windows are read at exact fractional positions.
        normalize: ``None``; ``"zscore"`` (each beat and lead to mean 0, SD 1);
            ``"record"`` (each lead by its whole-record median and SD);
            ``"median"`` (each beat minus its median, divided by the lead's median
            peak-to-peak beat amplitude over valid beats).
        pad: how samples beyond the signal are filled: ``"edge"``, ``"zero"`` or ``"nan"``.
            Such beats are marked ``valid = False``.
    """
    x, _ = as_signal(signal)
    fs = as_fs(fs)
    r = as_positions(rpeaks)
    before, after = (float(v) for v in window)
    if before < 0 or after < 0 or before + after <= 0:
        raise SignalError(f"window {window!r} must be two non-negative seconds with a positive sum",
                          fix="pass window=(before_s, after_s), e.g. (0.25, 0.45)")
    if normalize not in BEAT_NORMALIZATIONS:
        raise SignalError(f"unknown normalize={normalize!r}", fix=f"use one of {BEAT_NORMALIZATIONS}")
    if pad not in ("edge", "zero", "nan"):
        raise SignalError(f"unknown pad={pad!r}", fix="use 'edge', 'zero' or 'nan'")
    out_fs = fs if target_fs is None else as_fs(target_fs)
    if out_fs != fs:
        up, down = rational_ratio(fs, out_fs)
        ratio = up / down
        x = resample_signal(x, fs, out_fs)
    else:
        ratio = 1.0
    n_leads, n = x.shape
    length = int(round((before + after) * out_fs))
    if length < 1:
        raise SignalError(f"window {window!r} is shorter than one sample at {out_fs:g} Hz",
                          fix="widen the window or raise target_fs")
    # The R peak lands on output sample round(before * out_fs); at the native rate windows are exact slices.
    start = r * ratio - round(before * out_fs)
    pos = start[:, None] + np.arange(length)[None, :]  # (beats, L)
    i0 = np.floor(pos + 1e-9).astype(np.int64)
    frac = (pos - i0).astype(np.float32)
    inside = (i0 >= 0) & ((i0 < n - 1) | ((i0 == n - 1) & (frac <= 1e-6)))
    valid = inside.all(axis=1) if r.size else np.zeros(0, bool)
    lo = np.clip(i0, 0, n - 1)
    hi = np.clip(i0 + 1, 0, n - 1)
    beats = x[:, lo]  # (leads, beats, L)
    if np.any(frac > 1e-6):
        beats = beats * (1 - frac) + x[:, hi] * frac
    beats = np.ascontiguousarray(np.moveaxis(beats, 0, 1), dtype=np.float32)
    if pad != "edge" and not valid.all():
        beats[np.broadcast_to(~inside[:, None, :], beats.shape)] = 0.0 if pad == "zero" else np.nan
    if normalize is not None and r.size:
        beats = _normalize_beats(beats, x, valid, normalize)
    return beats, valid


def _normalize_beats(beats: np.ndarray, x: np.ndarray, valid: np.ndarray, how: str) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        if how == "zscore":
            mu = np.nanmean(beats, axis=2, keepdims=True)
            sd = np.nanstd(beats, axis=2, keepdims=True)
            out = (beats - mu) / np.where(sd > 0, sd, 1.0)
        elif how == "record":
            mu = np.nanmedian(x, axis=1)[None, :, None]
            sd = np.nanstd(x, axis=1)[None, :, None]
            out = (beats - mu) / np.where(sd > 0, sd, 1.0)
        else:  # "median"
            centred = beats - np.nanmedian(beats, axis=2, keepdims=True)
            ref = beats[valid] if valid.any() else beats
            amp = np.nanmedian(np.nanmax(ref, axis=2) - np.nanmin(ref, axis=2), axis=0)[None, :, None]
            out = centred / np.where(amp > 0, amp, 1.0)
    return out.astype(np.float32, copy=False)


#: Intervals before a beat whose median is the reference of ``pre_median`` in :func:`rr_features`.
PRE_MEDIAN_BEATS = 8


def _local_median(values: np.ndarray, before: int, after: int | None = None) -> np.ndarray:
    """Median of the finite ``values`` from ``before`` entries before each entry to ``after`` after it
    (default ``after = before``; NaN where none is finite)."""
    after = before if after is None else after
    n = values.size
    if n == 0:
        return values.astype(np.float64)
    padded = np.pad(values.astype(np.float64), (before, after), constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, before + after + 1)
    out = np.full(n, np.nan)
    some = np.isfinite(windows).any(axis=1)
    out[some] = np.nanmedian(windows[some], axis=1)
    return out


def rr_features(
    rpeaks,
    fs: float,
    local: int = 10,
    edge: str = "nan",
    normalize: str | None = None,
) -> pd.DataFrame:
    """RR context of every beat, one row per beat (seconds and ratios).

    Columns: ``pre_rr`` (to the previous beat), ``post_rr`` (to the next),
    ``local_rr`` (mean of the RR intervals between beats ``i-local`` and
    ``i+local``), ``record_rr`` (mean RR of the record), the ratios
    ``pre_local, post_local, pre_record, post_record, local_record, post_pre``
    ``irregularity``: the median over beats ``i-local .. i+local`` of each
    beat's relative RR change ``|post - pre| / mean(pre, post)``. It is about
    0.02-0.05 in sinus rhythm, even with isolated premature beats (the median
    ignores them), and 0.2-0.3 in atrial fibrillation, so a model can tell a
    premature beat in a regular rhythm from an early beat of an irregular one;
    and ``pre_median``: ``pre_rr`` over the median of the
    :data:`PRE_MEDIAN_BEATS` intervals before it, a prematurity index that
    only looks back, so neither the beat's own interval nor its compensatory
    pause moves the reference.

    Args:
        rpeaks: beat positions in samples.
        fs: sampling rate in Hz.
        local: half-width of the local average in beats (``±local``).
        edge: the first ``pre_rr`` and last ``post_rr`` are undefined: ``"nan"``
            keeps NaN, ``"nearest"`` copies the nearest defined interval.
        normalize: ``None``; ``"record"`` divides the interval columns by the record
            mean RR; ``"zscore"`` standardises each interval column within the record.
    """
    fs = as_fs(fs)
    r = as_positions(rpeaks)
    if edge not in ("nan", "nearest"):
        raise SignalError(f"unknown edge={edge!r}", fix="use 'nan' or 'nearest'")
    if normalize not in (None, "record", "zscore"):
        raise SignalError(f"unknown normalize={normalize!r}", fix="use None, 'record' or 'zscore'")
    if int(local) < 1:
        raise SignalError(f"local={local!r} must be at least 1 beat",
                          fix="pass local=10 (beats on each side)")
    n = r.size
    rr = np.diff(r) / fs
    nan1 = np.full(min(n, 1), np.nan)
    pre = np.concatenate([nan1, rr])[:n]
    post = np.concatenate([rr, nan1])[:n]
    if edge == "nearest" and rr.size:
        pre[0], post[-1] = rr[0], rr[-1]
    m = rr.size
    idx = np.arange(n)
    lo = np.clip(idx - int(local), 0, m)
    hi = np.clip(idx + int(local), 0, m)
    cs = np.concatenate([[0.0], np.cumsum(rr)])
    with np.errstate(invalid="ignore", divide="ignore"):
        local_rr = (cs[hi] - cs[lo]) / (hi - lo)
        record = np.full(n, rr.mean() if m else np.nan)
        frame = pd.DataFrame({"pre_rr": pre, "post_rr": post, "local_rr": local_rr, "record_rr": record})
        frame["pre_local"] = pre / local_rr
        frame["post_local"] = post / local_rr
        frame["pre_record"] = pre / record
        frame["post_record"] = post / record
        frame["local_record"] = local_rr / record
        frame["post_pre"] = post / pre
        frame["irregularity"] = _local_median(np.abs(post - pre) / (0.5 * (post + pre)), int(local))
        previous = np.concatenate([nan1, pre[:-1]]) if n else pre
        frame["pre_median"] = pre / _local_median(previous, PRE_MEDIAN_BEATS - 1, 0)
        cols = ["pre_rr", "post_rr", "local_rr", "record_rr"]
        if normalize == "record":
            frame[cols] = frame[cols].to_numpy() / record[:, None]
        elif normalize == "zscore":
            vals = frame[cols[:3]].to_numpy()
            sd = np.nanstd(vals, axis=0)
            frame[cols[:3]] = (vals - np.nanmean(vals, axis=0)) / np.where(sd > 0, sd, 1.0)
    return frame


def beat_morphology(beats, fs: float, before: float, template=None) -> pd.DataFrame:
    """How each beat departs from the record's dominant beat, one row per beat (scale-free numbers).

    ``beats`` ``(n, samples)`` are one lead's windows with the R peak ``before``
    seconds from the start (as :func:`segment_beats` cuts them); ``template`` is
    the record's typical beat (default: the median of ``beats``), or one
    template per beat ``(n, samples)`` (a local one, e.g.). The window is
    split at :data:`QRS_REGION` into P (before), QRS and T (after) regions.
    Columns: ``p_rms, qrs_rms, t_rms`` (RMS of beat minus template per region,
    over the template's QRS peak-to-peak), ``p_corr, qrs_corr, t_corr``
    (correlation with the template per region; 0 where either is flat),
    ``qrs_amplitude`` and ``qrs_length`` (the beat's QRS peak-to-peak and line
    length over the template's) and ``qrs_width`` (the span holding the middle
    80 % of the absolute slope within :data:`WIDTH_REGION`, over the
    template's). Ectopic ventricular beats are wide and unlike the template in
    QRS and T; supraventricular ones differ mostly in P.
    """
    fs = as_fs(fs)
    x = np.asarray(beats, dtype=np.float64)
    if x.ndim != 2:
        raise SignalError(f"beats must be (n, samples), got shape {x.shape}", fix="pass one lead's windows")
    ref = np.median(x, axis=0, keepdims=True) if template is None else np.asarray(template, np.float64)
    ref = ref.reshape(1, -1) if ref.ndim == 1 else ref
    if ref.ndim != 2 or ref.shape[1] != x.shape[1] or ref.shape[0] not in (1, x.shape[0]):
        raise SignalError(f"template has shape {ref.shape}, beats {x.shape}",
                          fix="pass one template beat, or one per beat, cut with the same window")
    r = int(round(float(before) * fs))
    q0 = int(np.clip(r + round(QRS_REGION[0] * fs), 1, x.shape[1] - 2))
    q1 = int(np.clip(r + round(QRS_REGION[1] * fs), q0 + 1, x.shape[1] - 1))
    regions = (slice(0, q0), slice(q0, q1), slice(q1, x.shape[1]))
    qrs_ref = ref[:, regions[1]]
    scale = np.maximum(np.ptp(qrs_ref, axis=1), 1e-9)
    diff = x - ref
    out = {}
    for name, part in zip(("p", "qrs", "t"), regions):
        out[f"{name}_rms"] = np.sqrt(np.mean(diff[:, part] ** 2, axis=1)) / scale
    for name, part in zip(("p", "qrs", "t"), regions):
        out[f"{name}_corr"] = _correlation(x[:, part], ref[:, part])
    qrs = x[:, regions[1]]
    out["qrs_amplitude"] = np.ptp(qrs, axis=1) / scale
    out["qrs_length"] = (np.abs(np.diff(qrs, axis=1)).sum(axis=1)
                         / np.maximum(np.abs(np.diff(qrs_ref, axis=1)).sum(axis=1), 1e-9))
    w0 = int(np.clip(r + round(WIDTH_REGION[0] * fs), 0, x.shape[1] - 2))
    w1 = int(np.clip(r + round(WIDTH_REGION[1] * fs), w0 + 2, x.shape[1]))
    out["qrs_width"] = _slope_span(x[:, w0:w1]) / np.maximum(_slope_span(ref[:, w0:w1]), 1.0)
    return pd.DataFrame(out, columns=list(MORPHOLOGY_COLUMNS))


def _slope_span(rows: np.ndarray, mass: tuple[float, float] = (0.1, 0.9)) -> np.ndarray:
    """Samples between the points where each row's cumulative absolute slope reaches ``mass`` (fractions)."""
    cum = np.cumsum(np.abs(np.diff(rows, axis=1)), axis=1)
    cum /= np.maximum(cum[:, -1:], 1e-12)
    return ((cum < mass[1]).sum(axis=1) - (cum < mass[0]).sum(axis=1)).astype(np.float64)


def _correlation(rows: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """Pearson correlation of every row with ``ref`` (one row, or one per row); 0 where either is constant."""
    a = rows - rows.mean(axis=1, keepdims=True)
    b = ref - ref.mean(axis=1, keepdims=True)
    dot = a @ b[0] if b.shape[0] == 1 else np.einsum("ij,ij->i", a, b)
    den = np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 1e-12, dot / np.where(den > 1e-12, den, 1.0), 0.0)
