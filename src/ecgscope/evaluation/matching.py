"""Beat-by-beat comparison of detected beats with reference annotations (ANSI/AAMI EC57, bxb).

A detection matches a reference beat when they lie within ``tolerance``
seconds (150 ms by default, as in EC57) and neither is matched to anything
else. Matching is one-to-one: a double detection leaves one false positive,
a missed beat one false negative. Scores:

* sensitivity ``Se = TP / (TP + FN)``,
* positive predictivity ``+P = TP / (TP + FP)``,
* ``F1 = 2 TP / (2 TP + FP + FN)``,
* timing error ``detected - reference`` (mean and median of its absolute value, ms).

Several records are summarised two ways (EC57 section 4): **gross** statistics
pool the counts of all records; **average** statistics are the mean of the
per-record values.

Options (off by default, as in most QRS-detection papers which score whole
records): ``start``/``stop`` seconds restrict the comparison to a window
(EC57 itself starts at 5 minutes; pass ``start=300`` for that), and
``exclude`` removes intervals from the comparison — :func:`excluded_intervals`
finds the ventricular flutter/fibrillation episodes (``[`` ... ``]``) that EC57
excludes from QRS detection statistics.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Iterable, Mapping, Sequence

import numpy as np

__all__ = [
    "BEAT_SYMBOLS",
    "BeatMatch",
    "DetectionScore",
    "match_beats",
    "score_detection",
    "score_records",
    "reference_beats",
    "excluded_intervals",
]

#: MIT-BIH beat annotation codes (everything else is a rhythm, noise or comment mark).
BEAT_SYMBOLS = frozenset("N L R B A a J S V r F e j n E / f Q ?".split())

#: EC57 default matching window in seconds.
DEFAULT_TOLERANCE = 0.15


# --------------------------------------------------------------------------- reference beats
def reference_beats(annotations, symbols: Iterable[str] | None = None) -> np.ndarray:
    """Sample positions of the beat annotations (``BEAT_SYMBOLS``) in ``annotations``.

    ``annotations`` is an :class:`ecgscope.record.Annotations`, a ``wfdb.Annotation``
    or a ``(samples, symbols)`` pair; ``symbols`` overrides the beat code set.
    """
    samples, codes = _samples_and_symbols(annotations)
    keep = np.isin(codes, list(BEAT_SYMBOLS if symbols is None else set(symbols)))
    return np.sort(samples[keep]).astype(np.int64)


def excluded_intervals(annotations) -> np.ndarray:
    """``(k, 2)`` int64 sample intervals of ventricular flutter/fibrillation episodes.

    An episode runs from a ``[`` mark to the next ``]`` mark (an unclosed one
    runs to the last annotation). EC57 leaves these out of QRS detection
    statistics; pass the result as ``exclude=`` to :func:`score_detection`.
    """
    samples, codes = _samples_and_symbols(annotations)
    out, start = [], None
    for s, c in zip(samples.tolist(), codes.tolist()):
        if c == "[" and start is None:
            start = s
        elif c == "]" and start is not None:
            out.append((start, s))
            start = None
    if start is not None:
        out.append((start, int(samples.max()) + 1))
    return np.asarray(out, dtype=np.int64).reshape(-1, 2)


def _samples_and_symbols(annotations) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(annotations, tuple) and len(annotations) == 2:
        samples, codes = annotations
    else:
        samples, codes = annotations.sample, annotations.symbol
    return np.asarray(samples, dtype=np.int64).reshape(-1), np.asarray(list(codes), dtype=object).reshape(-1)


# --------------------------------------------------------------------------- matching
@dataclass
class BeatMatch:
    """One-to-one pairing of reference and detected beats (indices into the inputs).

    Attributes:
        ref_index, test_index: matched pairs, ``reference[ref_index[k]]`` with
            ``detected[test_index[k]]``, ordered by time.
        missed: indices of unmatched reference beats (false negatives).
        extra: indices of unmatched detections (false positives).
        error: ``detected - reference`` of each pair in samples.
    """

    ref_index: np.ndarray
    test_index: np.ndarray
    missed: np.ndarray
    extra: np.ndarray
    error: np.ndarray


def _nearest(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Index into sorted ``dst`` of the element nearest to each of ``src`` (earlier on ties)."""
    j = np.searchsorted(dst, src)
    left = np.clip(j - 1, 0, dst.size - 1)
    right = np.clip(j, 0, dst.size - 1)
    return np.where(np.abs(src - dst[left]) <= np.abs(dst[right] - src), left, right)


