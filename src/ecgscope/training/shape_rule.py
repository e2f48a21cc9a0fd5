"""The dominant-shape rule: a beat shaped like the record's normal beats is not ventricular.

A premature ventricular beat (AAMI V) is conducted abnormally, so its QRS
complex is unlike the record's conducted beats. Beat classifiers trained on
MIT-BIH DS1 call V on conducted beats that merely look unusual: the wide
beats of a bundle branch block (record 109, where every beat is wide) or
beats reshaped by noise and axis shifts. :class:`ShapeRule` states the
definition with one threshold: a beat the model calls ``V`` whose QRS
correlates at least :attr:`~ShapeRule.min_corr` with the median QRS of the
beats the model calls ``N`` in the same record becomes ``N``. Comparing with
the beats called N, not with every beat, keeps a record whose PVCs are the
majority (bigeminy) safe: its template is still the conducted beat.

:func:`fit_shape_rule` takes the threshold from the training records' labels
and signals alone (the model plays no part): the ``quantile`` (default
0.999) of the correlation of the training PVCs with their own record's N
beats, so at most one training PVC in a thousand would be relabelled.
:func:`qrs_match` measures the correlation on one lead, band-passed 0.5-40 Hz,
over :data:`ecgscope.signal.beats.QRS_REGION` around each R peak. Only labels
change; the probabilities stay the model's, and the card records the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ConfigError

__all__ = ["MIN_REFERENCE_BEATS", "ShapeRule", "check_quantile", "fit_shape_rule", "fit_shape_rule_on_beats",
           "qrs_match", "record_matches", "refit_shape_rule_by_fold"]

#: A record with fewer reference (N) beats than this has no template: its beats are left as they are.
MIN_REFERENCE_BEATS = 3


@dataclass(frozen=True)
class ShapeRule:
    """Threshold of the dominant-shape rule (see the module docstring).

    Attributes:
        min_corr: QRS correlation with the record's N template at or above which a beat called V becomes N.
        quantile: the quantile of the training PVCs' correlations it was fitted at (for the card).
        n_fitted: training PVCs it was fitted on (for the card).
    """

    min_corr: float
    quantile: float | None = None
    n_fitted: int | None = None

    def __post_init__(self) -> None:
        if not -1.0 <= float(self.min_corr) <= 1.0:
            raise ConfigError(f"min_corr={self.min_corr!r} must be a correlation in [-1, 1]", fix="use e.g. 0.97")

    def apply(self, labels: Sequence[str], match) -> np.ndarray:
        """``labels`` with the rule applied (a new object array); a NaN ``match`` leaves a beat unchanged."""
        out = np.asarray(labels, dtype=object).copy()
        m = np.asarray(match, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            out[(out == "V") & (m >= self.min_corr)] = "N"
        return out

    def to_card(self) -> dict[str, Any]:
        """The checkpoint card's ``shape_rule`` entry."""
        return {"min_corr": round(float(self.min_corr), 6), "quantile": self.quantile, "n_fitted": self.n_fitted,
                "feature": "QRS correlation with the median beat of the beats called N in the same record "
                           "(first lead, 0.5-40 Hz)",
                "fitted_on": "the training records' V beats against their N beats (labels and signals only)"}

    @classmethod
    def from_card(cls, entry: Mapping[str, Any] | None) -> ShapeRule | None:
        """The rule of a card entry (``None`` for none)."""
        if not entry:
            return None
        return cls(float(entry["min_corr"]), entry.get("quantile"), entry.get("n_fitted"))


def qrs_match(signal, fs: float, rpeaks, reference) -> np.ndarray:
    """Per beat: correlation of its QRS with the median QRS of the ``reference`` beats (a bool mask over
    ``rpeaks``), on the first lead band-passed 0.5-40 Hz; all NaN with fewer than
    :data:`MIN_REFERENCE_BEATS` reference beats."""
    return _qrs_matches(signal, fs, rpeaks, [reference])[0]


def _qrs_matches(signal, fs: float, rpeaks, references: Sequence) -> list[np.ndarray]:
    """:func:`qrs_match` for each of several reference masks, the lead filtered and cut once."""
    from ..signal.beats import QRS_REGION, _correlation, segment_beats
    from ..signal.filters import bandpass

    pos = np.asarray(rpeaks, dtype=np.int64).reshape(-1)
    refs = [np.asarray(ref, dtype=bool).reshape(-1) for ref in references]
    for ref in refs:
        if ref.size != pos.size:
            raise ConfigError(f"{ref.size} reference flags for {pos.size} beats", fix="pass one flag per beat")
    if all(ref.sum() < MIN_REFERENCE_BEATS for ref in refs):
        return [np.full(pos.size, np.nan) for _ in refs]
    x = np.atleast_2d(np.asarray(signal, dtype=np.float64))[0]
    x = bandpass(np.where(np.isfinite(x), x, 0.0), fs, 0.5, min(40.0, 0.45 * float(fs)))
    windows, _ = segment_beats(x, fs, pos, window=(-QRS_REGION[0], QRS_REGION[1]))
    qrs = windows[:, 0].astype(np.float64)
    return [np.full(pos.size, np.nan) if ref.sum() < MIN_REFERENCE_BEATS
            else _correlation(qrs, np.median(qrs[ref], axis=0)[None]) for ref in refs]


