"""The premature-beat rule: rhythm context that a beat classifier's labels answer to.

A supraventricular ectopic beat (AAMI S) is defined by its timing: it comes
early against a regular underlying rhythm. Beat classifiers trained on
MIT-BIH DS1 miss most S beats whose waveform looks normal, and call early
beats in atrial fibrillation S, because DS1 holds two AF patients (at most
one in any training fold) to learn from. :class:`PrematureRule` states the
definition with two thresholds on RR features of
:func:`ecgscope.signal.rr_features`:

- a beat the model calls ``N`` whose ``pre_median`` (RR before it over the
  median of the 8 before that) is below :attr:`~PrematureRule.prematurity`
  becomes ``S`` when its rhythm is regular (``irregularity`` below
  :attr:`~PrematureRule.irregularity`);
- a beat the model calls ``S`` in an irregular rhythm (``irregularity`` at
  or above the gate) becomes ``N``: without a regular rhythm there is no
  prematurity to judge.

:func:`fit_premature_rule` chooses both thresholds from the training beats'
labels and RR features alone (the model plays no part, so nothing of the
test patients can reach them through out-of-fold predictions): the grid
point whose rule alone best separates S from N beats (F1 of S). The fit
always keeps a gate: when the training records' own S beats sit in
irregular rhythms (MIT-BIH 201 has S beats inside atrial fibrillation), a
rule with no gate can score best on them, and it then calls a test
patient's AF beats S by the hundred (DS1 CV fold 3: 292 more false S on
record 203). A rule without a gate (``irregularity=None``) can still be
built by hand. Beats the model calls V or F are never changed. The model's probabilities are left as
they are; only labels change, and the checkpoint card records the rule.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import ConfigError

__all__ = ["PrematureRule", "fit_premature_rule", "premature_features", "fit_rule_on_beats", "apply_rule_to_beats",
           "apply_rules_by_fold", "refit_rule_by_fold", "PREMATURITY_GRID", "IRREGULARITY_GRID"]

#: Prematurity thresholds tried by :func:`fit_premature_rule` (``pre_median`` below it is premature).
PREMATURITY_GRID: tuple[float, ...] = tuple(np.round(np.arange(0.70, 0.951, 0.01), 2))
#: Irregularity gates tried (always one: no prematurity without a regular rhythm; see the module docstring).
IRREGULARITY_GRID: tuple[float, ...] = (0.05, 0.06, 0.08, 0.10, 0.12, 0.15, 0.20, 0.25, 0.30)


@dataclass(frozen=True)
class PrematureRule:
    """Thresholds of the premature-beat rule (see the module docstring).

    Attributes:
        prematurity: ``pre_median`` below which a regular-rhythm beat called N becomes S.
        irregularity: the gate: at or above it a beat called S becomes N, and no
            beat becomes S (``None``: no gate).
        f1: F1 of S of the rule alone on the beats it was fitted on (for the card).
    """

    prematurity: float
    irregularity: float | None = None
    f1: float | None = None

    def __post_init__(self) -> None:
        if not 0 < float(self.prematurity) < 2:
            raise ConfigError(f"prematurity={self.prematurity!r} must be in (0, 2)", fix="use e.g. 0.85")
        if self.irregularity is not None and not float(self.irregularity) > 0:
            raise ConfigError(f"irregularity={self.irregularity!r} must be > 0 or None", fix="use e.g. 0.15")

    def apply(self, labels: Sequence[str], pre_median, irregularity) -> np.ndarray:
        """``labels`` with the rule applied (a new object array); NaN features leave a beat unchanged."""
        out = np.asarray(labels, dtype=object).copy()
        pm = np.asarray(pre_median, dtype=np.float64)
        irr = np.asarray(irregularity, dtype=np.float64)
        regular = np.ones(out.size, bool) if self.irregularity is None else irr < self.irregularity
        irregular = np.zeros(out.size, bool) if self.irregularity is None else irr >= self.irregularity
        out[(out == "S") & irregular] = "N"
        out[(out == "N") & regular & (pm < self.prematurity)] = "S"
        return out

    def to_card(self) -> dict[str, Any]:
        """The checkpoint card's ``premature_rule`` entry."""
        return {"prematurity": float(self.prematurity),
                "irregularity": None if self.irregularity is None else float(self.irregularity),
                "f1_fitted": None if self.f1 is None else round(float(self.f1), 4),
                "features": ["pre_median", "irregularity"],
                "fitted_on": "the training records' N and S beats (labels and RR features only)"}

    @classmethod
    def from_card(cls, entry: Mapping[str, Any] | None) -> "PrematureRule | None":
        """The rule of a card entry (``None`` for none)."""
        if not entry:
            return None
        return cls(float(entry["prematurity"]), entry.get("irregularity"), entry.get("f1_fitted"))


