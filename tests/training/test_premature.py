"""The premature-beat rule: its features, its fit on labels alone, and where it is applied (CV, cards)."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest

from ecgscope.errors import ConfigError
from ecgscope.training.premature import (PrematureRule, apply_rule_to_beats, fit_premature_rule,
                                         fit_rule_on_beats, premature_features, refit_rule_by_fold)


def _rhythm(rng, n: int, af: bool = False, early: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Beat positions (ms) of sinus rhythm (or AF); a fraction ``early`` of beats come at 70 % of the RR."""
    rr = rng.uniform(400, 1200, n) if af else rng.normal(800, 15, n)
    s = np.zeros(n, bool)
    if early:
        s[np.arange(10, n - 2, int(1 / early))] = True
        rr[s] *= 0.7
        rr[np.flatnonzero(s) + 1] *= 1.3  # compensatory pause
    return np.cumsum(rr).astype(np.int64), s


def test_features_are_ratios_that_only_look_back():
    rng = np.random.default_rng(0)
    pos, s = _rhythm(rng, 200, early=0.1)
    pm, irr = premature_features(pos)
    assert np.isnan(pm[:2]).all() and np.all(np.isfinite(pm[2:]))  # no interval before the first two
    np.testing.assert_allclose(pm[s], 0.7, atol=0.05)           # early beats: 70 % of the usual interval
    assert np.all(np.abs(pm[~s][2:] - 1) < 0.4)                  # the pause after them is > 1, the rest ~1
    assert np.median(irr) < 0.05
    pm2, irr2 = premature_features(pos * 3)                       # another sampling rate: the same ratios
    np.testing.assert_allclose(pm2[2:], pm[2:], rtol=1e-3)
    # two records, interleaved rows: each record's beats are taken in time order, on their own
    af, _ = _rhythm(rng, 150, af=True)
    both = np.concatenate([af, pos])
    ids = np.array(["af"] * 150 + ["sinus"] * 200)
    order = rng.permutation(both.size)
    pmb, irrb = premature_features(both[order], ids[order])
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    np.testing.assert_allclose(pmb[back][150:], pm, equal_nan=True)
    assert np.nanmedian(irrb[back][:150]) > 0.2


def test_rule_relabels_by_rhythm_and_leaves_ventricular_beats():
    rule = PrematureRule(0.85, 0.15)
    labels = ["N", "N", "S", "S", "V", "F", "N"]
    pm = [0.70, 0.70, 0.95, 0.70, 0.60, 0.60, np.nan]
    irr = [0.03, 0.30, 0.30, 0.03, 0.03, 0.03, 0.03]
    out = rule.apply(labels, pm, irr)
    assert list(out) == ["S", "N", "N", "S", "V", "F", "N"]
    assert labels[0] == "N"  # the input is not modified
    assert list(PrematureRule(0.85, None).apply(labels, pm, irr)) == ["S", "S", "S", "S", "V", "F", "N"]
    assert PrematureRule.from_card(json.loads(json.dumps(rule.to_card()))) == rule
    assert PrematureRule.from_card(None) is None
    for bad in (dict(prematurity=0.0), dict(prematurity=0.8, irregularity=-1.0)):
        with pytest.raises(ConfigError):
            PrematureRule(**bad)


def test_fit_finds_the_prematurity_and_the_af_gate_from_labels():
    rng = np.random.default_rng(1)
    sinus, s = _rhythm(rng, 600, early=0.1)
    af, _ = _rhythm(rng, 400, af=True)   # every AF beat is N, many of them early
    pm, irr = premature_features(np.concatenate([sinus, af]), ["a"] * 600 + ["b"] * 400)
    truth = np.concatenate([s, np.zeros(400, bool)])
    rule = fit_premature_rule(truth, pm, irr)
    assert 0.7 < rule.prematurity <= 0.95 and rule.irregularity is not None and rule.irregularity <= 0.2
    assert rule.f1 == pytest.approx(1.0)
    called = rule.apply(np.where(truth, "N", "N"), pm, irr) == "S"
    assert np.array_equal(called, truth)
    # without the AF record no gate is needed, and the fit is still perfect on sinus rhythm
    assert fit_premature_rule(s, pm[:600], irr[:600]).f1 == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="S beats"):
        fit_premature_rule(np.zeros(600, bool), pm[:600], irr[:600])


