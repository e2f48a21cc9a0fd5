"""Beat classification of any record with a self-describing checkpoint: ``classify_beats``.

The checkpoint's card drives everything: the beats are cut with
:meth:`BeatDatasetConfig.from_card` (lead, sampling rate -- the record is
resampled to it --, window, band-pass, per-beat normalisation, RR features)
by :func:`ecgscope.datasets.beats.extract_beats`, standardised with the
card's training statistics and classified. Beats come from
:func:`ecgscope.signal.find_rpeaks` unless given. Loaded models are cached
(``functools.lru_cache`` on the resolved folder and its files' mtimes).

    beats = classify_beats(ecgscope.read("mitdb/208"))        # shipped default model
    beats.label.value_counts()                                  # N, S, V, F
"""

from __future__ import annotations

import dataclasses
import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from ..errors import ModelError, SignalError
from ..record import Record

__all__ = ["BeatClassifier", "load_beat_classifier", "classify_beats", "UNCLASSIFIED"]

#: Label of beats whose window holds non-finite samples (AAMI Q: unclassifiable).
UNCLASSIFIED = "Q"
#: Use a model's fast record path (``has_record_logits``) when its beats carry neighbours (tests turn it off).
_USE_RECORD_LOGITS = True


@dataclass(frozen=True, eq=False)
class BeatClassifier:
    """A checkpoint loaded for inference: the model (eval, CPU), its card, beat config and hash.

    An ensemble folder (:mod:`ecgscope.models.ensemble`) loads as a classifier
    without a model of its own: ``members`` holds ``(weight, BeatClassifier)``
    pairs, ``card`` the ensemble's card and ``config`` its first member's.
    """

    directory: Path
    model: Any
    card: dict
    config: Any  # BeatDatasetConfig of the card, cutting every given beat (drop_invalid=False)
    hash: str
    members: tuple = ()

    @property
    def classes(self) -> tuple[str, ...]:
        """Output classes, in probability-column order."""
        return tuple(self.card["classes"])

    @property
    def name(self) -> str:
        """Folder name of the checkpoint (``beats-default``)."""
        return self.directory.name

    @property
    def parts(self) -> tuple:
        """``(weight, classifier)`` pairs whose probabilities are averaged: the members, or itself."""
        return self.members or ((1.0, self),)


def _load_checkpoint(directory: Path) -> BeatClassifier:
    from ..datasets.beats import BeatDatasetConfig
    from ..models.checkpoint import card_hash, load_checkpoint

    model, card = load_checkpoint(directory)
    config = dataclasses.replace(BeatDatasetConfig.from_card(card), drop_invalid=False, exclude_paced=False)
    return BeatClassifier(directory, model, card, config, card_hash(directory))


@functools.lru_cache(maxsize=8)
def _load(directory: str, stamp: tuple) -> BeatClassifier:
    from ..models.checkpoint import read_card_json
    from ..models.ensemble import ensemble_hash, is_ensemble, member_folders, read_ensemble_card

    if not is_ensemble(read_card_json(directory)):
        return _load_checkpoint(Path(directory))
    card = read_ensemble_card(directory)
    members = tuple((weight, _load_checkpoint(folder)) for folder, weight in member_folders(directory, card))
    return BeatClassifier(Path(directory), None, card, members[0][1].config, ensemble_hash(directory, card),
                          members)


def load_beat_classifier(model: str | os.PathLike | BeatClassifier = "default") -> BeatClassifier:
    """Load (or take from the cache) a checkpoint or ensemble by shipped name (``"default"``) or folder."""
    if isinstance(model, BeatClassifier):
        return model
    from ..models.pretrained import resolve_model

    directory = resolve_model(model)
    return _load(str(directory), checkpoint_stamp(directory))


def checkpoint_stamp(directory: Path) -> tuple:
    """Modification times of the cards and weights of a checkpoint and its members (a cache key part
    that sees re-saved models)."""
    folders = [directory, *sorted(p.parent for p in directory.glob("*/card.json"))]
    return tuple(p.stat().st_mtime_ns if p.is_file() else 0
                 for folder in folders for p in (folder / "card.json", folder / "model.safetensors"))


# ------------------------------------------------------------------ inputs
def _as_record(record, who: str = "classify_beats") -> Record:
    if isinstance(record, Record):
        return record
    if isinstance(record, (str, os.PathLike)):
        from ..io import read

        return read(record, nonfinite="keep")
    raise SignalError(f"{who} needs a Record or a file path, got {type(record).__name__}",
                      fix="pass ecgscope.read(path) or the path itself")


