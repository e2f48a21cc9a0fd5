"""NN series and artefact/ectopic correction before HRV.

Methods:

* ``"lipponen"`` — Lipponen & Tarvainen, "A robust algorithm for heart rate
  variability time series artefact correction using novel beat
  classification", J. Med. Eng. Technol. 43(3):173-181, 2019 (the Kubios
  method): successive differences dRR and deviations from an 11-beat median
  mRR are scaled by time-varying thresholds (5.2 quartile deviations over 91
  beats) and each beat is classified as normal, ectopic, long/short, missed or
  extra by the rules of the paper's Figure 1 (evaluated for all beats at once).
* ``"median"`` — an interval is an artefact when it differs from the median of
  the 11 intervals around it by more than 20 % (the Malik-style rule).
* ``"none"`` — only labels and the physiological limits apply.

With either method, intervals outside ``limits`` (default 250-2500 ms) are
artefacts, and when beat ``labels`` are given both intervals touching a beat
whose label is not normal are artefacts (they are not NN intervals).

Correction: ``"interpolate"`` replaces artefact intervals by a monotone cubic
(PCHIP) interpolation over time of the good ones; a missed beat (one interval
of about two normal ones) is split in two and an extra beat (two intervals
summing to a normal one) merged, as in the paper. ``"remove"`` drops every
artefact interval and records which remaining intervals are no longer
successive, so successive-difference indices skip the gaps.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.interpolate import PchipInterpolator
from scipy.ndimage import median_filter

from ...errors import SignalError

__all__ = ["NNSeries", "clean_nn", "CLEAN_METHODS", "NN_LIMITS_MS", "NORMAL_LABELS"]

CLEAN_METHODS = ("lipponen", "median", "none")
#: Physiologically plausible RR interval range (ms); intervals outside it are artefacts.
NN_LIMITS_MS = (250.0, 2500.0)
#: Beat labels counted as normal (sinus) beats: MIT-BIH N, L, R, e, j and AAMI "N".
NORMAL_LABELS = frozenset({"N", "L", "R", "e", "j"})

_ALPHA, _C1, _C2 = 5.2, 0.13, 0.17
_QD_WINDOW, _MED_WINDOW = 91, 11


@dataclass
class NNSeries:
    """Cleaned normal-to-normal intervals.

    Attributes:
        nn: intervals in ms.
        time: time in s of the beat ending each interval.
        successive: bool ``(len(nn) - 1,)``, True where ``nn[k+1]`` directly follows ``nn[k]``.
        corrected: bool ``(len(nn),)``, True for interpolated, split or merged intervals.
        counts: number of intervals flagged per reason (``label``, ``limits``,
            ``ectopic``, ``longshort``, ``missed``, ``extra``, ``median``).
        n_input: number of input intervals.
    """

    nn: np.ndarray
    time: np.ndarray
    successive: np.ndarray
    corrected: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)
    n_input: int = 0

    @property
    def successive_diff(self) -> np.ndarray:
        """``nn[k+1] - nn[k]`` for successive pairs only (ms)."""
        return np.diff(self.nn)[self.successive]

    @property
    def duration(self) -> float:
        """Span covered by the series in seconds."""
        return float(self.nn.sum() / 1000.0) if self.nn.size else 0.0

    @property
    def artefact_fraction(self) -> float:
        """Fraction of input intervals that were flagged."""
        return float(sum(self.counts.values()) / self.n_input) if self.n_input else 0.0


def _rolling_qd_threshold(x: np.ndarray) -> np.ndarray:
    """``alpha`` times the quartile deviation of ``|x|`` over a centred 91-beat window."""
    a = np.abs(x)
    half = _QD_WINDOW // 2
    padded = np.pad(a, half, mode="reflect") if a.size > half else np.pad(a, half, mode="edge")
    view = np.lib.stride_tricks.sliding_window_view(padded, _QD_WINDOW)[: a.size]
    q1, q3 = np.percentile(view, [25, 75], axis=1)
    return _ALPHA * (q3 - q1) / 2.0


def _lipponen(rr: np.ndarray) -> dict[str, np.ndarray]:
    """Masks (per interval) of ectopic, long/short, missed and extra beats (rr in s)."""
    n = rr.size
    drr = np.diff(rr, prepend=rr[0])
    if n > 1:
        drr[0] = drr[1:].mean()
    th1 = _rolling_qd_threshold(drr)
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.where(th1 > 0, drr / th1, 0.0)
    pad = np.pad(d, 2, mode="reflect") if n > 2 else np.pad(d, 2, mode="edge")
    prev_, next_, next2 = pad[1:-3], pad[3:-1], pad[4:]
    s12 = np.where(d > 0, np.maximum(prev_, next_), np.where(d < 0, np.minimum(prev_, next_), 0.0))
    s22 = np.where(d >= 0, np.minimum(next_, next2), np.maximum(next_, next2))
    med = median_filter(rr, size=_MED_WINDOW, mode="nearest")
    mrr = rr - med
    mrr = np.where(mrr < 0, 2 * mrr, mrr)
    th2 = _rolling_qd_threshold(mrr)
    with np.errstate(invalid="ignore", divide="ignore"):
        m = np.where(th2 > 0, mrr / th2, 0.0)
    big = np.abs(d) > 1
    ectopic = big & (((d > 1) & (s12 < -_C1 * d - _C2)) | ((d < -1) & (s12 > -_C1 * d + _C2)))
    long_ = (d > 1) & (s22 < -1)
    short = (d < -1) & (s22 > 1)
    candidate = ~ectopic & (big | (np.abs(m) > 3)) & (long_ | short | (np.abs(m) > 3))
    rr_next = np.append(rr[1:], rr[-1])
    missed = candidate & long_ & (np.abs(rr / 2 - med) < th2)
    extra = candidate & short & (np.abs(rr + rr_next - med) < th2) & ~missed
    longshort = candidate & ~missed & ~extra
    return {"ectopic": ectopic, "longshort": longshort, "missed": missed, "extra": extra}


def _median_rule(rr: np.ndarray) -> np.ndarray:
    med = median_filter(rr, size=_MED_WINDOW, mode="nearest")
    return np.abs(rr - med) > 0.2 * med


def clean_nn(
    rr,
    labels=None,
    *,
    method: str = "lipponen",
    correction: str = "interpolate",
    time=None,
    limits: tuple[float, float] = NN_LIMITS_MS,
    normal_labels=NORMAL_LABELS,
) -> NNSeries:
    """Turn RR intervals (ms) into a cleaned NN series (see the module docstring).

    Args:
        rr: RR intervals in milliseconds.
        labels: optional beat labels, one per beat (``len(rr) + 1``; or
            ``len(rr)``: the label of the beat ending each interval).
        method: ``"lipponen"`` (default), ``"median"`` or ``"none"``.
        correction: ``"interpolate"`` or ``"remove"``.
        time: time in s of the beat ending each interval (default: cumulative sum).
        limits: plausible interval range in ms.
        normal_labels: labels counted as normal beats.
    """
    x = np.asarray(rr, dtype=np.float64).reshape(-1)
    if method not in CLEAN_METHODS:
        raise SignalError(f"unknown NN cleaning method={method!r}", fix=f"use one of {CLEAN_METHODS}")
    if correction not in ("interpolate", "remove"):
        raise SignalError(f"unknown correction={correction!r}", fix="use 'interpolate' or 'remove'")
    if x.size and not np.all(np.isfinite(x)):
        raise SignalError("RR intervals hold NaN or infinite values", fix="drop them before HRV")
    t = np.cumsum(x) / 1000.0 if time is None else np.asarray(time, dtype=np.float64).reshape(-1)
    if t.size != x.size:
        raise SignalError(f"time has {t.size} entries for {x.size} intervals",
                          fix="pass one time per interval")
    n = x.size
    flags: dict[str, np.ndarray] = {}
    if labels is not None:
        lab = np.asarray([str(v) for v in labels], dtype=object)
        if lab.size == n + 1:
            bad_beat = ~np.isin(lab, list(normal_labels))
            flags["label"] = bad_beat[1:] | bad_beat[:-1]
        elif lab.size == n:
            bad = ~np.isin(lab, list(normal_labels))
            flags["label"] = bad | np.append(bad[1:], False)
        else:
            raise SignalError(f"{lab.size} labels for {n} intervals",
                              fix="pass one label per beat (len(rr) + 1) or per interval")
    flags["limits"] = (x < limits[0]) | (x > limits[1])
    split = np.zeros(n, bool)
    merge = np.zeros(n, bool)
    if method != "none" and n >= 4:
        known = ~np.any(list(flags.values()), axis=0)
        sub = np.flatnonzero(known)
        if sub.size >= 4:
            found = _lipponen(x[sub] / 1000.0) if method == "lipponen" else {"median": _median_rule(x[sub])}
            for name, mask in found.items():
                full = np.zeros(n, bool)
                full[sub[mask]] = True
                flags[name] = full
            if method == "lipponen":
                split, merge = flags["missed"], flags["extra"]
                # The rule flags the middle of the NPN/PNP dRR pattern, the second
                # interval of the short-long (or long-short) pair: both are artefacts.
                ect = flags["ectopic"]
                flags["ectopic"] = ect | np.append(ect[1:], False)
    counts = {k: int(v.sum()) for k, v in flags.items()}
    bad = np.any(list(flags.values()), axis=0) if flags else np.zeros(n, bool)
    if correction == "remove":
        keep = ~bad
        idx = np.flatnonzero(keep)
        successive = np.diff(idx) == 1
        return NNSeries(x[keep], t[keep], successive, np.zeros(idx.size, bool), counts, n)
    return _interpolate(x, t, bad, split, merge, counts)


def _interpolate(x, t, bad, split, merge, counts) -> NNSeries:
    n = x.size
    if n == 0:
        return NNSeries(x, t, np.zeros(0, bool), np.zeros(0, bool), counts, 0)
    # Missed beat: one interval becomes two halves; extra beat: two intervals become one.
    merge_into = merge & ~split
    merge_into[-1] = False
    drop = np.append(False, merge_into[:-1])
    values = x.copy()
    values[merge_into] = x[merge_into] + np.append(x[1:], 0.0)[merge_into]
    times = t.copy()
    times[merge_into] = np.append(t[1:], t[-1])[merge_into]
    fixed = merge_into | split
    repeat = np.where(split, 2, 1)
    repeat[drop] = 0
    out_x = np.repeat(np.where(split, values / 2, values), repeat)
    out_t = np.repeat(times, repeat)
    if split.any():  # the first half ends half-way
        first = np.flatnonzero(np.repeat(split, repeat))[::2]
        out_t[first] = out_t[first] - out_x[first] / 1000.0
    out_bad = np.repeat(bad & ~fixed, repeat)
    corrected = np.repeat(bad | fixed, repeat)
    good = ~out_bad
    if out_bad.any() and good.sum() >= 2:
        interp = PchipInterpolator(out_t[good], out_x[good], extrapolate=False)
        filled = interp(out_t[out_bad])
        edge = ~np.isfinite(filled)
        if edge.any():
            filled[edge] = np.interp(out_t[out_bad][edge], out_t[good], out_x[good])
        out_x[out_bad] = filled
    elif out_bad.any():
        raise SignalError(f"only {int(good.sum())} of {n} intervals are clean; nothing to interpolate from",
                          fix="check the beat positions or use correction='remove'")
    return NNSeries(out_x, out_t, np.ones(max(out_x.size - 1, 0), bool), corrected, counts, n)
