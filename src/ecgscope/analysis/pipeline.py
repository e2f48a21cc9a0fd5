"""``analyze(record) -> Report``: the end-to-end pipeline of one ECG.

read → quality → beats → labels → rhythm → ectopy → heart rate, HRV,
intervals → findings → provenance. The signal is processed in chunks
(``chunk_s``, with ``overlap_s`` of context on each side) so a 24-hour Holter
needs the memory of one chunk; beats are kept only in a chunk's core and
de-duplicated at the seams. Windows judged unreadable by
:func:`~ecgscope.signal.quality.signal_quality` are reported as such and no
beat is kept inside them. Delineation (intervals, P-wave check) runs on a
subsample of short windows, so its cost does not grow with the record.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Optional, Union

import numpy as np
import pandas as pd

from .. import __version__
from ..errors import ECGScopeError, EmptySignalError, ModelError, SamplingRateError
from ..record import Record
from .ectopy import summarize_ectopy
from .findings import build_findings
from .report import (BeatTable, HeartRateTrend, HRVSummary, IntervalSummary, Provenance, QualitySegment,
                     RecordInfo, Report, finite_or_none)
from .rhythm_rules import RhythmDetector, RuleParams, rule_episodes

__all__ = ["analyze", "BeatClassifier", "AAMI_CLASSES", "resolve_classifier"]

AAMI_CLASSES = ("N", "S", "V", "F", "Q")
#: ``f(record, rpeaks) -> DataFrame`` with ``label`` and per-class probability columns (as ``classify_beats``).
BeatClassifier = Callable[[Record, np.ndarray], pd.DataFrame]
_MIN_FS = 50.0
_SEAM_S = 0.2  # two beats closer than this across a chunk seam are one beat
_MAX_RR_S = 3.0


# ------------------------------------------------------------------ beat classifier adapter
def resolve_classifier(beat_model: Union[str, BeatClassifier, None]) -> tuple[Optional[BeatClassifier], dict]:
    """The classifier callable for ``beat_model`` and its provenance (``name``, ``card_hash``).

    A string (or path) names a model for :func:`ecgscope.analysis.classify.classify_beats`;
    a callable is used as is (tests inject stand-ins); ``None`` leaves beats unlabelled.
    """
    if beat_model is None:
        return None, {"name": None, "card_hash": None}
    if callable(beat_model):
        return beat_model, {"name": getattr(beat_model, "__name__", type(beat_model).__name__), "card_hash": None}
    try:
        from . import classify
    except ImportError:
        raise ModelError("the beat classifier (ecgscope.analysis.classify) is not installed",
                         fix="pass beat_model=None to analyse without beat labels") from None
    loaded = classify.load_beat_classifier(beat_model)  # ModelError (with its fix) when missing

    def run(record: Record, rpeaks: np.ndarray) -> pd.DataFrame:
        return classify.classify_beats(record, model=loaded, rpeaks=rpeaks)

    run.__name__ = f"classify_beats[{loaded.name}]"
    return run, {"name": loaded.name, "card_hash": loaded.hash}


def _prob_column(frame: pd.DataFrame, cls: str) -> Optional[str]:
    for name in (f"p_{cls}", f"prob_{cls}", f"P_{cls}", f"p({cls})", cls):
        if name in frame.columns:
            return name
    return None


def _labels_from_frame(frame: pd.DataFrame, rpeaks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Label and its probability per beat of ``rpeaks`` from a classifier's frame (Q/NaN if missing).

    The probability is NaN where the label is not the classifier's most probable class (a rule set it).
    """
    labels = np.full(rpeaks.size, "Q", dtype=object)
    probs = np.full(rpeaks.size, np.nan)
    if frame is None or len(frame) == 0 or "label" not in frame:
        return labels, probs
    idx = np.arange(len(frame))
    if "sample" in frame and (len(frame) != rpeaks.size or not np.array_equal(frame["sample"].to_numpy(), rpeaks)):
        pos = np.searchsorted(rpeaks, frame["sample"].to_numpy())
        ok = (pos < rpeaks.size) & (rpeaks[np.minimum(pos, rpeaks.size - 1)] == frame["sample"].to_numpy())
        idx, target = idx[ok], pos[ok]
    else:
        target = idx
    lab = frame["label"].astype(str).to_numpy()[idx]
    labels[target] = lab
    if "probability" in frame:
        probs[target] = frame["probability"].to_numpy(float)[idx]
    else:
        cols = {c: _prob_column(frame, c) for c in AAMI_CLASSES}
        table = np.stack([frame[cols[c]].to_numpy(float)[idx] if cols[c] else np.full(idx.size, np.nan)
                          for c in AAMI_CLASSES], axis=1)
        which = np.array([AAMI_CLASSES.index(x) if x in AAMI_CLASSES else 4 for x in lab], dtype=int)
        if idx.size:  # a label the classifier did not give (set by a rule, e.g. premature beats) has no probability
            given = np.where(np.isfinite(table), table, -np.inf).argmax(axis=1) == which
            probs[target] = np.where(given, table[np.arange(idx.size), which], np.nan)
    return labels, probs