def _lead_indices(record: Record, wanted: Sequence[str], lead) -> list[int]:
    """Rows of ``record`` standing for the model's leads ``wanted``."""
    source = record.metadata.source or record.metadata.record_id or "record"
    if lead is not None:
        chosen = [lead] if isinstance(lead, (str, int, np.integer)) else list(lead)
        if len(chosen) != len(wanted):
            raise ModelError(f"the model reads {len(wanted)} lead(s) ({', '.join(wanted)}), "
                             f"got lead={lead!r}",
                             fix=f"pass {len(wanted)} lead name(s) or index(es)")
    elif record.n_leads == 1 and len(wanted) == 1:
        chosen = [0]  # a single-lead record: its lead stands in for the model's
    else:
        chosen = list(wanted)
    try:
        return [record.lead_index(x) for x in chosen]
    except KeyError:
        raise ModelError(f"the record has leads {', '.join(record.leads)}, and the model needs "
                         f"{', '.join(map(str, chosen))}", path=source,
                         fix="pass lead=<name or index> (--lead) to choose the lead to classify") from None


def _fill_gaps(signal: np.ndarray, source) -> tuple[np.ndarray, np.ndarray | None]:
    """Linear interpolation across non-finite samples; returns the filled signal and the bad-sample mask."""
    bad = ~np.isfinite(signal)
    if not bad.any():
        return signal, None
    out = signal.astype(np.float32, copy=True)
    x = np.arange(signal.shape[1])
    for i in range(signal.shape[0]):
        ok = ~bad[i]
        if not ok.any():
            raise SignalError(f"lead {i} holds no finite sample", path=source,
                              fix="choose another lead (lead=...) or repair the recording")
        out[i, bad[i]] = np.interp(x[bad[i]], x[ok], signal[i, ok])
    return out, bad.any(axis=0)


def _positions(record: Record, rpeaks, method: str) -> np.ndarray:
    n = record.n_samples
    if rpeaks is None:
        from ..signal import find_rpeaks

        return np.unique(find_rpeaks(record.signal, record.fs, method=method, nan_policy="mask"))
    pos = np.asarray(rpeaks, dtype=np.float64).reshape(-1)
    if pos.size and (not np.all(np.isfinite(pos)) or pos.min() < 0 or pos.max() >= n):
        raise SignalError(f"rpeaks must be sample indices in [0, {n}), got values from "
                          f"{np.nanmin(pos):g} to {np.nanmax(pos):g}",
                          fix="pass R-peak positions in samples at the record's own fs")
    return np.unique(np.rint(pos).astype(np.int64))


def _span(configs) -> tuple[float, float]:
    """Seconds before / after the R peak covered by the configs' main and extra windows."""
    windows = [w for config in configs for w in (config.window, *config.extra_windows)]
    return max(w[0] for w in windows), max(w[1] for w in windows)


def _valid(pos: np.ndarray, n: int, fs: float, configs, gaps: np.ndarray | None
           ) -> tuple[np.ndarray, np.ndarray]:
    """``(inside, finite)``: every window within the signal; every window free of non-finite samples."""
    before, after = _span(configs)
    lo = pos - int(np.ceil(before * fs))
    hi = pos + int(np.ceil(after * fs))
    inside = (lo >= 0) & (hi < n)
    if gaps is None:
        return inside, np.ones(pos.size, bool)
    cum = np.concatenate([[0], np.cumsum(gaps, dtype=np.int64)])
    finite = (cum[np.clip(hi + 1, 0, n)] - cum[np.clip(lo, 0, n)]) == 0
    return inside, finite


def _empty(classes) -> pd.DataFrame:
    frame = pd.DataFrame({"sample": np.zeros(0, np.int64), "time_s": np.zeros(0), "label": np.zeros(0, str)})
    for c in classes:
        frame[f"p_{c}"] = np.zeros(0, np.float32)
    frame["valid"] = np.zeros(0, bool)
    return frame


# ------------------------------------------------------------------ inference
def _probabilities(clf: BeatClassifier, lead_record: Record, pos: np.ndarray, batch_size: int) -> np.ndarray:
    """Class probabilities for the beats at ``pos``: the checkpoint's, or its members' weighted mean."""
    if clf.members:
        total = sum(w * _probabilities(m, lead_record, pos, batch_size) for w, m in clf.members)
        return (total / sum(w for w, _ in clf.members)).astype(np.float32)
    from ..datasets.beats import extract_beats
    from ..models.checkpoint import card_temperature
    from ..training.calibration import activate
    from ..training.trainer import predict_proba

    config = clf.config
    fast = _USE_RECORD_LOGITS and getattr(clf.model, "has_record_logits", False) and config.context_beats > 0
    if fast:  # the model gathers each beat's neighbours itself: cut each beat's own windows only
        config = dataclasses.replace(config, context_beats=0)
    beats = extract_beats(lead_record, config, positions=pos,
                          record_id=str(lead_record.metadata.record_id or "record"))
    temperature = card_temperature(clf.card)
    if fast:
        logits = clf.model.record_logits(beats.x, beats.rr, clf.card["normalisation"],
                                         batch_size=min(int(batch_size), 256))
        return activate(logits, "softmax", temperature).numpy()
    return predict_proba(clf.model, beats, clf.card["normalisation"], batch_size=batch_size,
                         temperature=temperature)