def _pairs(ref: np.ndarray, test: np.ndarray, tol: int) -> tuple[np.ndarray, np.ndarray]:
    """One-to-one matching within ``tol`` samples that prefers the closest pairs.

    Rounds of mutual-nearest-neighbour pairing (vectorised) settle every
    unambiguous pair; a time-ordered greedy pass (earliest free detection in
    the window) then pairs what is left.
    """
    ref_free = np.arange(ref.size)
    test_free = np.arange(test.size)
    ri_all, ti_all = [], []
    while ref_free.size and test_free.size:
        r, t = ref[ref_free], test[test_free]
        nt = _nearest(r, t)
        nr = _nearest(t, r)
        mutual = (nr[nt] == np.arange(r.size)) & (np.abs(t[nt] - r) <= tol)
        if not mutual.any():
            break
        ri, ti = ref_free[mutual], test_free[nt[mutual]]
        ri_all.append(ri)
        ti_all.append(ti)
        ref_free = np.setdiff1d(ref_free, ri, assume_unique=True)
        test_free = np.setdiff1d(test_free, ti, assume_unique=True)
    # Greedy leftovers: only reference beats that still have a free detection in reach.
    if ref_free.size and test_free.size:
        t = test[test_free]
        lo = np.searchsorted(t, ref[ref_free] - tol, side="left")
        hi = np.searchsorted(t, ref[ref_free] + tol, side="right")
        reach = hi > lo
        used = np.zeros(t.size, bool)
        extra_r, extra_t = [], []
        for k in np.flatnonzero(reach):
            for j in range(lo[k], hi[k]):
                if not used[j]:
                    used[j] = True
                    extra_r.append(ref_free[k])
                    extra_t.append(test_free[j])
                    break
        ri_all.append(np.asarray(extra_r, dtype=np.int64))
        ti_all.append(np.asarray(extra_t, dtype=np.int64))
    if not ri_all:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    ri = np.concatenate(ri_all).astype(np.int64)
    ti = np.concatenate(ti_all).astype(np.int64)
    order = np.argsort(ri, kind="stable")
    return ri[order], ti[order]


def match_beats(reference, detected, fs: float, tolerance: float = DEFAULT_TOLERANCE) -> BeatMatch:
    """Match ``detected`` beat positions to ``reference`` positions one-to-one within ``tolerance`` s.

    Both inputs are sample positions at ``fs`` Hz (any order). Returned indices
    refer to the inputs as given.
    """
    ref_in = np.asarray(reference, dtype=np.int64).reshape(-1)
    test_in = np.asarray(detected, dtype=np.int64).reshape(-1)
    ro, to = np.argsort(ref_in, kind="stable"), np.argsort(test_in, kind="stable")
    ref, test = ref_in[ro], test_in[to]
    tol = int(np.floor(float(tolerance) * float(fs) + 1e-9))
    ri, ti = _pairs(ref, test, tol)
    missed = np.setdiff1d(np.arange(ref.size), ri, assume_unique=True)
    extra = np.setdiff1d(np.arange(test.size), ti, assume_unique=True)
    return BeatMatch(
        ref_index=ro[ri], test_index=to[ti], missed=ro[missed], extra=to[extra],
        error=(test[ti] - ref[ri]).astype(np.int64),
    )


# --------------------------------------------------------------------------- scores
@dataclass
class DetectionScore:
    """Counts and statistics of one comparison (percentages in %, errors in ms)."""

    tp: int
    fp: int
    fn: int
    se: float
    ppv: float
    f1: float
    mean_abs_error_ms: float
    median_abs_error_ms: float
    mean_error_ms: float

    def as_dict(self) -> dict:
        """Plain dict of the fields."""
        return asdict(self)


def _ratio(num: float, den: float) -> float:
    return 100.0 * num / den if den > 0 else float("nan")


