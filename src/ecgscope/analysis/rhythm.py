"""Rhythm classification of any record with a rhythm checkpoint: ``classify_rhythm`` and the analyze() hook.

:func:`classify_rhythm` runs a window rhythm estimator
(:class:`~ecgscope.models.rhythm.estimator.WindowRhythmEstimator`: RAMBA,
the ResNet1D baseline) over one lead of a record: the estimator resamples it
to its own rate, band-passes it and cuts ``window_s`` windows every
``hop_s`` seconds (the last window ends at the record's end; a record shorter
than one window is zero-padded, down to half a window). The window
probabilities are pooled into record probabilities with the estimator's
pooling (the power mean ``(mean p^Q)^(1/Q)``, Q=3, for the shipped model).
Loaded models are cached (``functools.lru_cache`` on the folder and its
files' mtimes, as :func:`~ecgscope.analysis.classify.load_beat_classifier`).

    result = classify_rhythm(ecgscope.read("cinc2017/A00004"))   # shipped rhythm-default
    result.label, result.probabilities["A"]
    result.windows()                                             # start_s, end_s, p_N, p_A, ...

:class:`ModelRhythmDetector` plugs a rhythm model into
:func:`~ecgscope.analysis.pipeline.analyze` (its ``rhythm_model`` hook); see
its docstring for how model windows and the RR-irregularity rule combine.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import numpy as np
import pandas as pd

from ..errors import ModelError, NonFiniteSignalError, SignalError
from ..record import Record
from .classify import _as_record, _fill_gaps, _lead_indices, checkpoint_stamp
from .report import RhythmEpisode, finite_or_none
from .rhythm_rules import (NAMES, RuleParams, _mean_hr, _sinus_between, change_point, irregularity_score,
                           rule_episodes)

__all__ = ["RhythmModel", "RhythmResult", "load_rhythm_model", "classify_rhythm", "ModelRhythmDetector",
           "AF_THRESHOLD"]

#: Fixed decision threshold on P(AF) (the zero-shot protocol's; never tuned on a target).
AF_THRESHOLD = 0.5
_SHIPPED = "rhythm-default"
_AF_CLASSES = ("A", "AF")  # CinC 2017 "A", or a binary AF model's "AF"


def _af_class(classes) -> Optional[str]:
    """The class of ``classes`` standing for atrial fibrillation, if any."""
    return next((c for c in _AF_CLASSES if c in classes), None)


# ------------------------------------------------------------------ models
@dataclass(frozen=True, eq=False)
class RhythmModel:
    """A fitted window rhythm estimator ready for inference, with its name and card hash."""

    estimator: Any
    name: str
    hash: Optional[str] = None
    directory: Optional[Path] = None

    @property
    def classes(self) -> tuple[str, ...]:
        """Output classes, in probability-column order."""
        return tuple(str(c) for c in self.estimator.classes_)

    @property
    def af_class(self) -> Optional[str]:
        """The class standing for atrial fibrillation (``"A"`` for CinC 2017 models), if any."""
        return _af_class(self.classes)

    @property
    def n_leads(self) -> int:
        """Leads the network reads."""
        return int(getattr(self.estimator.net_, "in_leads", max(len(self.estimator.leads_), 1)))


@functools.lru_cache(maxsize=4)
def _load(directory: str, stamp: tuple) -> RhythmModel:
    from ..models.checkpoint import card_hash
    from ..models.rhythm.checkpoint import load_rhythm_estimator

    estimator = load_rhythm_estimator(directory)
    path = Path(directory)
    return RhythmModel(estimator, path.name, card_hash(path, estimator.card_), path)


def _wrap(estimator) -> RhythmModel:
    if not callable(getattr(estimator, "predict_windows", None)):
        raise ModelError(f"{type(estimator).__name__} gives no window probabilities",
                         fix="use a window rhythm estimator (ramba, resnet1d-rhythm) or its checkpoint")
    estimator._check_fitted()
    card = getattr(estimator, "card_", None)
    return RhythmModel(estimator, getattr(estimator, "estimator_name", "") or type(estimator).__name__,
                       None if card is None else hashlib.sha256(
                           json.dumps(card, sort_keys=True, default=str).encode()).hexdigest())


def load_rhythm_model(model: Any = "default") -> RhythmModel:
    """Load (or take from the cache) a rhythm model.

    ``model`` is ``"default"`` / ``"rhythm"`` (the shipped ``rhythm-default``), a
    checkpoint folder written by ``estimator.save()``, a fitted window
    estimator, or a :class:`RhythmModel`.
    """
    if isinstance(model, RhythmModel):
        return model
    if not isinstance(model, (str, os.PathLike)):
        return _wrap(model)
    from ..models.pretrained import resolve_model

    name = "rhythm" if os.fspath(model) == "default" else model
    try:
        directory = resolve_model(name)
    except ModelError:
        if os.fspath(name) in ("rhythm", _SHIPPED):
            raise ModelError(f"the shipped rhythm model {_SHIPPED!r} is not installed in this ecgscope",
                             fix="pass a rhythm checkpoint folder written by estimator.save() (model=... / "
                                 "--model PATH), or train one: benchmarks/rhythm_cv.py zeroshot ramba "
                                 f"--save src/ecgscope/models/pretrained/{_SHIPPED}") from None
        raise
    return _load(str(directory), checkpoint_stamp(directory))


# ------------------------------------------------------------------ result
@dataclass(frozen=True, eq=False)
class RhythmResult:
    """Record-level rhythm probabilities and the window probabilities they pool (see :meth:`windows`)."""

    record_id: Optional[str]
    classes: tuple[str, ...]
    probabilities: dict[str, float]
    label: str
    pooling: str
    q: float
    model: str
    model_hash: Optional[str]
    fs: float
    model_fs: float
    lead: str
    duration_s: float
    window_s: float
    hop_s: float
    window_start_s: np.ndarray
    window_end_s: np.ndarray
    window_proba: np.ndarray  # (n_windows, K); NaN rows for windows over non-finite samples
    window_valid: np.ndarray

    @property
    def n_windows(self) -> int:
        """Number of windows."""
        return int(self.window_start_s.size)

    @property
    def af_probability(self) -> Optional[float]:
        """Record-level P(AF) (the ``A`` / ``AF`` class), None for a model without one."""
        cls = _af_class(self.classes)
        return None if cls is None else self.probabilities[cls]

    def windows(self) -> pd.DataFrame:
        """One row per window: ``start_s``, ``end_s``, ``p_<class>`` ..., ``label`` and ``valid``."""
        frame = pd.DataFrame({"start_s": self.window_start_s, "end_s": self.window_end_s})
        for i, c in enumerate(self.classes):
            frame[f"p_{c}"] = self.window_proba[:, i]
        best = np.nan_to_num(self.window_proba, nan=-1.0).argmax(axis=1)
        frame["label"] = np.where(self.window_valid, np.asarray(self.classes, dtype=object)[best], "")
        frame["valid"] = self.window_valid
        return frame

    def to_dict(self, windows: bool = True) -> dict:
        """JSON-safe dict (NaN becomes None); ``windows=False`` leaves the window table out."""
        keys = ("record_id", "label", "pooling", "q", "model", "model_hash", "fs", "model_fs", "lead",
                "duration_s", "window_s", "hop_s")
        out = {k: getattr(self, k) for k in keys}
        out["classes"] = list(self.classes)
        out["probabilities"] = {k: finite_or_none(v) for k, v in self.probabilities.items()}
        out["n_windows"] = self.n_windows
        if windows:
            out["windows"] = [{k: (finite_or_none(v) if isinstance(v, float) else v) for k, v in row.items()}
                              for row in self.windows().to_dict(orient="records")]
        return out

    def to_json(self, windows: bool = True) -> str:
        """:meth:`to_dict` as a JSON string."""
        return json.dumps(self.to_dict(windows), default=lambda v: v.item() if hasattr(v, "item") else str(v))


# ------------------------------------------------------------------ inference
def _lead_rows(record: Record, model: RhythmModel, lead) -> list[int]:
    """Single-lead models read ``lead``, else lead II (``MLII``), else the first lead."""
    if model.n_leads != 1:
        return _lead_indices(record, list(model.estimator.leads_), lead)
    if lead is not None:
        try:
            return [record.lead_index(lead)]
        except KeyError:
            raise ModelError(f"the record has no lead {lead!r} (leads {', '.join(record.leads)})",
                             path=record.metadata.source,
                             fix="pass --lead / lead= with one of them") from None
    try:
        return [record.lead_index("II")]
    except KeyError:
        return [0]


def _window_valid(starts: np.ndarray, ends: np.ndarray, fs: float, gaps: Optional[np.ndarray]) -> np.ndarray:
    """True for windows free of (interpolated) non-finite samples."""
    if gaps is None:
        return np.ones(starts.size, bool)
    cum = np.concatenate([[0], np.cumsum(gaps, dtype=np.int64)])
    lo = np.clip(np.floor(starts * fs).astype(np.int64), 0, gaps.size)
    hi = np.clip(np.ceil(ends * fs).astype(np.int64), 0, gaps.size)
    return (cum[hi] - cum[lo]) == 0


def classify_rhythm(record, model: Any = "default", *, lead=None, workers: int = 1) -> RhythmResult:
    """Rhythm of ``record``: record-level class probabilities and per-window probabilities.

    Args:
        record: a :class:`~ecgscope.record.Record` (any fs, any leads) or a file path.
        model: ``"default"`` (the shipped ``rhythm-default``), a rhythm checkpoint
            folder, a fitted window estimator or a :class:`RhythmModel`.
        lead: the lead to classify, by name or index (default lead II, which also
            finds ``MLII``, else the first lead).
        workers: processes for the per-window features of a long record (the
            same result; worth it from about half an hour of record with the shipped model).
            The processes are spawned, so a script using it needs the usual
            ``if __name__ == "__main__":`` guard.

    Returns:
        A :class:`RhythmResult`. Windows holding non-finite samples get NaN
        probabilities, ``valid=False`` and are left out of the record's pooling
        (the gap is interpolated only so the rest of the signal can be filtered).

    Raises:
        SignalError: an empty record, or one shorter than half a model window.
        NonFiniteSignalError: every window holds non-finite samples.
        ModelError: the model is missing or not a rhythm model; the lead is missing.
    """
    from ..datasets.rhythm import RhythmSet

    rm = load_rhythm_model(model)
    record = _as_record(record, "classify_rhythm")
    source = record.metadata.source or record.metadata.record_id
    spec = rm.estimator.spec
    if record.n_samples == 0 or record.n_leads == 0:
        raise SignalError("the record has no samples", path=source, fix="check the file")
    if record.duration < spec.window_s / 2:
        raise SignalError(f"the record is {record.duration:.2f} s long; the rhythm model reads "
                          f"{spec.window_s:g}-s windows and needs at least {spec.window_s / 2:g} s",
                          path=source, fix="classify a longer recording")
    rows = _lead_rows(record, rm, lead)
    signal, gaps = _fill_gaps(record.signal[rows], source)
    rid = str(record.metadata.record_id or "record")
    data = RhythmSet([signal], record.fs, ["?"], [rid], [rid], leads=[record.leads[i] for i in rows])
    starts, proba = rm.estimator.predict_windows(data, workers=workers)[0]
    starts = np.asarray(starts, np.float64)
    ends = np.minimum(starts + spec.window_s, record.duration)
    valid = _window_valid(starts, ends, record.fs, gaps)
    if not valid.any():
        raise NonFiniteSignalError(f"every {spec.window_s:g}-s window holds non-finite samples", path=source,
                                   fix="repair the recording or classify a lead without gaps (lead=...)")
    proba = np.asarray(proba, np.float64)
    pooled = rm.estimator.pool([(starts[valid], proba[valid].astype(np.float32))])[0]
    proba[~valid] = np.nan
    o = rm.estimator.options
    return RhythmResult(
        record_id=record.metadata.record_id, classes=rm.classes,
        probabilities={c: float(p) for c, p in zip(rm.classes, pooled)},
        label=rm.classes[int(np.argmax(pooled))], pooling=str(o["pooling"]), q=float(o["q"]), model=rm.name,
        model_hash=rm.hash, fs=float(record.fs), model_fs=float(spec.fs),
        lead=",".join(record.leads[i] for i in rows), duration_s=float(record.duration),
        window_s=float(spec.window_s), hop_s=float(spec.hop_s), window_start_s=starts, window_end_s=ends,
        window_proba=proba, window_valid=valid)


# ------------------------------------------------------------------ analyze() hook
def _beat_spans(t: np.ndarray, interval_ok: np.ndarray, duration: float, margin: float
                ) -> list[tuple[float, float]]:
    """Stretches of beats joined by usable RR intervals (the readable signal, as the hook sees it).

    The first and last stretch reach the record's start and end when their
    outer beat lies within ``margin`` seconds of it.
    """
    if t.size < 2:
        return []
    breaks = np.flatnonzero(~np.asarray(interval_ok, bool))  # interval i joins beats i and i+1
    first = np.concatenate([[0], breaks + 1])
    last = np.concatenate([breaks, [t.size - 1]])
    spans = [[float(t[a]), float(t[b])] for a, b in zip(first, last) if b > a]
    if spans and spans[0][0] <= margin:
        spans[0][0] = 0.0
    if spans and duration - spans[-1][1] <= margin:
        spans[-1][1] = float(duration)
    return [(a, b) for a, b in spans]


def _overlap_mean(a: float, b: float, starts, ends, p) -> Optional[float]:
    """Mean of ``p`` over the windows overlapping ``[a, b]``, weighted by the overlap (None if none)."""
    w = np.clip(np.minimum(ends, b) - np.maximum(starts, a), 0.0, None)
    return float((w * p).sum() / w.sum()) if w.sum() > 0 else None


def _runs_of_windows(starts, ends, hit) -> list[tuple[float, float]]:
    """``[(start_s, end_s)]`` of chains of ``hit`` windows that touch or overlap."""
    spans: list[list[float]] = []
    for s, e in zip(starts[hit].tolist(), ends[hit].tolist()):
        if spans and s <= spans[-1][1]:
            spans[-1][1] = max(spans[-1][1], e)
        else:
            spans.append([s, e])
    return [(a, b) for a, b in spans]


def _subtract(spans: list[tuple[float, float]], cuts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    for c0, c1 in cuts:
        spans = [p for a, b in spans for p in ((a, min(b, c0)), (max(a, c1), b)) if p[1] > p[0]]
    return spans


def _intersect(spans: list[tuple[float, float]], keep: list[tuple[float, float]]
               ) -> list[tuple[float, float]]:
    return [(max(a, c), min(b, d)) for a, b in spans for c, d in keep if min(b, d) > max(a, c)]


def _refine_edge(t: np.ndarray, irregular: np.ndarray, measured: np.ndarray, edge_s: float, radius_s: float,
                 threshold: float, onset: bool) -> Optional[float]:
    """The RR change point (s) within ``radius_s`` of a window-resolution AF edge, or None.

    None unless the intervals on the AF side of the change point are mostly
    irregular (share above ``threshold``): regular RR (e.g. flutter with fixed
    conduction) or too few beats give no beat-level edge.
    """
    if t.size < 3:
        return None
    lo, hi = np.searchsorted(t, [edge_s - radius_s, edge_s + radius_s])
    hi = min(int(hi), irregular.size)
    k = change_point(irregular, measured, int(lo), hi, threshold, onset)
    side = slice(k, hi) if onset else slice(int(lo), k)
    n = measured[side].sum()
    if n < 4 or (irregular[side] * measured[side]).sum() / n <= threshold:
        return None
    return float(t[min(k, t.size - 1)])


def _first_given(*values):
    """The first of ``values`` that is not None (an edge at 0.0 s is an edge)."""
    return next(v for v in values if v is not None)


class ModelRhythmDetector:
    """A rhythm model as :func:`~ecgscope.analysis.pipeline.analyze`'s ``rhythm_model`` hook.

    The rule combining the model's windows with the RR-irregularity rule
    (:mod:`~ecgscope.analysis.rhythm_rules`):

    1. The model classifies every window of the record (:func:`classify_rhythm`);
       a window is AF when its P(AF) is at least ``threshold`` (0.5, the fixed
       zero-shot threshold). Chains of AF windows that touch are model AF spans.
    2. The rule's RR-irregularity candidates are kept when their mean window
       P(AF), weighted by overlap, is at least ``threshold``, cut to the model
       spans widened by one window (the windows' own edge uncertainty). The
       rule runs without its P-wave check (the model sees the atrial activity)
       and counts beats labelled S as conducted beats: the model, not the beat
       labels, tells AF from atrial ectopy, and a beat classifier labels many
       early AF beats S, which would hide the irregularity at the onset.
    3. AF = the union of both, cut to the readable stretches. Each edge goes
       to the RR change point within one window of it
       (:func:`~ecgscope.analysis.rhythm_rules.change_point`) when the RR
       intervals on its AF side are mostly irregular; else to a rule edge
       within one window (beat-precise); else it stays on the window boundary.
    4. Episodes shorter than ``params.min_duration_s`` (30 s; half the record
       for records under a minute) are dropped. Every AF episode's confidence
       is its mean model P(AF); its evidence holds ``p_af_model``,
       ``n_windows`` and the measured ``irregular_fraction``. The readable rest
       is sinus (confidence: mean 1 - P(AF)), or undetermined with fewer than 4 beats.

    ``workers`` > 1 computes the window features of long records in that many
    processes (:func:`classify_rhythm`); the result is the same.
    """

    def __init__(self, model: Any = "default", *, threshold: float = AF_THRESHOLD, lead=None,
                 params: RuleParams = RuleParams(), workers: int = 1) -> None:
        self.model = load_rhythm_model(model)
        if self.model.af_class is None:
            raise ModelError(f"rhythm model {self.model.name!r} has no AF class (classes "
                             f"{', '.join(self.model.classes)})", fix="use a model with an 'A' or 'AF' class")
        self.threshold = float(threshold)
        self.lead = lead
        self.params = params
        self.workers = int(workers)
        self.__name__ = (f"rhythm model {self.model.name} (window P(AF) >= {self.threshold:g}) "
                         "+ RR-irregularity edges")

    @property
    def model_info(self) -> dict:
        """``{"name", "card_hash"}`` for the report's provenance."""
        return {"name": self.model.name, "card_hash": self.model.hash}

    def _af_spans(self, rule: list[RhythmEpisode], starts, ends, p_af, window_s) -> list[tuple]:
        """``(start_s, end_s, rule_start_s, rule_end_s)`` of the merged model and confirmed rule AF.

        ``start_s``/``end_s`` are the merged span's edges; ``rule_*`` a rule
        edge within one window of them (None if none). A confirmed rule episode
        reaches at most one window beyond the model span it overlaps; past that
        its edge falls back to the span's.
        """
        chains = _runs_of_windows(starts, ends, p_af >= self.threshold)
        pieces = [(a, b, None, None) for a, b in chains]
        for e in rule:
            p = _overlap_mean(e.start_s, e.end_s, starts, ends, p_af)
            if e.rhythm != "AF" or p is None or p < self.threshold:
                continue
            for a, b in chains:
                if e.start_s < b + window_s and e.end_s > a - window_s:
                    ra = e.start_s if e.start_s >= a - window_s else None
                    rb = e.end_s if e.end_s <= b + window_s else None
                    pieces.append((a if ra is None else min(a, ra), b if rb is None else max(b, rb), ra, rb))
        groups: list[list[tuple]] = []
        for piece in sorted(pieces, key=lambda q: q[:2]):
            if groups and piece[0] <= max(q[1] for q in groups[-1]):
                groups[-1].append(piece)
            else:
                groups.append([piece])
        spans = []
        for g in groups:
            a, b = min(q[0] for q in g), max(q[1] for q in g)
            ra = [q[2] for q in g if q[2] is not None and q[2] <= a + window_s]
            rb = [q[3] for q in g if q[3] is not None and q[3] >= b - window_s]
            spans.append((a, b, min(ra) if ra else None, max(rb) if rb else None))
        return spans

    def __call__(self, record: Record, beats: np.ndarray, labels: np.ndarray,
                 interval_ok: np.ndarray) -> list[RhythmEpisode]:
        """AF and sinus episodes of ``record`` from its beats and the model's windows."""
        result = classify_rhythm(record, self.model, lead=self.lead, workers=self.workers)
        valid = result.window_valid
        starts, ends = result.window_start_s[valid], result.window_end_s[valid]
        p_af = result.window_proba[valid, result.classes.index(self.model.af_class)]
        fs, prm = record.fs, self.params
        rpeaks = np.asarray(beats, np.int64)
        t = rpeaks / fs
        readable = _beat_spans(t, interval_ok, record.duration, prm.max_rr_s)
        rule_labels = np.asarray(labels).astype(str)
        rule_labels = np.where(rule_labels == "S", "N", rule_labels)
        irregularity = irregularity_score(rpeaks, fs, rule_labels, interval_ok, prm)
        _, irregular, measured = irregularity
        rule = rule_episodes(rpeaks, fs, rule_labels, interval_ok, readable, params=prm, irregularity=irregularity)
        min_s = min(prm.min_duration_s, 0.5 * record.duration)
        af: list[RhythmEpisode] = []
        for a, b, rule_a, rule_b in self._af_spans(rule, starts, ends, p_af, result.window_s):
            # the RR change point near the span's edge; failing that the rule's edge; failing that the windows'
            a = _first_given(_refine_edge(t, irregular, measured, a, result.window_s, prm.score_threshold,
                                          onset=True), rule_a, a)
            b = _first_given(_refine_edge(t, irregular, measured, b, result.window_s, prm.score_threshold,
                                          onset=False), rule_b, b)
            for a, b in _intersect([(a, b)], readable):
                if b - a < min_s:
                    continue
                i, j = int(np.searchsorted(t, a, side="left")), int(np.searchsorted(t, b, side="right"))
                p = _overlap_mean(a, b, starts, ends, p_af)
                inner = measured[i:max(j - 1, i)]
                irr = (float((irregular[i:max(j - 1, i)] * inner).sum() / inner.sum())
                       if inner.sum() >= prm.window / 2 else None)
                af.append(RhythmEpisode(
                    rhythm="AF", name=NAMES["AF"], start_s=float(a), end_s=float(b),
                    mean_hr_bpm=_mean_hr(rpeaks, fs, i, j - 1) if j - i >= 2 else None,
                    confidence=float(np.clip(p, 0, 1)),
                    evidence={"p_af_model": p, "n_windows": float(((starts < b) & (ends > a)).sum()),
                              "irregular_fraction": irr, "p_wave_fraction": None, "n_beats": float(j - i)}))
        af.sort(key=lambda e: e.start_s)
        rest = []
        for e in _sinus_between(af, rpeaks, fs, readable):
            p = _overlap_mean(e.start_s, e.end_s, starts, ends, p_af)
            if e.rhythm == "sinus" and p is not None:
                e = e.model_copy(update={"confidence": float(np.clip(1.0 - p, 0, 1)),
                                         "evidence": {**e.evidence, "p_af_model": p}})
            rest.append(e)
        return sorted(af + rest, key=lambda e: e.start_s)
