"""The dominant-shape rule: beats called V that look like the record's N beats become N, true PVCs stay V."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ecgscope.errors import ConfigError, ModelError
from ecgscope.training.shape_rule import (
    ShapeRule,
    fit_shape_rule,
    qrs_match,
    record_matches,
    refit_shape_rule_by_fold,
)


def _record(seed: int):
    """A simulated 2-minute lead with PVCs: ``(signal, fs, beat samples, true labels)``."""
    from ecgscope.synthesis.simulator import simulate

    rec = simulate(duration=120.0, fs=250.0, leads=("II",), pvc_rate=0.1, noise=30.0, seed=seed)
    atr = rec.annotations["atr"]
    keep = np.isin(atr.symbol, ["N", "V"])
    return rec.signal[0], rec.fs, atr.sample[keep], np.asarray(atr.symbol[keep], dtype=str)


def test_pvcs_match_the_n_template_poorly_and_n_beats_well():
    x, fs, pos, truth = _record(0)
    match = qrs_match(x, fs, pos, truth == "N")
    assert np.median(match[truth == "N"]) > 0.97 and np.median(match[truth == "V"]) < 0.8
    assert np.isnan(qrs_match(x, fs, pos, np.zeros(pos.size, bool))).all()  # no reference: no template
    with pytest.raises(ConfigError, match="flag"):
        qrs_match(x, fs, pos, truth[:-1] == "N")


def test_the_rule_relabels_n_shaped_v_calls_and_keeps_true_pvcs():
    x, fs, pos, truth = _record(1)
    rule = fit_shape_rule(qrs_match(x, fs, pos, truth == "N")[truth == "V"], quantile=0.999)
    called = truth.astype(object).copy()
    wrong = np.flatnonzero(truth == "N")[::7]  # a model that also calls every seventh N beat V
    called[wrong] = "V"
    fixed = rule.apply(called, qrs_match(x, fs, pos, called == "N"))
    assert (fixed[truth == "V"] == "V").mean() > 0.99  # the PVCs stay V
    assert (fixed[wrong] == "N").mean() > 0.9  # the N-shaped V calls become N
    assert set(fixed[truth == "N"]) <= {"N", "V"}


def test_apply_touches_only_v_and_leaves_unmeasured_beats():
    rule = ShapeRule(0.9)
    out = rule.apply(["V", "V", "V", "N", "S"], [0.95, 0.5, np.nan, 0.99, 0.99])
    assert out.tolist() == ["N", "V", "V", "N", "S"]
    assert ShapeRule.from_card(rule.to_card()) == rule and ShapeRule.from_card(None) is None
    with pytest.raises(ConfigError, match="min_corr"):
        ShapeRule(1.5)


def test_fit_takes_the_quantile_of_the_measured_pvcs():
    values = np.r_[np.linspace(-1, 0.9, 1000), np.nan]
    rule = fit_shape_rule(values, quantile=0.99)
    assert rule.min_corr == pytest.approx(np.quantile(values[:-1], 0.99)) and rule.n_fitted == 1000
    with pytest.raises(ConfigError, match="V beats"):
        fit_shape_rule([np.nan])
    with pytest.raises(ConfigError, match="quantile"):
        fit_shape_rule(values, quantile=1.0)


def test_refit_by_fold_fits_each_fold_on_the_other_folds_records():
    records = {f"r{i}": _record(10 + i) for i in range(4)}
    rows = []
    for i, (rid, (_, _, pos, truth)) in enumerate(records.items()):
        called = truth.copy()
        called[np.flatnonzero(truth == "N")[::5]] = "V"
        rows.append(pd.DataFrame({"fold": i % 2, "record_id": rid, "sample": pos, "y_true": truth, "y_pred": called}))
    table = pd.concat(rows, ignore_index=True)

    def read(rid):
        x, fs, _, _ = records[rid]
        return x, fs

    labels, rules = refit_shape_rule_by_fold(table, read)
    (truth_match,) = record_matches(table, read, "y_true")
    for k, rule in rules.items():
        other = (table["fold"] != k) & (table["y_true"] == "V")
        assert rule == fit_shape_rule(truth_match[other.to_numpy()])
    wrong = ((table["y_true"] == "N") & (table["y_pred"] == "V")).to_numpy()
    assert (labels[wrong] == "N").mean() > 0.9
    changed = labels != table["y_pred"].to_numpy()
    assert set(table["y_pred"][changed]) == {"V"} and set(labels[changed]) == {"N"}  # V -> N only


def test_protocol_predictions_need_the_signals_for_a_shape_rule():
    from ecgscope.evaluation.protocols import prediction_frame

    class Beats:  # the fields prediction_rows reads
        classes = ("N", "S", "V", "F")
        record_id = np.array(["a"] * 3)
        patient_id = record_id
        sample = np.array([100, 400, 700])
        symbol = np.array(["N", "N", "N"])
        y = np.zeros(3, np.int64)

    probs = np.tile([0.1, 0.0, 0.9, 0.0], (3, 1))
    with pytest.raises(ModelError, match="signals"):
        prediction_frame(Beats(), probs, card={"shape_rule": ShapeRule(0.9).to_card()})


def test_ensemble_configs_take_a_shape_rule_quantile(tmp_path):
    from ecgscope.training.ensemble import load_experiment_config

    configs = __import__("pathlib").Path(__file__).resolve().parents[2] / "configs" / "beats"
    shipped = load_experiment_config(configs / "ensemble.yaml")
    assert shipped.shape_rule == pytest.approx(0.999) and shipped.to_dict()["shape_rule"] == pytest.approx(0.999)
    text = (configs / "ensemble.yaml").read_text().replace("shape_rule: 0.999", "shape_rule: 1.5")
    bad = tmp_path / "ensemble.yaml"
    bad.write_text(text.replace("config: default.yaml", f"config: {configs / 'default.yaml'}")
                   .replace("config: feature_mlp.yaml", f"config: {configs / 'feature_mlp.yaml'}"))
    with pytest.raises(ConfigError, match="shape_rule"):
        load_experiment_config(bad)