# ------------------------------------------------------------------ chunked detection
@dataclass
class _Beats:
    sample: np.ndarray
    confidence: np.ndarray
    label: np.ndarray
    prob: np.ndarray
    chunk: np.ndarray


@dataclass
class _Quality:
    start: np.ndarray
    stop: np.ndarray
    score: np.ndarray
    usable: np.ndarray
    reasons: list[list[str]]


def _window_reasons(q, i: int) -> list[str]:
    """Metrics flagged in every lead for window ``i`` (else in any lead)."""
    every = [k for k, f in q.flags.items() if f[:, i].all()]
    return every or [k for k, f in q.flags.items() if f[:, i].any()]


def _chunked_beats(record: Record, chunk: int, overlap: int, window_s: float, method: str,
                   classifier: Optional[BeatClassifier], warn: list[str]) -> tuple[_Beats, _Quality]:
    from ..signal.quality import quality_mask, signal_quality
    from ..signal.rpeaks import find_rpeaks_with_confidence

    n, fs = record.n_samples, record.fs
    parts: list[tuple] = []
    qparts: list[tuple] = []
    for k, a in enumerate(range(0, n, chunk)):
        b = min(a + chunk, n)
        lo, hi = max(0, a - overlap), min(n, b + overlap)
        x = record.signal[:, lo:hi]
        pos, conf = find_rpeaks_with_confidence(x, fs, method=method, nan_policy="mask")
        core = (pos >= a - lo) & (pos < b - lo)
        q = signal_quality(record.signal[:, a:b], fs, window=window_s, rpeaks=pos[core] - (a - lo),
                           leads=record.leads)
        bad = quality_mask(q)
        keep = core & ~bad[np.clip(pos - (a - lo), 0, b - a - 1)]
        labels = np.full(pos.size, "Q", dtype=object)
        probs = np.full(pos.size, np.nan)
        if classifier is not None and keep.any():
            try:
                labels, probs = _labels_from_frame(classifier(record.crop(lo, hi), pos), pos)
            except ECGScopeError as exc:
                warn.append(f"beat classification failed in {a / fs:.0f}-{b / fs:.0f} s: {exc}")
        parts.append((pos[keep] + lo, conf[keep], labels[keep], probs[keep], np.full(int(keep.sum()), k)))
        reasons = [[] if q.combined_usable[i] else _window_reasons(q, i) for i in range(q.n_windows)]
        qparts.append((q.start + a, q.stop + a, q.combined_score, q.combined_usable, reasons))
    beats = _Beats(*(np.concatenate([p[i] for p in parts]) for i in range(5)))
    beats.label = beats.label.astype(object)
    beats = _dedupe_seams(beats, int(round(_SEAM_S * fs)))
    quality = _Quality(*(np.concatenate([p[i] for p in qparts]) for i in range(4)),
                       reasons=[r for p in qparts for r in p[4]])
    return beats, quality