def classify_beats(record, model="default", rpeaks=None, lead=None, batch_size: int = 1024, *,
                   method: str = "ecgscope") -> pd.DataFrame:
    """Label every beat of ``record`` with an AAMI class; one row per beat.

    Args:
        record: a :class:`~ecgscope.record.Record` (any fs, any leads) or a file path.
        model: shipped name (``"default"``), checkpoint or ensemble folder, or a :class:`BeatClassifier`.
            An ensemble averages its members' probabilities (each member with its own input).
        rpeaks: R-peak sample positions at the record's fs; detected with
            :func:`ecgscope.signal.find_rpeaks` (``method``, all leads) when ``None``.
        lead: the record's lead(s) to classify, by name or index (default the
            model's lead by canonical name -- ``II`` finds ``MLII`` --, or the
            only lead of a single-lead record).
        batch_size: beats per forward pass.
        method: R-peak detector when ``rpeaks`` is ``None``.

    Returns:
        A DataFrame with ``sample`` (int64), ``time_s``, ``label`` (AAMI letter),
        ``p_<class>`` probabilities (summing to 1) and ``valid`` (the beat's
        windows lie inside the signal and hold only finite samples). Beats whose
        window touches a non-finite sample are labelled ``Q`` (unclassifiable)
        with NaN probabilities; beats at the record's ends are edge-padded.
        When the card carries a premature-beat rule
        (:mod:`ecgscope.training.premature`) or a dominant-shape rule
        (:mod:`ecgscope.training.shape_rule`, on the model's first lead) the
        labels follow them, in that order, and the probabilities stay the
        model's. ``frame.attrs`` holds the model name, hash, fs and lead used
        (and each rule, with how many labels it changed).
    """
    from ..training.premature import PrematureRule, premature_features
    from ..training.shape_rule import ShapeRule, qrs_match

    clf = load_beat_classifier(model)
    record = _as_record(record)
    if record.n_samples == 0:
        raise SignalError("the record has no samples", path=record.metadata.source, fix="check the file")
    source = record.metadata.source or record.metadata.record_id
    rows = _lead_indices(record, clf.config.leads, lead)
    signal, gaps = _fill_gaps(record.signal[rows], source)
    pos = _positions(record, rpeaks, method)
    attrs = {"model": clf.name, "model_hash": clf.hash, "fs": record.fs, "model_fs": clf.config.fs,
             "leads": [record.leads[i] for i in rows], "detector": None if rpeaks is not None else method}
    if pos.size == 0:
        frame = _empty(clf.classes)
        frame.attrs.update(attrs)
        return frame
    lead_record = Record(signal=signal, fs=record.fs, leads=list(clf.config.leads),
                         metadata=record.metadata.copy())
    probs = _probabilities(clf, lead_record, pos, batch_size)
    inside, finite = _valid(pos, record.n_samples, record.fs, [m.config for _, m in clf.parts], gaps)
    labels = np.asarray(clf.classes, dtype=object)[probs.argmax(axis=1)]
    rule = PrematureRule.from_card(clf.card.get("premature_rule"))
    if rule is not None:
        model_labels = labels
        labels = rule.apply(labels, *premature_features(pos))
        attrs["premature_rule"] = {**rule.to_card(), "changed": int((labels != model_labels).sum())}
    shape = ShapeRule.from_card(clf.card.get("shape_rule"))
    if shape is not None:
        before = labels
        labels = shape.apply(labels, qrs_match(signal[0], record.fs, pos, labels == "N"))
        attrs["shape_rule"] = {**shape.to_card(), "changed": int((labels != before).sum())}
    if not finite.all():
        probs = probs.astype(np.float64)
        probs[~finite] = np.nan
        labels[~finite] = UNCLASSIFIED
    frame = pd.DataFrame({"sample": pos, "time_s": pos / record.fs, "label": labels.astype(str)})
    for i, c in enumerate(clf.classes):
        frame[f"p_{c}"] = probs[:, i]
    frame["valid"] = inside & finite
    frame.attrs.update(attrs)
    return frame
