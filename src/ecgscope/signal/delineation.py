"""ECG wave delineation (P, QRS, T boundaries and peaks) and clinical intervals.

``delineate(signal, fs, rpeaks)`` finds, for every beat and lead, the P onset,
peak and offset, the QRS onset and offset, and the T onset, peak and offset
(-1 where a wave is absent, e.g. no P wave in atrial fibrillation or before a
PVC). ``intervals(...)`` turns them into PR, QRS, QT and QTc (Bazett and
Fridericia) per beat and per record.

Method ``"ecgscope"``: the wavelet delineator of Martínez, Almeida, Olmos,
Rocha & Laguna, "A wavelet-based ECG delineator: evaluation on standard
databases", IEEE TBME 51(4):570-581, 2004 — dyadic quadratic-spline wavelet
transform at 250 Hz (the signal is resampled), QRS on scale 2^2, P and T on
scale 2^4, implemented with every beat processed at once (see
:mod:`ecgscope.signal._delineation`). Method ``"template"`` delineates the
median beat of each lead (robust to noise) and places the same offsets from R
on every beat; use it for intervals of noisy records, not for beat-to-beat
changes. Parameters were chosen on LUDB records 1-50 (``docs/delineation.md``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import partial
from itertools import repeat

import numpy as np
import pandas as pd

from ..errors import SignalError
from ..record.resampling import rational_ratio, resample_signal
from ._delineation.lead import lead_points, rr_context, template_points
from ._delineation.waves import FS, PARAMS, Params
from ._inputs import as_fs, as_positions, as_signal

__all__ = ["delineate", "intervals", "beat_intervals", "Delineation", "Intervals", "POINTS", "DELINEATION_METHODS"]

#: Fiducial points, in time order within a beat.
POINTS = ("p_onset", "p_peak", "p_offset", "qrs_onset", "qrs_offset", "t_onset", "t_peak", "t_offset")
DELINEATION_METHODS = ("ecgscope", "template")
#: Beats delineated together (bounds memory on Holter recordings; PR consistency is judged per block).
BLOCK_BEATS = 2048
_BLOCK_MARGIN = 500  # samples at 250 Hz (2 s) of context around a block


@dataclass
class Delineation:
    """Fiducial points of every beat and lead.

    Attributes:
        fs: sampling rate of the positions.
        rpeaks: int64 ``(beats,)`` R-peak positions used.
        points: point name -> int64 ``(beats, leads)`` sample positions, -1 when absent.
        leads: lead names.
    """

    fs: float
    rpeaks: np.ndarray
    points: dict[str, np.ndarray]
    leads: list[str] = field(default_factory=list)

    @property
    def n_beats(self) -> int:
        """Number of beats."""
        return int(self.rpeaks.size)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.points[name]

    def lead(self, lead: int | str) -> dict[str, np.ndarray]:
        """Point name -> ``(beats,)`` positions of one lead (index or name)."""
        i = self.leads.index(lead) if isinstance(lead, str) else int(lead)
        return {k: v[:, i] for k, v in self.points.items()}

    def to_frame(self) -> pd.DataFrame:
        """One row per beat and lead: ``beat, lead, rpeak`` and one column per point (-1 absent)."""
        n_beats, n_leads = self.points[POINTS[0]].shape
        frame = pd.DataFrame({
            "beat": np.repeat(np.arange(n_beats), n_leads),
            "lead": np.tile(np.asarray(self.leads, dtype=object), n_beats),
            "rpeak": np.repeat(self.rpeaks, n_leads),
        })
        for name in POINTS:
            frame[name] = self.points[name].reshape(-1)
        return frame


def delineate(signal, fs: float, rpeaks=None, method: str = "ecgscope", *, leads: list[str] | None = None,
              params: Params | None = None, block_s: float | None = None, executor=None) -> Delineation:
    """P, QRS and T fiducial points of every beat and lead (-1 when absent).

    Args:
        signal: ``(samples,)`` or ``(leads, samples)`` in mV, at least ~50 Hz.
        fs: sampling rate in Hz.
        rpeaks: beat positions in samples; found with
            :func:`ecgscope.signal.rpeaks.find_rpeaks` (all leads) when omitted.
        method: ``"ecgscope"`` (wavelet delineator, Martínez et al. 2004, per beat)
            or ``"template"`` (the same on each lead's median beat).
        leads: lead names for the result.
        params: override :data:`~ecgscope.signal._delineation.waves.PARAMS`.
        block_s: judge P waves (is the PR stable enough for them to be conducted?) in stretches of this
            many seconds from the start, not over up to :data:`BLOCK_BEATS` beats: in a long record that
            mixes sinus rhythm with AF or noise, the sinus stretches keep their P waves.
        executor: a :class:`concurrent.futures.Executor` (e.g. a process pool) to delineate groups of
            blocks on; the same points as without it.

    Returns:
        :class:`Delineation` with positions at ``fs``.
    """
    x, _ = as_signal(signal)
    fs = as_fs(fs)
    if method not in DELINEATION_METHODS:
        raise SignalError(f"unknown delineation method={method!r}", fix=f"use one of {DELINEATION_METHODS}")
    if not np.all(np.isfinite(x)):
        raise SignalError("signal holds NaN or infinite samples",
                          fix="read with nonfinite='interpolate' or cut the gaps out first")
    if rpeaks is None:
        from .rpeaks import find_rpeaks

        rpeaks = find_rpeaks(x, fs)
    r = as_positions(rpeaks)
    r = r[(r >= 0) & (r < x.shape[1])]
    names = list(leads) if leads is not None else [str(i) for i in range(x.shape[0])]
    if len(names) != x.shape[0]:
        raise SignalError(f"{len(names)} lead names for {x.shape[0]} leads", fix="pass one name per lead")
    up, down = rational_ratio(fs, FS)
    ratio = up / down
    y = resample_signal(x, fs, FS).astype(np.float64) if fs != FS else x.astype(np.float64)
    r250 = np.clip(np.rint(r * ratio).astype(np.int64), 0, max(y.shape[1] - 1, 0))
    rr_prev, rr_next = rr_context(r250)
    blocks = _blocks(r, fs, block_s)
    job = partial(_delineate_blocks, method=method, params=params or PARAMS)
    if executor is None or len(blocks) < 2:
        done = [job(y, r250, rr_prev, rr_next, blocks)]
    else:  # groups of whole blocks, each with the stretch of y its blocks read: the same points
        groups = [[blocks[i] for i in g] for g in np.array_split(np.arange(len(blocks)), min(_GROUPS, len(blocks)))]
        stretches = [_block_span(r250, g[0][0], g[-1][1], y.shape[1]) for g in groups]
        found = executor.map(job, [y[:, a:b] for a, b in stretches], [r250 - a for a, _ in stretches],
                             repeat(rr_prev), repeat(rr_next), groups)
        done = [[(part, a + start, points) for part, a, points in out] for out, (start, _) in zip(found, stretches)]
    points = {k: np.full((r.size, x.shape[0]), -1, np.int64) for k in POINTS}
    for part, a, found in (item for out in done for item in out):
        for i, lead in enumerate(found):
            for k, v in lead.items():
                pos = np.where(v >= 0, np.rint((v + a) / ratio), -1).astype(np.int64)
                points[k][part, i] = np.where(pos >= 0, np.clip(pos, 0, x.shape[1] - 1), -1)
    return Delineation(fs=fs, rpeaks=r, points=points, leads=names)


#: Jobs a delineation is split into when given an executor (a few per worker, so uneven blocks even out).
_GROUPS = 16


def _block_span(r250: np.ndarray, lo: int, hi: int, n: int) -> tuple[int, int]:
    """Samples ``[a, b)`` of the 250-Hz signal that beats ``lo..hi`` are delineated on (with their margins)."""
    return max(int(r250[lo]) - _BLOCK_MARGIN, 0), min(int(r250[hi - 1]) + 2 * _BLOCK_MARGIN, n)


def _delineate_blocks(y: np.ndarray, r250: np.ndarray, rr_prev: np.ndarray, rr_next: np.ndarray,
                      blocks: list[tuple[int, int]], method: str, params: Params) -> list[tuple[slice, int, list]]:
    """``(beats, a, per-lead points at 250 Hz from sample a)`` of each ``[lo, hi)`` block of beats."""
    worker = lead_points if method == "ecgscope" else template_points
    out = []
    for lo, hi in blocks:
        a, b = _block_span(r250, lo, hi, y.shape[1])
        part = slice(lo, hi)
        out.append((part, a, worker(y[:, a:b], r250[part] - a, rr_prev[part], rr_next[part], params)))
    return out


def _blocks(r: np.ndarray, fs: float, block_s: float | None) -> list[tuple[int, int]]:
    """``[lo, hi)`` beat-index ranges delineated together: ``block_s`` stretches, each at most BLOCK_BEATS."""
    if block_s is not None and not block_s > 0:
        raise SignalError(f"block_s={block_s} must be positive", fix="e.g. 10 (seconds), or None")
    edges = [0, r.size]
    if block_s is not None:
        edges = np.unique(np.r_[0, np.searchsorted(r, np.arange(0, r[-1] + 1, block_s * fs)), r.size]).tolist() \
            if r.size else [0, 0]
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        out += [(lo, min(lo + BLOCK_BEATS, b)) for lo in range(a, b, BLOCK_BEATS)]
    return out


# ----------------------------------------------------------------------------- intervals
@dataclass
class Intervals:
    """PR, QRS, QT, RR and QTc per beat (``beats``, ms) and per record (``summary``, medians)."""

    beats: pd.DataFrame
    summary: dict[str, float]

    def to_dict(self) -> dict:
        """JSON-safe dict: ``summary`` plus per-beat lists (NaN -> None)."""
        beats = self.beats.astype(object).where(self.beats.notna(), None)
        return {"summary": {k: (None if not np.isfinite(v) else float(v)) for k, v in self.summary.items()},
                "beats": beats.to_dict(orient="list")}


def _combine_leads(values: np.ndarray, q: float) -> np.ndarray:
    """Per beat: quantile ``q`` over the leads where the point exists (NaN when none).

    ``np.nanquantile(..., axis=1)`` (linear interpolation), vectorised over beats: sorting puts the
    missing leads last, and each row interpolates between its ``floor``/``ceil`` of ``q * (n - 1)``.
    """
    v = np.sort(np.where(values >= 0, values.astype(np.float64), np.nan), axis=1)
    n = np.isfinite(v).sum(1)
    if v.shape[1] == 0:
        return np.full(v.shape[0], np.nan)
    pos = q * np.maximum(n - 1, 0)
    lo = np.floor(pos).astype(np.int64)
    hi = np.minimum(lo + 1, np.maximum(n - 1, 0))
    rows = np.arange(v.shape[0])
    frac = pos - lo
    out = v[rows, lo] + frac * (v[rows, hi] - v[rows, lo])
    return np.where(n > 0, out, np.nan)


def global_points(d: Delineation, lead_quantile: float = 0.25) -> dict[str, np.ndarray]:
    """Multi-lead fiducials per beat (float samples, NaN absent).

    Onsets take the ``lead_quantile`` of the leads (an outlier-tolerant "earliest
    lead", cf. the CSE multi-lead convention), offsets ``1 - lead_quantile``, peaks the median.
    """
    out = {}
    for k in POINTS:
        q = lead_quantile if k.endswith("onset") else (1 - lead_quantile if k.endswith("offset") else 0.5)
        out[k] = _combine_leads(d.points[k], q)
    return out


def beat_intervals(d: Delineation, lead_quantile: float = 0.25) -> dict[str, np.ndarray]:
    """Per beat, in ms (NaN where a point is absent): ``RR`` (preceding), ``PR``, ``P``, ``QRS``, ``QT``,
    ``QTc_Bazett``, ``QTc_Fridericia``; leads combined by :func:`global_points`."""
    g = global_points(d, lead_quantile)
    to_ms = 1000.0 / d.fs
    rr = np.concatenate([[np.nan], np.diff(d.rpeaks) * to_ms])[: d.n_beats]
    with np.errstate(invalid="ignore"):
        out = {"RR": rr, "PR": (g["qrs_onset"] - g["p_onset"]) * to_ms, "P": (g["p_offset"] - g["p_onset"]) * to_ms,
               "QRS": (g["qrs_offset"] - g["qrs_onset"]) * to_ms, "QT": (g["t_offset"] - g["qrs_onset"]) * to_ms}
        out["QTc_Bazett"] = np.asarray(qtc(out["QT"], rr, "bazett"), np.float64)
        out["QTc_Fridericia"] = np.asarray(qtc(out["QT"], rr, "fridericia"), np.float64)
    return out


def intervals(source, fs: float | None = None, rpeaks=None, *, lead_quantile: float = 0.25,
              method: str = "ecgscope") -> Intervals:
    """PR, QRS, QT and QTc (Bazett ``QT/sqrt(RR)``, Fridericia ``QT/RR^(1/3)``, RR in s) in ms.

    ``source`` is a :class:`Delineation` or a signal (then ``fs`` and optionally
    ``rpeaks`` are passed to :func:`delineate`). Per beat, leads are combined by
    :func:`global_points`; RR is the interval preceding the beat. The record
    summary holds the medians over beats, and QTc from the median QT and median RR.
    """
    d = source if isinstance(source, Delineation) else delineate(source, fs, rpeaks, method=method)
    beats = pd.DataFrame({"rpeak": d.rpeaks, **beat_intervals(d, lead_quantile)})
    summary = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for col in ("RR", "PR", "P", "QRS", "QT"):
            summary[col] = float(np.nanmedian(beats[col])) if beats[col].notna().any() else float("nan")
    summary["HR"] = 60000.0 / summary["RR"] if summary["RR"] > 0 else float("nan")
    summary["QTc_Bazett"] = float(qtc(summary["QT"], summary["RR"], "bazett"))
    summary["QTc_Fridericia"] = float(qtc(summary["QT"], summary["RR"], "fridericia"))
    summary["n_beats"] = float(d.n_beats)
    return Intervals(beats=beats, summary=summary)


def qtc(qt_ms, rr_ms, formula: str = "bazett"):
    """Heart-rate corrected QT in ms: Bazett (1920) ``QT/RR^(1/2)`` or Fridericia (1920) ``QT/RR^(1/3)``."""
    exponent = {"bazett": 0.5, "fridericia": 1.0 / 3.0}.get(formula)
    if exponent is None:
        raise SignalError(f"unknown QTc formula {formula!r}", fix="use 'bazett' or 'fridericia'")
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(qt_ms, dtype=float) / (np.asarray(rr_ms, dtype=float) / 1000.0) ** exponent