def _dedupe_seams(b: _Beats, tol: int) -> _Beats:
    """Drop the less confident of two beats closer than ``tol`` samples on either side of a seam."""
    if b.sample.size < 2:
        return b
    close = (np.diff(b.sample) < tol) & (np.diff(b.chunk) != 0)
    drop = np.zeros(b.sample.size, bool)
    i = np.flatnonzero(close)
    first_weaker = b.confidence[i] < b.confidence[i + 1]
    drop[i[first_weaker]] = True
    drop[i[~first_weaker] + 1] = True
    keep = ~drop
    return _Beats(b.sample[keep], b.confidence[keep], b.label[keep], b.prob[keep], b.chunk[keep])


# ------------------------------------------------------------------ quality segments
def _quality_segments(q: _Quality, fs: float) -> list[QualitySegment]:
    """Merge runs of windows with the same verdict (and, when unreadable, the same reasons)."""
    keys = [(bool(u), tuple(r)) for u, r in zip(q.usable, q.reasons)]
    out: list[QualitySegment] = []
    i = 0
    while i < len(keys):
        j = i
        while j + 1 < len(keys) and keys[j + 1] == keys[i]:
            j += 1
        start = max(q.start[i] / fs, out[-1].end_s if out else 0.0)  # the end-aligned last window overlaps
        if q.stop[j] / fs > start:
            out.append(QualitySegment(start_s=start, end_s=q.stop[j] / fs, readable=keys[i][0],
                                      score=float(np.clip(q.score[i:j + 1].mean(), 0, 1)), reasons=list(keys[i][1])))
        i = j + 1
    return out


def _interval_ok(sample: np.ndarray, q: _Quality, fs: float) -> np.ndarray:
    """Per RR interval: no unreadable window in between and RR below 3 s."""
    if sample.size < 2:
        return np.zeros(0, bool)
    w = np.clip(np.searchsorted(q.start, sample, side="right") - 1, 0, q.start.size - 1)
    bad = np.concatenate([[0], np.cumsum(~q.usable)])
    crossed = bad[w[1:] + 1] - bad[w[:-1]] > 0
    return ~crossed & (np.diff(sample) < _MAX_RR_S * fs)


