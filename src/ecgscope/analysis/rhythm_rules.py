"""Rhythm episodes by rule: atrial fibrillation = irregular RR intervals + absent P waves.

Until a rhythm model ships, :func:`rule_episodes` finds atrial fibrillation as

1. **RR irregularity.** For each pair of successive RR intervals between
   normal (or unlabelled) beats, the successive difference ``|RR_i - RR_{i-1}|``
   relative to the local median RR. An interval is *irregular* when that
   exceeds ``diff_threshold`` (10 %). AF gives a broad, memoryless
   successive-difference distribution (Tateno & Glass, "Automatic detection of
   atrial fibrillation using the coefficient of variation and density
   histograms of RR and deltaRR intervals", Med. Biol. Eng. Comput. 39:664-671,
   2001), while sinus rhythm varies smoothly; Dash, Chon, Lu & Raeder,
   "Automatic real time detection of atrial fibrillation", Ann. Biomed. Eng.
   37(9):1701-1709, 2009, use the same idea through the normalised RMSSD.
   The share of irregular intervals in a centred window of ``window`` intervals
   is the irregularity score; intervals touching ventricular beats (V, F) are
   left out, so isolated PVCs and ventricular bigeminy do not look like AF.
   Beats labelled S are left out only where S labels are sparse (at most
   ``sparse_s_fraction`` of the beats around them): isolated APCs then do not
   count, while the dense "S" labels a beat classifier gives to the early,
   irregularly conducted beats of AF do not hide the AF (atrial bigeminy keeps
   its P waves, step 3).
2. **Episodes.** Intervals with a score above ``score_threshold`` form
   candidate runs; runs closer than ``merge_gap_s`` merge, and runs shorter
   than ``min_duration_s`` (30 s, the clinical definition of an AF episode;
   ESC 2020 guidelines) are dropped.
3. **P-wave absence.** Each candidate is kept only when the delineator finds P
   waves before at most ``max_p_fraction`` of its beats (a ``p_wave_fraction``
   callback; sinus arrhythmia and multifocal atrial rhythm keep their P waves).

Everything readable that is not AF is reported as sinus rhythm. A rhythm model
plugs in through the :data:`RhythmDetector` hook of
:func:`ecgscope.analysis.pipeline.analyze` and replaces these rules.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable, Optional, Protocol

import numpy as np
from scipy.ndimage import uniform_filter1d

from .report import RhythmEpisode, finite_or_none

__all__ = ["RuleParams", "RhythmDetector", "irregularity_score", "change_point", "rule_episodes", "ECTOPIC_LABELS"]

#: Beat classes whose intervals are left out of the irregularity measure.
ECTOPIC_LABELS = frozenset({"S", "V", "F"})
VENTRICULAR_LABELS = frozenset({"V", "F"})

NAMES = {"sinus": "Sinus rhythm", "AF": "Atrial fibrillation", "undetermined": "Rhythm undetermined"}


@dataclass(frozen=True)
class RuleParams:
    """Thresholds of the rule (chosen on simulator output, documented in docs/analysis.md)."""

    window: int = 16
    diff_threshold: float = 0.10
    score_threshold: float = 0.45
    min_duration_s: float = 30.0
    merge_gap_s: float = 10.0
    sparse_s_fraction: float = 0.2
    max_p_fraction: float = 0.5
    max_rr_s: float = 3.0


class RhythmDetector(Protocol):
    """The hook a rhythm model implements: beats in, episodes out."""

    def __call__(self, record, beats: np.ndarray, labels: np.ndarray,
                 interval_ok: np.ndarray) -> list[RhythmEpisode]: ...


def _interval_validity(rpeaks: np.ndarray, fs: float, labels: np.ndarray, interval_ok: np.ndarray,
                       params: RuleParams) -> np.ndarray:
    """Bool per RR interval: no ventricular or isolated S beat, no gap or unreadable stretch inside."""
    rr = np.diff(rpeaks) / fs
    labels = labels.astype(str)
    is_s = labels == "S"
    s_density = uniform_filter1d(is_s.astype(float), size=params.window, mode="nearest")
    ok_beat = ~(np.isin(labels, list(VENTRICULAR_LABELS)) | (is_s & (s_density <= params.sparse_s_fraction)))
    return ok_beat[:-1] & ok_beat[1:] & (rr < params.max_rr_s) & interval_ok


def irregularity_score(rpeaks: np.ndarray, fs: float, labels: np.ndarray, interval_ok: np.ndarray,
                       params: RuleParams = RuleParams()) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per RR interval: the share of irregular intervals around it, the irregular flag, and measurability.

    ``interval_ok`` is a bool per RR interval (False where it spans an
    unreadable stretch). Returns ``(score, irregular, measured)`` of length
    ``beats - 1``; the score is NaN where fewer than half of the window could be measured.
    """
    n = rpeaks.size - 1
    if n < 2:
        return np.full(max(n, 0), np.nan), np.zeros(max(n, 0)), np.zeros(max(n, 0), bool)
    rr = np.diff(rpeaks) / fs
    valid = _interval_validity(rpeaks, fs, labels, interval_ok, params)
    pair = valid[1:] & valid[:-1]
    rr_valid = np.where(valid, rr, np.nan)
    # local median RR of the valid intervals (centred, `window` wide), vectorised with a sliding view
    w = params.window
    pad = np.pad(rr_valid, (w // 2, w - w // 2 - 1), constant_values=np.nan)
    view = np.lib.stride_tricks.sliding_window_view(pad, w)
    with warnings.catch_warnings():  # all-NaN windows give NaN quietly
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(view, axis=1)
    diff = np.abs(np.diff(rr)) / med[1:]
    irregular = np.concatenate([[False], pair & (diff > params.diff_threshold)]).astype(float)
    measured = np.concatenate([[False], pair])
    kernel = np.ones(w)
    hits = np.convolve(irregular, kernel, mode="same")
    count = np.convolve(measured.astype(float), kernel, mode="same")
    with np.errstate(invalid="ignore", divide="ignore"):
        score = np.where(count >= w / 2, hits / np.maximum(count, 1), np.nan)
    return score, irregular, measured


def change_point(irregular: np.ndarray, measured: np.ndarray, lo: int, hi: int, threshold: float,
                 onset: bool) -> int:
    """The interval index in ``[lo, hi]`` that best splits regular from irregular intervals.

    A Bernoulli CUSUM change point (Page, "Continuous inspection schemes",
    Biometrika 41:100-115, 1954): each measured interval scores
    ``irregular - threshold``, and the split maximises the score after it minus
    the score before it (onset) or the reverse (offset). For an onset the index
    is the first AF interval (its first beat starts the episode); for an offset
    it is one past the last AF interval (the episode's last beat). The earliest
    best onset and the latest best offset are taken.
    """
    n = irregular.size
    lo, hi = max(int(lo), 0), min(int(hi), n)
    if hi <= lo:
        return min(max(lo, 0), n)
    x = (irregular[lo:hi] - threshold) * measured[lo:hi]
    cs = np.concatenate([[0.0], np.cumsum(x)])  # cs[k - lo]: score of intervals lo..k-1
    if onset:
        return lo + int(np.argmin(cs))
    return lo + int(cs.size - 1 - np.argmax(cs[::-1]))


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[(first, last_exclusive), ...]`` of the True runs of a bool array."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def _mean_hr(rpeaks: np.ndarray, fs: float, a: int, b: int) -> Optional[float]:
    """Mean heart rate (bpm) of beats ``a..b`` (inclusive)."""
    if b <= a:
        return None
    return finite_or_none(60.0 * (b - a) * fs / float(rpeaks[b] - rpeaks[a]))


def rule_episodes(rpeaks: np.ndarray, fs: float, labels: np.ndarray, interval_ok: np.ndarray,
                  readable_spans: list[tuple[float, float]], *,
                  p_wave_fraction: Callable[[float, float], Optional[float]] | None = None,
                  params: RuleParams = RuleParams(),
                  irregularity: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> list[RhythmEpisode]:
    """AF and sinus episodes of a beat series (see the module docstring).

    Args:
        rpeaks: int64 beat positions (readable signal only), sorted.
        fs: sampling rate in Hz.
        labels: AAMI label per beat (``"Q"`` when unlabelled).
        interval_ok: bool per RR interval, False where it spans an unreadable stretch.
        readable_spans: ``[(start_s, end_s), ...]`` of readable signal; sinus
            episodes are cut to them and the rest is left out.
        p_wave_fraction: ``f(start_s, end_s)`` -> share of beats with a P wave
            (None when it cannot be measured); without it P waves are not checked.
        irregularity: :func:`irregularity_score`'s result for these beats, if
            the caller already has it.
    """
    rpeaks = np.asarray(rpeaks, np.int64)
    t = rpeaks / fs
    af: list[RhythmEpisode] = []
    if rpeaks.size > params.window:
        score, irregular, measured = irregularity if irregularity is not None else \
            irregularity_score(rpeaks, fs, labels, interval_ok, params)
        cand = np.nan_to_num(score, nan=0.0) > params.score_threshold
        runs = _runs(cand)
        merged: list[list[int]] = []
        for a, b in runs:  # interval a..b-1 spans beats a..b
            if merged and t[a] - t[merged[-1][1]] < params.merge_gap_s:
                merged[-1][1] = b
            else:
                merged.append([a, b])
        refined: list[list[int]] = []
        for a, b in merged:
            w, th = params.window, params.score_threshold
            a = change_point(irregular, measured, a - w, a + w, th, onset=True)
            b = change_point(irregular, measured, b - w, b + w, th, onset=False)
            if b <= a:  # a blip: no regular-to-irregular change on either side
                continue
            # refined edges of neighbouring runs may overlap or come closer than merge_gap_s: one episode
            if refined and t[a] - t[refined[-1][1]] < params.merge_gap_s:
                refined[-1][1] = max(refined[-1][1], b)
            else:
                refined.append([a, b])
        for a, b in refined:
            start, end = float(t[a]), float(t[b])
            if end - start < params.min_duration_s:
                continue
            irr = float(np.nanmean(score[a:b]))
            p_frac = p_wave_fraction(start, end) if p_wave_fraction is not None else None
            if p_frac is not None and p_frac > params.max_p_fraction:
                continue
            conf = irr if p_frac is None else 0.5 * (irr + (1.0 - p_frac))
            af.append(RhythmEpisode(
                rhythm="AF", name=NAMES["AF"], start_s=start, end_s=end, mean_hr_bpm=_mean_hr(rpeaks, fs, a, b),
                confidence=float(np.clip(conf, 0.0, 1.0)),
                evidence={"irregular_fraction": irr, "p_wave_fraction": p_frac, "n_beats": float(b - a + 1)}))
    return sorted(af + _sinus_between(af, rpeaks, fs, readable_spans), key=lambda e: e.start_s)


def _sinus_between(af: list[RhythmEpisode], rpeaks: np.ndarray, fs: float,
                   readable_spans: list[tuple[float, float]]) -> list[RhythmEpisode]:
    """Sinus (or undetermined, with too few beats) episodes covering readable signal outside AF."""
    out = []
    t = rpeaks / fs
    for lo, hi in readable_spans:
        cuts = [(lo, hi)]
        for e in af:
            cuts = [piece for a, b in cuts for piece in ((a, min(b, e.start_s)), (max(a, e.end_s), b)) if piece[1] > piece[0]]
        for a, b in cuts:
            i, j = np.searchsorted(t, [a, b])
            n = int(j - i)
            if b - a < 1.0:
                continue
            rhythm = "sinus" if n >= 4 else "undetermined"
            out.append(RhythmEpisode(
                rhythm=rhythm, name=NAMES[rhythm], start_s=float(a), end_s=float(b),
                mean_hr_bpm=_mean_hr(rpeaks, fs, int(i), int(j) - 1) if n >= 2 else None,
                confidence=0.8 if rhythm == "sinus" else 0.0, evidence={"n_beats": float(n)}))
    return out
