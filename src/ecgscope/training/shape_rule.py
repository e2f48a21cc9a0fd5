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

from ..errors import ConfigError

__all__ = ["MIN_REFERENCE_BEATS", "ShapeRule", "fit_shape_rule", "qrs_match", "record_matches",
           "refit_shape_rule_by_fold"]

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
    from ..signal.beats import QRS_REGION, _correlation, segment_beats
    from ..signal.filters import bandpass

    pos = np.asarray(rpeaks, dtype=np.int64).reshape(-1)
    ref = np.asarray(reference, dtype=bool).reshape(-1)
    if ref.size != pos.size:
        raise ConfigError(f"{ref.size} reference flags for {pos.size} beats", fix="pass one flag per beat")
    if ref.sum() < MIN_REFERENCE_BEATS:
        return np.full(pos.size, np.nan)
    x = np.atleast_2d(np.asarray(signal, dtype=np.float64))[0]
    x = bandpass(np.where(np.isfinite(x), x, 0.0), fs, 0.5, min(40.0, 0.45 * float(fs)))
    before = -QRS_REGION[0]
    windows, _ = segment_beats(x, fs, pos, window=(before, QRS_REGION[1]))
    qrs = windows[:, 0].astype(np.float64)
    return _correlation(qrs, np.median(qrs[ref], axis=0)[None])


def fit_shape_rule(v_match, quantile: float = 0.999) -> ShapeRule:
    """The rule whose threshold is the ``quantile`` of the training PVCs' :func:`qrs_match` values (taken
    against their record's true N beats; NaN values, from records without N beats, are left out)."""
    values = np.asarray(v_match, dtype=np.float64)
    values = values[np.isfinite(values)]
    if not 0.5 <= float(quantile) < 1.0:
        raise ConfigError(f"quantile={quantile!r} must be in [0.5, 1)", fix="use e.g. 0.999")
    if values.size == 0:
        raise ConfigError("the shape rule needs V beats in records with N beats to fit on",
                          fix="train on records with ventricular ectopic beats, or leave the rule out")
    return ShapeRule(float(np.quantile(values, quantile)), float(quantile), int(values.size))


def record_matches(table, read_signal: Callable[[str], tuple[np.ndarray, float]], label_column: str
                   ) -> np.ndarray:
    """:func:`qrs_match` of every row of a beat table (``record_id``, ``sample``), each record's reference
    being its rows whose ``label_column`` is ``N``; ``read_signal(record_id)`` gives ``(lead, fs)``."""
    out = np.full(len(table), np.nan)
    records = table["record_id"].astype(str).to_numpy()
    for rid in dict.fromkeys(records.tolist()):
        rows = np.flatnonzero(records == rid)
        x, fs = read_signal(rid)
        out[rows] = qrs_match(x, fs, table["sample"].to_numpy()[rows],
                              table[label_column].to_numpy()[rows].astype(str) == "N")
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
    on_truth = record_matches(predictions, read_signal, "y_true")
    on_pred = record_matches(predictions, read_signal, "y_pred")
    out = predictions["y_pred"].to_numpy().astype(object).copy()
    rules = {}
    for k in sorted(set(fold.tolist())):
        rules[int(k)] = fit_shape_rule(on_truth[(truth == "V") & (fold != k)], quantile)
        rows = fold == k
        out[rows] = rules[int(k)].apply(out[rows], on_pred[rows])
    return out, rules
