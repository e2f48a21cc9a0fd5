"""Scoring wave delineation against reference annotations (LUDB, QT database style).

Each fiducial point type (P onset ... T offset) is scored separately: a
detected point matches a reference point of the same type within
``tolerance`` (150 ms by default, the CSE-style acceptance window used by
Martínez et al. 2004 and by LUDB's authors), one-to-one
(:func:`ecgscope.evaluation.matching.match_beats`). Only detections inside the
annotated span are counted, because LUDB annotates the middle of each record
only. Reported per point: sensitivity ``Se = TP / (TP + FN)``, positive
predictivity ``+P = TP / (TP + FP)``, and the mean and SD of the timing error
``detected - reference`` in ms over matched pairs.

LUDB per-lead annotation files (``.i .ii ... .v6``) hold triplets ``(`` onset,
peak (``p``, ``N`` or ``t``), ``)`` offset; :func:`ludb_reference` turns them
into point arrays.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .matching import _samples_and_symbols, match_beats

__all__ = ["score_delineation", "summarize_delineation", "ludb_reference", "annotated_span",
           "POINTS", "DEFAULT_TOLERANCE"]

POINTS = ("p_onset", "p_peak", "p_offset", "qrs_onset", "qrs_peak", "qrs_offset",
          "t_onset", "t_peak", "t_offset")
DEFAULT_TOLERANCE = 0.15
_WAVE_OF_SYMBOL = {"p": "p", "N": "qrs", "t": "t"}



def ludb_reference(annotations) -> dict[str, np.ndarray]:
    """Point name -> sorted int64 samples from LUDB-style ``(`` peak ``)`` annotations.

    ``annotations`` is an :class:`~ecgscope.record.Annotations`, a
    ``wfdb.Annotation`` or a ``(samples, symbols)`` pair. An onset/offset counts
    only when it directly precedes/follows its peak.
    """
    s, c = _samples_and_symbols(annotations)
    order = np.argsort(s, kind="stable")
    s, c = s[order], c[order]
    out: dict[str, list[int]] = {k: [] for k in POINTS}
    for i, sym in enumerate(c.tolist()):
        wave = _WAVE_OF_SYMBOL.get(sym)
        if wave is None:
            continue
        out[f"{wave}_peak"].append(int(s[i]))
        if i > 0 and c[i - 1] == "(":
            out[f"{wave}_onset"].append(int(s[i - 1]))
        if i + 1 < c.size and c[i + 1] == ")":
            out[f"{wave}_offset"].append(int(s[i + 1]))
    return {k: np.asarray(sorted(v), dtype=np.int64) for k, v in out.items()}


def annotated_span(reference: Mapping[str, np.ndarray], margin: int = 0) -> tuple[int, int]:
    """``(first, last)`` annotated sample over all points, widened by ``margin`` samples."""
    parts = [np.asarray(v, dtype=np.int64).reshape(-1) for v in reference.values()]
    allp = np.concatenate(parts) if parts else np.zeros(0, np.int64)
    if allp.size == 0:
        return 0, -1
    return int(allp.min()) - margin, int(allp.max()) + margin


def score_delineation(
    detected: Mapping[str, np.ndarray],
    reference: Mapping[str, np.ndarray],
    fs: float,
    tolerance: float = DEFAULT_TOLERANCE,
    span: tuple[int, int] | None = None,
) -> pd.DataFrame:
    """Per-point counts and timing errors for one lead of one record.

    Args:
        detected: point name -> sample positions (entries < 0 are ignored).
        reference: point name -> reference positions (e.g. from :func:`ludb_reference`).
        fs: sampling rate in Hz.
        tolerance: matching window in seconds.
        span: ``(first, last)`` samples inside which detections are scored. By
            default each point type uses the span of its own reference points
            widened by ``tolerance`` (so a wave just outside the annotated part is
            neither a hit nor a false positive); a type without reference points
            (no P waves in atrial fibrillation) uses :func:`annotated_span` of all
            points, so detections there count as false positives.

    Returns:
        One row per point present in both mappings: ``point, n_ref, n_det, tp, fn,
        fp, se, ppv`` and ``errors_ms`` (array of ``detected - reference``).
    """
    margin = int(np.floor(float(tolerance) * float(fs) + 1e-9))
    whole = annotated_span(reference)
    rows = []
    for point in POINTS:
        if point not in detected or point not in reference:
            continue
        ref = np.asarray(reference[point], dtype=np.int64).reshape(-1)
        if span is not None:
            lo, hi = span
        elif ref.size:
            lo, hi = int(ref.min()) - margin, int(ref.max()) + margin
        else:
            lo, hi = whole
        det = np.asarray(detected[point], dtype=np.int64).reshape(-1)
        det = np.sort(det[(det >= 0) & (det >= lo) & (det <= hi)])
        m = match_beats(ref, det, fs, tolerance)
        tp = int(m.ref_index.size)
        rows.append({
            "point": point, "n_ref": int(ref.size), "n_det": int(det.size), "tp": tp,
            "fn": int(m.missed.size), "fp": int(m.extra.size),
            "se": tp / ref.size if ref.size else np.nan,
            "ppv": tp / det.size if det.size else np.nan,
            "errors_ms": m.error.astype(np.float64) * 1000.0 / fs,
        })
    return pd.DataFrame(rows)


def summarize_delineation(scores: Iterable[pd.DataFrame]) -> pd.DataFrame:
    """Pool per-lead scores: per point ``Se %, +P %, mean error, SD (ms), n_ref, tp``.

    Counts are summed (gross statistics) and errors of all matched pairs pooled.
    """
    frames = [s for s in scores if len(s)]
    if not frames:
        return pd.DataFrame(columns=["point", "n_ref", "tp", "fn", "fp", "se", "ppv", "mean_ms", "sd_ms"])
    allrows = pd.concat(frames, ignore_index=True)
    out = []
    for point in POINTS:
        part = allrows[allrows["point"] == point]
        if part.empty:
            continue
        tp, fn, fp = int(part["tp"].sum()), int(part["fn"].sum()), int(part["fp"].sum())
        err = np.concatenate(part["errors_ms"].to_list()) if tp else np.zeros(0)
        out.append({
            "point": point, "n_ref": int(part["n_ref"].sum()), "tp": tp, "fn": fn, "fp": fp,
            "se": 100.0 * tp / (tp + fn) if tp + fn else np.nan,
            "ppv": 100.0 * tp / (tp + fp) if tp + fp else np.nan,
            "mean_ms": float(err.mean()) if err.size else np.nan,
            "sd_ms": float(err.std(ddof=1)) if err.size > 1 else np.nan,
        })
    return pd.DataFrame(out)
