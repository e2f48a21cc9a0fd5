"""Ectopy summary from the beat labels: counts, burden, couplets, runs, bigeminy, trigeminy.

Definitions (AHA/ACC Holter reporting conventions; cf. Kadish et al.,
"ACC/AHA clinical competence statement on electrocardiography and ambulatory
electrocardiography", Circulation 104:3169, 2001):

* burden: ectopic beats as a percentage of all beats;
* couplet: exactly two consecutive ectopic beats of one kind;
* run: three or more consecutive ectopic beats (ventricular: "NSVT" when >= 100 bpm);
* bigeminy: at least three consecutive cycles of (normal, ectopic);
  trigeminy: at least three cycles of (normal, normal, ectopic).

Runs never span an unreadable stretch (``segment_starts`` splits the series).
"""

from __future__ import annotations

import numpy as np

from .report import Ectopy, EctopicRun, finite_or_none

__all__ = ["summarize_ectopy", "MIN_PATTERN_CYCLES"]

#: Cycles needed for bigeminy / trigeminy.
MIN_PATTERN_CYCLES = 3


def _true_runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _event(kind: str, pattern: str, times: np.ndarray, a: int, b: int) -> EctopicRun:
    """Event over beats ``a..b-1`` (indices into ``times``)."""
    n = b - a
    rate = 60.0 * (n - 1) / float(times[b - 1] - times[a]) if n >= 2 and times[b - 1] > times[a] else None
    return EctopicRun(kind=kind, pattern=pattern, start_s=float(times[a]), end_s=float(times[b - 1]),
                      n_beats=int(n), rate_bpm=finite_or_none(rate))


def _consecutive(kind: str, is_k: np.ndarray, times: np.ndarray) -> list[EctopicRun]:
    starts, stops = _true_runs(is_k)
    keep = stops - starts >= 2
    return [_event(kind, "couplet" if b - a == 2 else "run", times, a, b)
            for a, b in zip(starts[keep].tolist(), stops[keep].tolist())]


def _patterns(kind: str, is_k: np.ndarray, times: np.ndarray) -> list[EctopicRun]:
    """Bigeminy (period 2) and trigeminy (period 3) episodes."""
    out = []
    n = is_k.size
    for period, name in ((2, "bigeminy"), (3, "trigeminy")):
        if n <= period:
            continue
        # beat i closes a cycle: ectopic, preceded by period-1 non-ectopic beats
        cycle = is_k.copy()
        for lag in range(1, period):
            cycle[lag:] &= ~is_k[:-lag]
        cycle[:period - 1] = False
        for phase in range(period):
            track = cycle[phase::period]
            starts, stops = _true_runs(track)
            keep = stops - starts >= MIN_PATTERN_CYCLES
            for a, b in zip(starts[keep].tolist(), stops[keep].tolist()):
                first = phase + a * period - (period - 1)  # the normal beat opening the first cycle
                last = phase + (b - 1) * period  # the last ectopic beat
                ev = _event(kind, name, times, first, last + 1)
                out.append(ev.model_copy(update={"n_beats": int(b - a)}))  # n_beats = cycles
    return out


def summarize_ectopy(labels: np.ndarray, times: np.ndarray, segment_starts: np.ndarray | None = None,
                     duration_s: float | None = None, labelled: bool = True) -> Ectopy:
    """Counts, burden and events of V (PVC) and S (APC) beats.

    Args:
        labels: AAMI label per beat.
        times: beat times in seconds.
        segment_starts: indices of beats that open a new readable segment (runs are split there).
        duration_s: readable duration, for the hourly rates.
        labelled: False when no classifier ran (counts are then meaningless and reported as 0).
    """
    labels = np.asarray(labels).astype(str)
    times = np.asarray(times, dtype=float)
    n = labels.size
    if not labelled or n == 0:
        return Ectopy(n_beats=int(n), labelled=labelled)
    bounds = np.unique(np.concatenate([[0], np.asarray(segment_starts if segment_starts is not None else [], int),
                                       [n]]))
    events: list[EctopicRun] = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        for kind in ("V", "S"):
            is_k = labels[a:b] == kind
            if is_k.any():
                events += _consecutive(kind, is_k, times[a:b]) + _patterns(kind, is_k, times[a:b])
    events.sort(key=lambda e: e.start_s)
    pvc, apc = int((labels == "V").sum()), int((labels == "S").sum())
    hours = duration_s / 3600.0 if duration_s else None

    def longest(kind: str):
        runs = [e for e in events if e.kind == kind and e.pattern == "run"]
        return max(runs, key=lambda e: (e.n_beats, -e.start_s)) if runs else None

    def count(kind: str, pattern: str) -> int:
        return sum(1 for e in events if e.kind == kind and e.pattern == pattern)

    return Ectopy(
        n_beats=int(n), labelled=True, pvc_count=pvc, apc_count=apc,
        pvc_burden_pct=100.0 * pvc / n, apc_burden_pct=100.0 * apc / n,
        pvc_per_hour=finite_or_none(pvc / hours) if hours else None,
        apc_per_hour=finite_or_none(apc / hours) if hours else None,
        v_couplets=count("V", "couplet"), s_couplets=count("S", "couplet"),
        v_runs=count("V", "run"), s_runs=count("S", "run"),
        longest_v_run=longest("V"), longest_s_run=longest("S"), events=events,
    )