def check_quantile(quantile) -> float:
    """``quantile`` as a float when it is one the rule can be fitted at ([0.5, 1)); :class:`ConfigError` else."""
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0.5 <= quantile < 1.0:
        raise ConfigError(f"shape_rule quantile={quantile!r} must be in [0.5, 1)", fix="use e.g. 0.999")
    return float(quantile)


def fit_shape_rule(v_match, quantile: float = 0.999) -> ShapeRule:
    """The rule whose threshold is the ``quantile`` of the training PVCs' :func:`qrs_match` values (taken
    against their record's true N beats; NaN values, from records without N beats, are left out)."""
    quantile = check_quantile(quantile)
    values = np.asarray(v_match, dtype=np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise ConfigError("the shape rule needs V beats in records with N beats to fit on",
                          fix="train on records with ventricular ectopic beats, or leave the rule out")
    return ShapeRule(float(np.quantile(values, quantile)), quantile, int(values.size))


def fit_shape_rule_on_beats(beats, read_signal: Callable[[str], tuple[np.ndarray, float]],
                            quantile: float = 0.999) -> ShapeRule:
    """:func:`fit_shape_rule` on the labelled beats of a :class:`~ecgscope.datasets.beats.BeatSet`, each
    PVC matched against its own record's N beats (``read_signal(record_id)`` gives ``(lead, fs)``)."""
    labelled = np.asarray(beats.y) >= 0
    table = pd.DataFrame({"record_id": np.asarray(beats.record_id)[labelled],
                          "sample": np.asarray(beats.sample)[labelled],
                          "label": np.asarray(beats.classes, dtype=object)[np.asarray(beats.y)[labelled]]})
    (matches,) = record_matches(table, read_signal, "label")
    return fit_shape_rule(matches[table["label"].to_numpy() == "V"], quantile)


def record_matches(table, read_signal: Callable[[str], tuple[np.ndarray, float]], *label_columns: str
                   ) -> list[np.ndarray]:
    """:func:`qrs_match` of every row of a beat table (``record_id``, ``sample``), once per label column:
    each record's reference is its rows whose column is ``N``. ``read_signal(record_id)`` gives
    ``(lead, fs)``; each record is read and filtered once for all the columns."""
    out = [np.full(len(table), np.nan) for _ in label_columns]
    records = table["record_id"].astype(str).to_numpy()
    samples = table["sample"].to_numpy()
    labels = [table[c].to_numpy().astype(str) for c in label_columns]
    for rid in dict.fromkeys(records.tolist()):
        rows = np.flatnonzero(records == rid)
        x, fs = read_signal(rid)
        for column, match in zip(out, _qrs_matches(x, fs, samples[rows], [lab[rows] == "N" for lab in labels])):
            column[rows] = match
    return out


def refit_shape_rule_by_fold(predictions, read_signal: Callable[[str], tuple[np.ndarray, float]],
                             quantile: float = 0.999) -> tuple[np.ndarray, dict[int, ShapeRule]]:
    """A finished CV's labels with the shape rule added, without retraining: ``(y_pred, rules)``.

    ``predictions`` is a CV's out-of-fold table holding every fold (``fold``,
    ``record_id``, ``sample``, ``y_true``, ``y_pred``). Each fold's rule is
    fitted on the other folds' V beats against their records' true N beats
    (labels and signals only) and applied to the fold's ``y_pred``, with each
    test record's template taken from the beats ``y_pred`` calls N, as at
    inference.
    """
    fold = predictions["fold"].to_numpy()
    truth = predictions["y_true"].to_numpy().astype(str)
    on_truth, on_pred = record_matches(predictions, read_signal, "y_true", "y_pred")
    out = predictions["y_pred"].to_numpy().astype(object).copy()
    rules = {}
    for k in sorted(set(fold.tolist())):
        rules[int(k)] = fit_shape_rule(on_truth[(truth == "V") & (fold != k)], quantile)
        rows = fold == k
        out[rows] = rules[int(k)].apply(out[rows], on_pred[rows])
    return out, rules
