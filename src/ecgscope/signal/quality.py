"""Signal quality per window and lead: flatline, clipping, noise, baseline wander, detector agreement.

Every metric is computed for all windows at once (cumulative sums, running
max/min filters and one batched FFT per lead), so a 24-hour Holter takes
seconds. Each metric ``m`` with threshold ``t`` becomes a sub-score
``1 / (1 + (m / t)^4)`` (1 when clean, 0.5 at the threshold, ~0 far above it);
a lead's score is its worst sub-score, so ``usable = score >= 0.5`` means no
metric crossed its threshold. The combined score of a window is the best lead's
(``combine="best"``: one readable lead suffices for rhythm analysis), the worst
lead's (``"worst"``: every lead must be readable, e.g. for 12-lead intervals) or the mean.

Metrics (cf. Clifford et al., Physiol. Meas. 33(9), 2012, "Signal quality
indices and data fusion for determining clinical acceptability of ECGs";
Li, Mark & Clifford, Physiol. Meas. 29(1), 2008, for the detector-agreement bSQI):

* ``flatline``: fraction of the window where the signal's range over ``flat_s``
  stays below ``flat_mv`` (lead off, disconnected) or samples are not finite;
* ``saturation``: fraction of samples in runs of ``clip_run`` or more samples
  stuck at the lead's extreme values (ADC clipping);
* ``hf_noise``: spectral power between 40 and 100 Hz divided by the power of the
  QRS band (5-15 Hz) (muscle and broadband noise; the narrow mains lines at
  50/60 ± 1 Hz are left out, since a notch filter removes them);
* ``baseline``: power below 0.5 Hz divided by the power of 0.5-40 Hz, and
  ``drift_mv``, the peak-to-peak excursion of the 1-s running mean;
* ``agreement``: F1 of two R-peak sets within 100 ms: each lead's detector
  against the given ``rpeaks``, against a second detector on the same lead, or
  against the peaks most leads agree on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import ndimage

from ..errors import SignalError
from ._inputs import as_fs, as_positions, as_signal

__all__ = ["signal_quality", "quality_mask", "SignalQuality", "DEFAULT_THRESHOLDS", "METRICS"]

#: Metric name -> threshold above which the window is flagged for that lead.
DEFAULT_THRESHOLDS: dict[str, float] = {
    "flatline": 0.1,       # fraction of the window
    "saturation": 0.01,    # fraction of the window
    "hf_noise": 0.5,       # P(40-100 Hz) / P(5-15 Hz)
    "baseline": 8.0,       # P(<0.5 Hz) / P(0.5-40 Hz)
    "drift_mv": 3.0,       # mV peak-to-peak of the 1-s running mean
    "disagreement": 0.2,   # 1 - F1 of the two peak sets
}
METRICS = ("flatline", "saturation", "hf_noise", "baseline", "drift_mv", "agreement")

_QRS_BAND = (5.0, 15.0)
_HF_BAND = (40.0, 100.0)
_LF_EDGE = 0.5
_MATCH_TOL_S = 0.1


@dataclass
class SignalQuality:
    """Quality of each window (columns) and lead (rows); see the module docstring.

    Attributes:
        fs, n_samples: of the analysed signal.
        start, stop: int64 ``(windows,)`` sample bounds of each window.
        metrics: name -> float ``(leads, windows)`` (``agreement`` is F1; NaN = not measured).
        score: float ``(leads, windows)`` in 0-1; ``usable`` = ``score >= 0.5``.
        combined_score, combined_usable: ``(windows,)`` over leads (``combine``).
        flags: name -> bool ``(leads, windows)``, True where the metric crossed its threshold.
    """

    fs: float
    n_samples: int
    start: np.ndarray
    stop: np.ndarray
    metrics: dict[str, np.ndarray]
    score: np.ndarray
    usable: np.ndarray
    combined_score: np.ndarray
    combined_usable: np.ndarray
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    leads: list[str] = field(default_factory=list)

    @property
    def n_windows(self) -> int:
        """Number of windows."""
        return int(self.start.size)

    def to_frame(self) -> pd.DataFrame:
        """Long table: one row per window and lead plus a ``lead="combined"`` row per window."""
        n_leads = self.score.shape[0]
        rows = []
        for i in range(n_leads):
            part = {"window": np.arange(self.n_windows), "start": self.start, "stop": self.stop,
                    "lead": self.leads[i] if i < len(self.leads) else str(i)}
            part.update({k: v[i] for k, v in self.metrics.items()})
            part.update({f"flag_{k}": v[i] for k, v in self.flags.items()})
            part.update({"score": self.score[i], "usable": self.usable[i]})
            rows.append(pd.DataFrame(part))
        rows.append(pd.DataFrame({"window": np.arange(self.n_windows), "start": self.start,
                                  "stop": self.stop, "lead": "combined",
                                  "score": self.combined_score, "usable": self.combined_usable}))
        frame = pd.concat(rows, ignore_index=True)
        frame["start_s"] = frame["start"] / self.fs
        frame["stop_s"] = frame["stop"] / self.fs
        return frame


def _window_bounds(n: int, win: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    """Window starts/stops covering all ``n`` samples (the last one aligned to the end)."""
    win = min(win, n)
    starts = np.arange(0, n - win + 1, step, dtype=np.int64)
    if starts[-1] + win < n:
        starts = np.append(starts, n - win)
    return starts, starts + win


def _window_fraction(indicator: np.ndarray, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    cs = np.concatenate([[0], np.cumsum(indicator, dtype=np.int64)])
    return (cs[stop] - cs[start]) / (stop - start)


def _sub_score(metric: np.ndarray, threshold: float) -> np.ndarray:
    with np.errstate(over="ignore", invalid="ignore"):
        return 1.0 / (1.0 + (np.maximum(metric, 0.0) / threshold) ** 4)


def _flat_samples(x: np.ndarray, finite: np.ndarray, fs: float, flat_s: float, flat_mv: float) -> np.ndarray:
    size = max(int(round(flat_s * fs)), 2)
    rng = ndimage.maximum_filter1d(x, size) - ndimage.minimum_filter1d(x, size)
    return (rng < flat_mv) | ~finite


def _clipped_samples(x: np.ndarray, finite: np.ndarray, clip_run: int, limits, flat_mv: float) -> np.ndarray:
    vals = x[finite]
    if vals.size == 0:
        return np.zeros(x.size, bool)
    lo, hi = (vals.min(), vals.max()) if limits is None else limits
    lo, hi = float(lo), float(hi)
    if hi - lo < flat_mv:
        return np.zeros(x.size, bool)
    tol = max(1e-3 * (hi - lo), 1e-6)
    near = finite & ((x >= hi - tol) | (x <= lo + tol))
    run = max(int(clip_run), 1)
    core = ndimage.minimum_filter1d(near.astype(np.uint8), run, origin=0)
    return ndimage.maximum_filter1d(core, run, origin=0).astype(bool) & near


def _band_ratios(x: np.ndarray, fs: float, start: np.ndarray, win: int) -> tuple[np.ndarray, np.ndarray]:
    """``(hf_ratio, lf_ratio)`` per window from one Hann-windowed FFT per window."""
    freqs = np.fft.rfftfreq(win, 1.0 / fs)
    qrs = (freqs >= _QRS_BAND[0]) & (freqs <= _QRS_BAND[1])
    hf_hi = min(_HF_BAND[1], 0.95 * fs / 2)
    hf = (freqs >= _HF_BAND[0]) & (freqs <= hf_hi)
    for mains in (50.0, 60.0):  # narrow mains lines are removable by a notch: not counted
        hf &= np.abs(freqs - mains) > 1.0
    lf = (freqs > 0) & (freqs < _LF_EDGE)
    mid = (freqs >= _LF_EDGE) & (freqs <= 40.0)
    taper = np.hanning(win).astype(np.float32)
    hf_out = np.full(start.size, np.nan)
    lf_out = np.full(start.size, np.nan)
    view = np.lib.stride_tricks.sliding_window_view(x, win)
    chunk = max(1, int(2**24 // max(win, 1)))
    for a in range(0, start.size, chunk):
        seg = view[start[a:a + chunk]].astype(np.float32)
        seg = (seg - seg.mean(axis=1, keepdims=True)) * taper
        power = np.abs(np.fft.rfft(seg, axis=1)) ** 2
        with np.errstate(invalid="ignore", divide="ignore"):
            p_qrs = power[:, qrs].sum(axis=1)
            if hf.any():
                hf_out[a:a + chunk] = power[:, hf].sum(axis=1) / p_qrs
            if lf.any() and mid.any():
                lf_out[a:a + chunk] = power[:, lf].sum(axis=1) / power[:, mid].sum(axis=1)
    hf_out[~np.isfinite(hf_out)] = np.nan
    lf_out[~np.isfinite(lf_out)] = np.nan
    return hf_out, lf_out


def _drift(x: np.ndarray, fs: float, start: np.ndarray, win: int) -> np.ndarray:
    """Peak-to-peak of the 1-s running mean in each window (read every 0.1 s: it is smooth)."""
    smooth = ndimage.uniform_filter1d(x, max(int(round(fs)), 1), mode="nearest")
    k = max(int(fs // 10), 1)
    coarse = smooth[::k]
    size = max(win // k, 1)
    hi = ndimage.maximum_filter1d(coarse, size, origin=-(size // 2))
    lo = ndimage.minimum_filter1d(coarse, size, origin=-(size // 2))
    idx = np.minimum(start // k, coarse.size - 1)
    return (hi - lo)[idx].astype(np.float64)


def _matched(a: np.ndarray, b: np.ndarray, tol: int) -> np.ndarray:
    """Bool per element of sorted ``a``: a peak of sorted ``b`` lies within ``tol`` samples."""
    if a.size == 0 or b.size == 0:
        return np.zeros(a.size, bool)
    j = np.searchsorted(b, a)
    left = b[np.clip(j - 1, 0, b.size - 1)]
    right = b[np.clip(j, 0, b.size - 1)]
    return np.minimum(np.abs(a - left), np.abs(right - a)) <= tol


def _window_f1(a: np.ndarray, b: np.ndarray, tol: int, start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """F1 of peak sets ``a`` and ``b`` inside each window (NaN where neither has a peak)."""
    ma, mb = _matched(a, b, tol), _matched(b, a, tol)

    def counts(p, m):
        cs = np.concatenate([[0], np.cumsum(m, dtype=np.int64)])
        lo, hi = np.searchsorted(p, start), np.searchsorted(p, stop)
        return hi - lo, cs[hi] - cs[lo]

    na, ta = counts(a, ma)
    nb, tb = counts(b, mb)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (ta + tb) / (na + nb)


def _consensus(peaks: list[np.ndarray], tol: int) -> np.ndarray:
    """Peaks found (within ``tol``) in at least half of the leads, at their median position."""
    sizes = [p.size for p in peaks]
    if sum(sizes) == 0:
        return np.zeros(0, np.int64)
    pos = np.concatenate(peaks)
    lead = np.repeat(np.arange(len(peaks)), sizes)
    order = np.argsort(pos, kind="stable")
    pos, lead = pos[order], lead[order]
    group = np.concatenate([[0], np.cumsum(np.diff(pos) > tol)])
    n_groups = int(group[-1]) + 1
    pairs = np.unique(group * len(peaks) + lead)
    votes = np.bincount(pairs // len(peaks), minlength=n_groups)
    keep = votes >= (len(peaks) + 1) // 2
    med = np.array([np.median(pos[group == g]) for g in np.flatnonzero(keep)]) if keep.any() else np.zeros(0)
    return np.rint(med).astype(np.int64)


def _detector():
    from .rpeaks import find_rpeaks  # sibling module of the signal layer

    return find_rpeaks


def _agreement(x: np.ndarray, fs: float, rpeaks, mode: str, methods, start, stop) -> np.ndarray:
    n_leads = x.shape[0]
    out = np.full((n_leads, start.size), np.nan)
    if mode is None:
        return out
    find = _detector()
    tol = int(round(_MATCH_TOL_S * fs))
    clean = np.nan_to_num(x)
    first = [as_positions(find(clean[i], fs, method=methods[0])) for i in range(n_leads)]
    if rpeaks is not None:
        ref = as_positions(rpeaks)
        for i in range(n_leads):
            out[i] = _window_f1(first[i], ref, tol, start, stop)
    elif mode == "leads":
        ref = _consensus(first, tol)
        for i in range(n_leads):
            out[i] = _window_f1(first[i], ref, tol, start, stop)
    else:  # "methods"
        for i in range(n_leads):
            second = as_positions(find(clean[i], fs, method=methods[1]))
            out[i] = _window_f1(first[i], second, tol, start, stop)
    return out


def signal_quality(
    signal,
    fs: float,
    window: float = 10.0,
    rpeaks=None,
    *,
    step: float | None = None,
    agreement: str | None = "auto",
    methods: tuple[str, str] = ("ecgscope", "elgendi"),
    combine: str = "best",
    thresholds: dict[str, float] | None = None,
    flat_s: float = 1.0,
    flat_mv: float = 0.01,
    clip_run: int = 3,
    limits: tuple[float, float] | None = None,
    leads: list[str] | None = None,
) -> SignalQuality:
    """Quality of ``signal`` in windows of ``window`` s, per lead and combined.

    Args:
        signal: ``(samples,)`` or ``(leads, samples)`` in mV (NaN counts as flat).
        fs: sampling rate in Hz.
        window: window length in seconds; ``step`` (default ``window``) between starts.
            The last window is aligned to the end so every sample is covered.
        rpeaks: beat positions to check each lead's detector against (agreement).
        agreement: ``"auto"`` (``rpeaks`` if given, else ``"leads"`` for 3+ leads,
            else ``"methods"``), ``"leads"`` (each lead against the peaks most leads
            share), ``"methods"`` (two detectors ``methods`` on each lead) or None (skip).
        combine: ``"best"``, ``"worst"`` or ``"mean"`` lead score per window.
        thresholds: overrides of :data:`DEFAULT_THRESHOLDS`.
        flat_s, flat_mv: a sample is flat when the range over ``flat_s`` s is below ``flat_mv``.
        clip_run, limits: clipping = runs of ``clip_run`` samples at the rails
            (``limits`` in mV, or the lead's min/max).
        leads: lead names for :meth:`SignalQuality.to_frame`.

    Returns:
        :class:`SignalQuality`; ``quality_mask(result)`` gives the unreadable samples.
    """
    x, _ = as_signal(signal)
    fs = as_fs(fs)
    th = dict(DEFAULT_THRESHOLDS)
    th.update(thresholds or {})
    if combine not in ("best", "worst", "mean"):
        raise SignalError(f"unknown combine={combine!r}", fix="use 'best', 'worst' or 'mean'")
    if agreement not in (None, "auto", "leads", "methods"):
        raise SignalError(f"unknown agreement={agreement!r}", fix="use 'auto', 'leads', 'methods' or None")
    n_leads, n = x.shape
    win = max(int(round(float(window) * fs)), 1)
    hop = win if step is None else max(int(round(float(step) * fs)), 1)
    start, stop = _window_bounds(n, win, hop)
    win = int(stop[0] - start[0])

    finite = np.isfinite(x)
    metrics = {k: np.full((n_leads, start.size), np.nan) for k in METRICS}
    for i in range(n_leads):
        xi = np.where(finite[i], x[i], 0.0).astype(np.float32)
        flat = _flat_samples(xi, finite[i], fs, flat_s, flat_mv)
        metrics["flatline"][i] = _window_fraction(flat, start, stop)
        metrics["saturation"][i] = _window_fraction(
            _clipped_samples(xi, finite[i], clip_run, limits, flat_mv), start, stop)
        metrics["hf_noise"][i], metrics["baseline"][i] = _band_ratios(xi, fs, start, win)
        metrics["drift_mv"][i] = _drift(xi, fs, start, win)
    mode = agreement
    if mode == "auto":
        mode = "given" if rpeaks is not None else ("leads" if n_leads >= 3 else "methods")
    metrics["agreement"] = _agreement(x, fs, rpeaks, mode, methods, start, stop)

    subs = {k: _sub_score(metrics[k], th[k]) for k in ("flatline", "saturation", "hf_noise", "baseline", "drift_mv")}
    subs["agreement"] = _sub_score(1.0 - metrics["agreement"], th["disagreement"])
    flags = {k: s < 0.5 for k, s in subs.items()}
    stack = np.stack(list(subs.values()))
    score = np.nanmin(np.where(np.isnan(stack), np.inf, stack), axis=0)
    score[~np.isfinite(score)] = 1.0
    usable = score >= 0.5
    if combine == "best":
        combined = score.max(axis=0)
    elif combine == "worst":
        combined = score.min(axis=0)
    else:
        combined = score.mean(axis=0)
    return SignalQuality(
        fs=fs, n_samples=n, start=start, stop=stop, metrics=metrics, score=score, usable=usable,
        combined_score=combined, combined_usable=combined >= 0.5, flags=flags,
        leads=list(leads) if leads is not None else [str(i) for i in range(n_leads)],
    )


def quality_mask(quality: SignalQuality, lead: int | None = None, per_lead: bool = False) -> np.ndarray:
    """Per-sample bool mask, True where the signal is unreadable.

    A sample is unreadable when every window covering it is unusable (with the
    default non-overlapping windows: when its window is). ``lead=None`` uses
    the combined verdict; ``lead=i`` one lead's; ``per_lead=True`` returns
    ``(leads, samples)``.
    """
    if per_lead:
        return np.stack([quality_mask(quality, i) for i in range(quality.usable.shape[0])])
    good = quality.combined_usable if lead is None else quality.usable[lead]
    n = quality.n_samples
    cover = np.zeros(n + 1, np.int64)
    ok = np.zeros(n + 1, np.int64)
    np.add.at(cover, quality.start, 1)
    np.add.at(cover, quality.stop, -1)
    np.add.at(ok, quality.start[good], 1)
    np.add.at(ok, quality.stop[good], -1)
    return (np.cumsum(ok)[:n] == 0) & (np.cumsum(cover)[:n] > 0)