def _score(tp: int, fp: int, fn: int, errors_ms: np.ndarray) -> DetectionScore:
    abs_err = np.abs(errors_ms)
    return DetectionScore(
        tp=int(tp), fp=int(fp), fn=int(fn),
        se=_ratio(tp, tp + fn), ppv=_ratio(tp, tp + fp), f1=_ratio(2 * tp, 2 * tp + fp + fn),
        mean_abs_error_ms=float(abs_err.mean()) if abs_err.size else float("nan"),
        median_abs_error_ms=float(np.median(abs_err)) if abs_err.size else float("nan"),
        mean_error_ms=float(errors_ms.mean()) if errors_ms.size else float("nan"),
    )


def _inside(positions: np.ndarray, fs: float, start: float, stop: float | None,
            exclude: np.ndarray | None) -> np.ndarray:
    keep = positions >= int(round(start * fs))
    if stop is not None:
        keep &= positions < int(round(stop * fs))
    if exclude is not None and len(exclude):
        ex = np.asarray(exclude, dtype=np.int64).reshape(-1, 2)
        k = np.searchsorted(ex[:, 0], positions, side="right") - 1
        keep &= ~((k >= 0) & (positions <= ex[np.clip(k, 0, None), 1]))
    return keep


def _match_and_errors(reference, detected, fs, tolerance, start, stop, exclude):
    ref = np.asarray(reference, dtype=np.int64).reshape(-1)
    test = np.asarray(detected, dtype=np.int64).reshape(-1)
    m = match_beats(ref, test, fs, tolerance)
    ref_in = _inside(ref, fs, start, stop, exclude)
    test_in = _inside(test, fs, start, stop, exclude)
    # A pair counts when its reference beat is inside; its detection then is too.
    pair_in = ref_in[m.ref_index]
    tp = int(pair_in.sum())
    fn = int(ref_in[m.missed].sum())
    fp = int(test_in[m.extra].sum())
    errors_ms = m.error[pair_in] * (1000.0 / float(fs))
    return tp, fp, fn, errors_ms


def score_detection(reference, detected, fs: float, tolerance: float = DEFAULT_TOLERANCE, *,
                    start: float = 0.0, stop: float | None = None, exclude=None) -> DetectionScore:
    """Se, +P, F1 and timing error of ``detected`` against ``reference`` beat positions.

    Args:
        reference, detected: sample positions at ``fs`` Hz.
        tolerance: matching window in seconds (150 ms in EC57).
        start, stop: compare only beats in ``[start, stop)`` seconds.
        exclude: ``(k, 2)`` sample intervals left out (e.g. :func:`excluded_intervals`).
    """
    tp, fp, fn, errors_ms = _match_and_errors(reference, detected, fs, tolerance, start, stop, exclude)
    return _score(tp, fp, fn, errors_ms)


def score_records(results: Mapping[str, Sequence] | Iterable[tuple], tolerance: float = DEFAULT_TOLERANCE, *,
                  start: float = 0.0, stop: float | None = None):
    """Per-record table plus gross and average statistics over several records.

    Args:
        results: ``{record: (reference, detected, fs)}`` or
            ``{record: (reference, detected, fs, exclude)}`` (or an iterable of
            ``(record, reference, detected, fs[, exclude])`` tuples).
        tolerance, start, stop: as in :func:`score_detection`.

    Returns:
        ``(table, gross, average)``: a pandas DataFrame with one row per record
        (``tp fp fn se ppv f1 mean_abs_error_ms median_abs_error_ms mean_error_ms``),
        the pooled :class:`DetectionScore` and a dict of per-record means.
    """
    import pandas as pd

    items = results.items() if isinstance(results, Mapping) else ((r[0], r[1:]) for r in results)
    rows, all_errors, totals = {}, [], np.zeros(3, np.int64)
    for name, entry in items:
        reference, detected, fs, *rest = entry
        exclude = rest[0] if rest else None
        tp, fp, fn, errors_ms = _match_and_errors(reference, detected, fs, tolerance, start, stop, exclude)
        rows[str(name)] = _score(tp, fp, fn, errors_ms).as_dict()
        totals += (tp, fp, fn)
        all_errors.append(errors_ms)
    columns = list(DetectionScore.__dataclass_fields__)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=columns)
    table.index.name = "record"
    errors = np.concatenate(all_errors) if all_errors else np.zeros(0)
    gross = _score(*totals.tolist(), errors)
    average = {k: float(table[k].mean()) for k in ("se", "ppv", "f1", "mean_abs_error_ms", "median_abs_error_ms")}
    return table, gross, average