# ------------------------------------------------------------------ measurements
def _heart_rate_trend(sample: np.ndarray, ok: np.ndarray, fs: float, duration: float, bin_s: float) -> HeartRateTrend:
    n_bins = max(int(np.ceil(duration / bin_s)), 1)
    starts = (np.arange(n_bins) * bin_s).tolist()
    hr = np.full(n_bins, np.nan)
    if ok.any():
        rr = np.diff(sample)[ok] / fs
        t = sample[1:][ok] / fs
        frame = pd.DataFrame({"bin": np.minimum((t // bin_s).astype(int), n_bins - 1), "hr": 60.0 / rr})
        med = frame.groupby("bin")["hr"].median()
        hr[med.index.to_numpy()] = med.to_numpy()
    finite = hr[np.isfinite(hr)]
    all_hr = 60.0 * fs / np.diff(sample)[ok] if ok.any() else np.zeros(0)
    return HeartRateTrend(
        bin_s=bin_s, time_s=starts, hr_bpm=[finite_or_none(v) for v in hr],
        min_bpm=finite_or_none(finite.min()) if finite.size else None,
        max_bpm=finite_or_none(finite.max()) if finite.size else None,
        mean_bpm=finite_or_none(all_hr.mean()) if all_hr.size else None)


def _windows_in(spans: list[tuple[float, float]], length_s: float, count: int) -> list[tuple[float, float]]:
    """Up to ``count`` windows of ``length_s`` spread evenly over the spans (shorter spans: whole)."""
    pieces = []
    for a, b in spans:
        k = int((b - a) // length_s)
        pieces += [(a + i * length_s, a + (i + 1) * length_s) for i in range(k)] or ([(a, b)] if b - a >= 3.0 else [])
    if len(pieces) <= count:
        return pieces
    pick = np.unique(np.linspace(0, len(pieces) - 1, count).round().astype(int))
    return [pieces[i] for i in pick]


def _delineated_beats(record: Record, beats: _Beats, spans: list[tuple[float, float]], max_beats: int,
                      window_s: float = 10.0) -> pd.DataFrame:
    """Per-beat intervals (ms) of beats in windows sampled from ``spans`` (edges excluded), with labels."""
    from ..signal.delineation import delineate, intervals

    fs = record.fs
    per_window = max(window_s * 1.5, 1.0)  # ~90 bpm
    frames = []
    for a, b in _windows_in(spans, window_s, max(int(np.ceil(max_beats / per_window)), 1)):
        lo, hi = int(round(a * fs)), int(round(b * fs))
        x = record.signal[:, lo:hi]
        if not np.isfinite(x).all():
            continue
        i, j = np.searchsorted(beats.sample, [lo, hi])
        r = beats.sample[i:j] - lo
        if r.size < 3:
            continue
        table = intervals(delineate(x, fs, r, leads=record.leads)).beats
        table["label"] = beats.label[i:j]
        inner = (r > 0.6 * fs) & (r < (hi - lo) - 0.6 * fs)
        inner[0] = False  # no preceding RR inside the window
        frames.append(table[inner])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _interval_summary(table: pd.DataFrame, labelled: bool) -> IntervalSummary:
    from ..signal.delineation import qtc

    if table.empty:
        return IntervalSummary(available=False, reason="no readable sinus beats to delineate")
    normal = table[table["label"] == "N"] if labelled else table[table["label"] != "V"]
    if len(normal) < 3:
        return IntervalSummary(available=False, reason="fewer than 3 normal beats could be delineated")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = {c: float(np.nanmedian(normal[c])) if normal[c].notna().any() else float("nan")
               for c in ("RR", "PR", "P", "QRS", "QT")}
    return IntervalSummary(
        available=True, n_beats=int(len(normal)), HR=finite_or_none(60000.0 / med["RR"]) if med["RR"] > 0 else None,
        RR=finite_or_none(med["RR"]), PR=finite_or_none(med["PR"]), P=finite_or_none(med["P"]),
        QRS=finite_or_none(med["QRS"]), QT=finite_or_none(med["QT"]),
        QTc_Bazett=finite_or_none(qtc(med["QT"], med["RR"], "bazett")),
        QTc_Fridericia=finite_or_none(qtc(med["QT"], med["RR"], "fridericia")),
        p_wave_fraction=finite_or_none(normal["PR"].notna().mean()))


_HRV_KEYS = ("MeanNN", "SDNN", "RMSSD", "pNN50", "SDANN", "SDNNI", "HTI", "MeanHR", "VLF", "LF", "HF", "LFHF",
             "LFnu", "HFnu", "TP", "SD1", "SD2", "SampEn", "DFA_alpha1", "DFA_alpha2", "ArtefactPercent", "Duration")


def _hrv_summary(sample: np.ndarray, labels: np.ndarray, ok: np.ndarray, fs: float,
                 af: list[tuple[float, float]], labelled: bool) -> HRVSummary:
    from ..signal.heart_rate_variability import hrv

    lab = labels.astype(object).copy()
    if not labelled:
        lab[:] = "N"
    t = sample / fs
    for a, b in af:
        lab[(t >= a) & (t <= b)] = "AF"
    if lab.size > 1:
        lab[1:][~ok] = "gap"  # the interval ending at this beat spans unreadable signal
    n_nn = int(((lab[1:] == "N") & (lab[:-1] == "N")).sum()) if lab.size > 1 else 0
    if n_nn < 30:
        return HRVSummary(available=False, n_nn=n_nn,
                          reason=f"{n_nn} NN intervals in sinus rhythm (need 30; HRV needs minutes of normal beats)")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            values = hrv(sample, fs, labels=lab)
    except ECGScopeError as exc:
        return HRVSummary(available=False, n_nn=n_nn, reason=exc.problem)
    kept = {k: finite_or_none(values.get(f"HRV_{k}")) for k in _HRV_KEYS if f"HRV_{k}" in values}
    reason = None if (kept.get("Duration") or 0) >= 300 else "shorter than 5 min: frequency-domain indices are unreliable"
    return HRVSummary(available=True, reason=reason, n_nn=n_nn, duration_s=kept.get("Duration"), values=kept)


# ------------------------------------------------------------------ provenance
def _sha256_signal(signal: np.ndarray) -> str:
    digest = hashlib.sha256()
    arr = np.ascontiguousarray(signal, dtype=np.float32)
    flat = arr.reshape(-1)
    step = 1 << 22
    for i in range(0, flat.size, step):
        digest.update(memoryview(flat[i:i + step]))
    return digest.hexdigest()


def _sha256_file(path: Optional[str]) -> Optional[str]:
    if not path or not Path(path).is_file():
        return None
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _record_info(record: Record) -> RecordInfo:
    md = record.metadata
    return RecordInfo(record_id=md.record_id, patient_id=md.patient_id, age=finite_or_none(md.age), sex=md.sex,
                      fs=record.fs, n_leads=record.n_leads, leads=list(record.leads), n_samples=record.n_samples,
                      duration_s=record.duration, start_time=md.start_time, source=md.source,
                      database=md.database, diagnoses=[str(d) for d in md.diagnoses])


def _check(record: Any) -> Record:
    if not isinstance(record, Record):
        raise ECGScopeError(f"analyze() needs a Record, got {type(record).__name__}",
                            fix="read the file first: ecgscope.read(path)")
    src = record.metadata.source
    if record.n_samples == 0 or record.n_leads == 0:
        raise EmptySignalError("the record holds no samples", path=src, fix="check the file or export")
    if record.fs < _MIN_FS:
        raise SamplingRateError(f"sampling rate {record.fs:g} Hz is too low for beat detection",
                                path=src, fix=f"use a recording sampled at {_MIN_FS:g} Hz or more")
    if record.duration < 1.0:
        raise EmptySignalError(f"the record is only {record.duration:.2f} s long", path=src,
                               fix="analyse at least 1 s (a rhythm needs several beats)")
    return record


# ------------------------------------------------------------------ analyze
def _conducted_in_af(labels: np.ndarray, times: np.ndarray, af_spans: list[tuple[float, float]]) -> np.ndarray:
    """Relabel S beats inside AF episodes as N (conducted AF beats, as MIT-BIH annotates them).

    Without organised atrial activity there are no atrial premature beats: an
    early beat in AF is a conducted fibrillation beat, so counting it as an APC
    (or an SVT run) would be wrong.
    """
    if not af_spans:
        return labels
    edges = np.asarray(af_spans, dtype=float).ravel()
    inside = (np.searchsorted(edges, times, side="right") % 2) == 1
    return np.where(inside & (labels == "S"), "N", labels)


def analyze(
    record: Record,
    *,
    beat_model: Union[str, BeatClassifier, None] = "default",
    rhythm_model: Union[str, RhythmDetector, None] = None,
    chunk_s: float = 600.0,
    overlap_s: float = 5.0,
    quality_window_s: float = 10.0,
    trend_bin_s: Optional[float] = None,
    max_delineated_beats: int = 300,
    rpeak_method: str = "ecgscope",
    rule_params: RuleParams = RuleParams(),
) -> Report:
    """Analyse one ECG end to end and return its :class:`~ecgscope.analysis.report.Report`.

    Args:
        record: the ECG (any number of leads, any length from 1 s to days).
        beat_model: shipped beat model name (``"default"``), a classifier callable
            ``f(record, rpeaks) -> DataFrame`` (columns ``label`` and ``p_N``...), or
            ``None`` for unlabelled beats.
        rhythm_model: ``None`` for the RR-irregularity + P-wave rules; a rhythm model name or
            checkpoint folder (``"default"``: the shipped ``rhythm-default``) run by
            :class:`~ecgscope.analysis.rhythm.ModelRhythmDetector`; or any
            :class:`~ecgscope.analysis.rhythm_rules.RhythmDetector` (the rhythm-model hook).
        chunk_s, overlap_s: processing chunk and its context on each side (s).
        quality_window_s: signal-quality window (s).
        trend_bin_s: heart-rate trend bin (default 10 s up to 30 min, else 60 s).
        max_delineated_beats: beats delineated for intervals (sampled over the record).
        rpeak_method: R-peak detector (see :data:`~ecgscope.signal.rpeaks.RPEAK_METHODS`).
        rule_params: thresholds of the rhythm rules.

    Raises:
        ECGScopeError: for input that cannot be analysed (empty, too short, fs too low).
    """
    t0 = time.perf_counter()
    record = _check(record)
    if chunk_s <= 2 * quality_window_s or overlap_s < 0:
        raise ECGScopeError(f"chunk_s={chunk_s:g} must exceed two quality windows and overlap_s={overlap_s:g} be >= 0",
                            fix="use the defaults (chunk_s=600, overlap_s=5)")
    fs = record.fs
    classifier, model_info = resolve_classifier(beat_model)
    if isinstance(rhythm_model, (str, Path)):
        from .rhythm import ModelRhythmDetector

        rhythm_model = ModelRhythmDetector(rhythm_model)  # ModelError (with its fix) when missing
    warn: list[str] = []
    chunk = int(round(np.ceil(chunk_s / quality_window_s) * quality_window_s * fs))
    beats, quality = _chunked_beats(record, chunk, int(round(overlap_s * fs)), quality_window_s, rpeak_method,
                                    classifier, warn)
    labelled = classifier is not None and not warn
    segments = _quality_segments(quality, fs)
    readable_spans = [(s.start_s, s.end_s) for s in segments if s.readable]
    readable_s = sum(b - a for a, b in readable_spans)
    ok = _interval_ok(beats.sample, quality, fs)
    labels = beats.label.astype(str)

    def p_wave_fraction(a: float, b: float) -> Optional[float]:
        table = _delineated_beats(record, beats, [(a, b)], 60)
        table = table[table["label"] != "V"] if not table.empty else table
        return None if len(table) < 5 else float(table["PR"].notna().mean())

    if rhythm_model is not None:
        rhythm = list(rhythm_model(record, beats.sample, labels, ok))
        rhythm_method = getattr(rhythm_model, "__name__", type(rhythm_model).__name__)
    else:
        rhythm = rule_episodes(beats.sample, fs, labels, ok, readable_spans, p_wave_fraction=p_wave_fraction,
                               params=rule_params)
        rhythm_method = "rules: RR irregularity + P-wave absence"
    af_spans = [(e.start_s, e.end_s) for e in rhythm if e.rhythm == "AF"]
    sinus_spans = [(e.start_s, e.end_s) for e in rhythm if e.rhythm == "sinus"]
    times = beats.sample / fs
    labels = _conducted_in_af(labels, times, af_spans)
    ectopy = summarize_ectopy(labels, times, np.flatnonzero(~ok) + 1, readable_s, labelled)
    bin_s = trend_bin_s or (10.0 if record.duration <= 1800 else 60.0)
    table = _delineated_beats(record, beats, sinus_spans or readable_spans, max_delineated_beats)
    report = Report(
        record=_record_info(record),
        quality=segments,
        readable_fraction=readable_s / record.duration,
        beats=BeatTable(sample=beats.sample.tolist(), time_s=np.round(times, 4).tolist(), label=labels.tolist(),
                        probability=[finite_or_none(p) for p in beats.prob],
                        classifier=model_info["name"] if labelled else None),
        rhythm=rhythm,
        heart_rate=_heart_rate_trend(beats.sample, ok, fs, record.duration, bin_s),
        ectopy=ectopy,
        hrv=_hrv_summary(beats.sample, labels, ok, fs, af_spans, labelled),
        intervals=_interval_summary(table, labelled),
        warnings=warn + ([] if classifier is not None else ["beats are unlabelled: no beat classifier was used"]),
        provenance=Provenance(
            ecgscope_version=__version__,
            created_utc=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            input_sha256=_sha256_signal(record.signal), source=record.metadata.source,
            source_sha256=_sha256_file(record.metadata.source),
            models={"beats": model_info, **({"rhythm": rhythm_model.model_info}
                                             if hasattr(rhythm_model, "model_info") else {})},
            rhythm_method=rhythm_method,
            parameters={"beat_model": model_info["name"], "chunk_s": chunk_s, "overlap_s": overlap_s,
                        "quality_window_s": quality_window_s, "trend_bin_s": bin_s,
                        "max_delineated_beats": max_delineated_beats, "rpeak_method": rpeak_method,
                        "rule_params": vars(rule_params) if rhythm_model is None else None}),
    )
    report.findings = build_findings(report)
    report.provenance.elapsed_s = round(time.perf_counter() - t0, 3)
    return report