def premature_features(rpeaks, record_id=None) -> tuple[np.ndarray, np.ndarray]:
    """``(pre_median, irregularity)`` of every beat, per record when ``record_id`` is given.

    ``rpeaks`` are beat positions in samples (one record's, or with
    ``record_id`` several records'); both features are ratios of intervals,
    so the sampling rate cancels.
    """
    from ..signal import rr_features

    pos = np.asarray(rpeaks, dtype=np.int64).reshape(-1)
    ids = np.zeros(pos.size, np.int8) if record_id is None else np.asarray(record_id)
    pm, irr = np.full(pos.size, np.nan), np.full(pos.size, np.nan)
    for rid in dict.fromkeys(ids.tolist()):
        rows = np.flatnonzero(ids == rid)
        rows = rows[np.argsort(pos[rows], kind="stable")]
        if rows.size < 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN medians at the record's start
            frame = rr_features(pos[rows], 1000.0)  # ratios: any rate gives the same values
        pm[rows] = frame["pre_median"].to_numpy()
        irr[rows] = frame["irregularity"].to_numpy()
    return pm, irr


def fit_premature_rule(is_s, pre_median, irregularity) -> PrematureRule:
    """The grid point whose rule alone best tells S (``is_s``) from N beats (F1 of S; first on ties).

    Pass the training beats labelled N or S only: ``is_s`` is their truth,
    ``pre_median`` and ``irregularity`` come from :func:`premature_features`.
    """
    truth = np.asarray(is_s, dtype=bool)
    pm = np.asarray(pre_median, dtype=np.float64)
    irr = np.asarray(irregularity, dtype=np.float64)
    if not truth.any():
        raise ConfigError("the premature rule needs S beats to fit on",
                          fix="train on records with supraventricular beats, or set train.premature_rule=false")
    early = pm[None, :] < np.asarray(PREMATURITY_GRID)[:, None]  # (thresholds, beats); NaN is never early
    best, best_f1 = None, -1.0
    for gate in IRREGULARITY_GRID:
        called = early & (irr < gate)[None, :]  # NaN irregularity is never regular
        tp = (called & truth).sum(axis=1)
        f1 = 2 * tp / np.maximum(called.sum(axis=1) + truth.sum(), 1)
        i = int(np.argmax(f1))
        if f1[i] > best_f1:
            best, best_f1 = (PREMATURITY_GRID[i], gate), float(f1[i])
    return PrematureRule(float(best[0]), float(best[1]), best_f1)


def fit_rule_on_beats(beats) -> PrematureRule:
    """:func:`fit_premature_rule` on a :class:`~ecgscope.datasets.beats.BeatSet`'s N and S beats."""
    classes = list(beats.classes)
    if "N" not in classes or "S" not in classes:
        raise ConfigError(f"the premature rule needs classes N and S, the beats have {classes}",
                          fix="set train.premature_rule=false")
    pm, irr = premature_features(beats.sample, beats.record_id)
    ns = np.isin(beats.y, [classes.index("N"), classes.index("S")])
    return fit_premature_rule(beats.y[ns] == classes.index("S"), pm[ns], irr[ns])


def apply_rule_to_beats(rule: PrematureRule, beats, pred: np.ndarray) -> np.ndarray:
    """Class indices ``pred`` of ``beats`` after ``rule`` (features from the beats' own positions)."""
    classes = np.asarray(beats.classes, dtype=object)
    labels = rule.apply(classes[pred], *premature_features(beats.sample, beats.record_id))
    return (labels[:, None] == classes[None, :]).argmax(axis=1).astype(np.int64)


def refit_rule_by_fold(predictions) -> tuple[np.ndarray, dict[int, PrematureRule]]:
    """A finished CV's labels under the rule as this code fits it, without retraining: ``(y_pred, rules)``.

    ``predictions`` is a CV's out-of-fold table (``fold``, ``record_id``,
    ``sample``, ``y_true`` and the network's own ``y_model``) holding every
    fold, so each fold's training beats are the other folds' rows. Each
    fold's rule is fitted on those rows' labels and RR features and applied
    to the fold's ``y_model``; the rule never sees the network, so this is
    what a re-run of the same configuration gives (with the same labelled
    beats; unlabelled beats, which a re-run's RR features also count, are
    absent from the table).
    """
    if "y_model" not in predictions.columns:
        raise ConfigError("the predictions have no y_model column (the run applied no rule)",
                          fix="re-score a CV run made with train.premature_rule=true")
    fold = predictions["fold"].to_numpy()
    truth = predictions["y_true"].to_numpy().astype(str)
    model = predictions["y_model"].to_numpy().astype(object)
    pm, irr = premature_features(predictions["sample"].to_numpy(), predictions["record_id"].astype(str).to_numpy())
    ns, rules = np.isin(truth, ["N", "S"]), {}
    for k in sorted(set(fold.tolist())):
        train = ns & (fold != k)
        rules[int(k)] = fit_premature_rule(truth[train] == "S", pm[train], irr[train])
    return apply_rules_by_fold(model, fold, rules, pm, irr), rules


def apply_rules_by_fold(labels, fold, rules, pre_median, irregularity) -> np.ndarray:
    """``labels`` (a new object array) with each fold's rule applied to its rows; ``rules`` maps fold ->
    :class:`PrematureRule` or ``None`` (rows left as they are)."""
    out = np.asarray(labels, dtype=object).copy()
    fold = np.asarray(fold)
    pm = np.asarray(pre_median, dtype=np.float64)
    irr = np.asarray(irregularity, dtype=np.float64)
    for k, rule in rules.items():
        rows = fold == k
        if rule is not None:
            out[rows] = rule.apply(out[rows], pm[rows], irr[rows])
    return out