def test_fit_keeps_a_gate_when_training_s_beats_sit_in_af():
    # like MIT-BIH 201: a training record whose early beats in AF are labelled S. A rule without a gate
    # would fit those best, then call every early beat of a test patient's AF S; the fit keeps a gate.
    rng = np.random.default_rng(2)
    sinus, s = _rhythm(rng, 600, early=0.1)
    af, _ = _rhythm(rng, 600, af=True)
    pm, irr = premature_features(np.concatenate([sinus, af]), ["a"] * 600 + ["b"] * 600)
    truth = np.concatenate([s, pm[600:] < 0.75])
    ungated = PrematureRule(0.86, None).apply(np.full(truth.size, "N"), pm, irr) == "S"
    gated = fit_premature_rule(truth, pm, irr)
    assert gated.irregularity is not None
    assert 2 * (ungated & truth).sum() / (ungated.sum() + truth.sum()) > gated.f1  # no gate would fit better
    test_af, _ = _rhythm(rng, 500, af=True)
    pm_t, irr_t = premature_features(test_af)
    called = {rule: (rule.apply(np.full(500, "N"), pm_t, irr_t) == "S").mean()
              for rule in (gated, PrematureRule(gated.prematurity, None))}
    assert called[gated] < called[PrematureRule(gated.prematurity, None)] / 2


def _timed(beats):
    """The synthetic beats with positions that follow their RR column (S beats early)."""
    sample = np.zeros(len(beats), np.int64)
    for rid in beats.records:
        rows = np.flatnonzero(beats.record_id == rid)
        sample[rows] = np.cumsum(np.rint(beats.rr[rows, 0] * 360).astype(np.int64))
    return dataclasses.replace(beats, sample=sample)


def test_rule_on_beat_sets(beats):
    timed = _timed(beats)
    rule = fit_rule_on_beats(timed)
    assert rule.f1 > 0.8
    model_says_n = np.zeros(len(timed), np.int64)
    pred = apply_rule_to_beats(rule, timed, model_says_n)
    s = timed.y == 1
    assert (pred[s] == 1).mean() > 0.8 and (pred[~s] == 1).mean() < 0.2
    with pytest.raises(ConfigError, match="classes N and S"):
        fit_rule_on_beats(dataclasses.replace(timed, classes=("N", "V", "F")))


def test_cross_validation_applies_the_rule_fitted_on_training_records(beats, make_split, model_factory,
                                                                     tmp_path):
    from ecgscope.training.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
    from ecgscope.training.cv import cross_validate

    timed = _timed(beats)
    config = ExperimentConfig(name="rule", data=DataConfig(classes=("N", "S", "V"), fs=128, window=(0.1, 0.15)),
                              model=ModelConfig("resnet1d", "tiny"),
                              train=TrainConfig(epochs=1, val_patients=1, batch_size=32, progress=False,
                                                tensorboard=False, premature_rule=True))
    split = make_split(timed.records, k=3)
    result = cross_validate(config, tmp_path, beats=timed, split=split,
                            model_factory=lambda name, seed, **kw: model_factory(seed=seed))
    pred = pd.read_csv(tmp_path / "predictions.csv")
    assert {"y_pred", "y_model"} <= set(pred.columns)
    for fold in result.folds:
        train = timed.by_records(fold["train_records"] + fold["val_records"])
        assert fold["premature_rule"] == fit_rule_on_beats(train).to_card()  # training records only
        card = json.loads((tmp_path / "folds" / str(fold["fold"]) / "card.json").read_text())
        assert card["premature_rule"] == fold["premature_rule"]
    changed = pred[pred["y_pred"] != pred["y_model"]]
    assert set(changed["y_model"]) <= {"N", "S"} and set(changed["y_pred"]) <= {"N", "S"}  # V never touched
    # re-scoring the finished run refits each fold's rule on the other folds' rows: the run's own labels
    again, rules = refit_rule_by_fold(pred)
    np.testing.assert_array_equal(again, pred["y_pred"].to_numpy())
    assert [rules[f["fold"]].to_card() for f in result.folds] == [f["premature_rule"] for f in result.folds]
    with pytest.raises(ConfigError, match="y_model"):
        refit_rule_by_fold(pred.drop(columns="y_model"))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["out_of_fold"]["n"] == len(pred)


def test_protocol_predictions_follow_the_cards_rule(beats):
    from ecgscope.evaluation.protocols import prediction_frame

    timed = _timed(beats)
    probs = np.tile([0.9, 0.05, 0.05], (len(timed), 1))  # a model that calls every beat N
    plain = prediction_frame(timed, probs)
    assert "y_model" not in plain.columns and (plain["y_pred"] == "N").all()
    rule = fit_rule_on_beats(timed)
    ruled = prediction_frame(timed, probs, card={"premature_rule": rule.to_card()})
    assert (ruled["y_model"] == "N").all()
    np.testing.assert_array_equal(ruled["y_pred"], np.array(timed.classes)[apply_rule_to_beats(
        rule, timed, np.zeros(len(timed), np.int64))])
    assert (ruled["y_pred"] == "S").sum() > 0.8 * (timed.y == 1).sum()
