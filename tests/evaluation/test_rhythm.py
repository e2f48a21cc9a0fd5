"""Rhythm metrics: the CinC 2017 score, AF detection at a fixed threshold, CIs and tables."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, f1_score, roc_auc_score

from ecgscope.evaluation.classification import LabelError
from ecgscope.evaluation.rhythm import af_report, af_table, rhythm_class_table, rhythm_report, rhythm_table

CLASSES = ("N", "A", "O", "~")


@pytest.fixture
def scored():
    rng = np.random.default_rng(3)
    y = rng.choice(4, 400, p=[0.55, 0.15, 0.25, 0.05])
    logit = rng.normal(size=(400, 4))
    logit[np.arange(400), y] += 1.5
    p = np.exp(logit) / np.exp(logit).sum(1, keepdims=True)
    return np.array(CLASSES)[y], p


def test_challenge_f1_matches_definition(scored):
    labels, p = scored
    r = rhythm_report(labels, p, n_boot=200)
    pred = np.array(CLASSES)[p.argmax(1)]
    f1 = f1_score(labels, pred, labels=list(CLASSES), average=None)
    assert r["challenge_f1"]["value"] == pytest.approx(f1[:3].mean())
    assert r["macro_f1"]["value"] == pytest.approx(f1.mean())
    for k, c in enumerate(CLASSES):
        assert r["per_class"][c]["f1"]["value"] == pytest.approx(f1[k])
        assert r["per_class"][c]["auroc"]["value"] == pytest.approx(roc_auc_score(labels == c, p[:, k]))
        ap = average_precision_score(labels == c, p[:, k])
        assert r["per_class"][c]["auprc"]["value"] == pytest.approx(ap)
    assert np.sum(r["confusion"]) == 400 and r["n"] == 400
    for key in ("challenge_f1", "accuracy", "ece"):
        assert r[key]["low"] <= r[key]["value"] <= r[key]["high"]
    assert 0 <= r["ece"]["value"] <= 1


def test_perfect_and_groups(scored):
    labels, _ = scored
    onehot = np.eye(4)[[CLASSES.index(c) for c in labels]]
    r = rhythm_report(labels, onehot, n_boot=50, groups=np.arange(400) // 4)
    assert r["challenge_f1"]["value"] == 1.0 and r["challenge_f1"]["low"] == 1.0
    assert r["n_groups"] == 100 and r["ece"]["value"] == pytest.approx(0.0)
    no_ci = rhythm_report(labels, onehot, n_boot=0)
    assert np.isnan(no_ci["accuracy"]["low"])


def test_rhythm_report_rejects_bad_input(scored):
    labels, p = scored
    with pytest.raises(LabelError):
        rhythm_report(labels, p[:, :3], n_boot=0)
    with pytest.raises(LabelError):
        rhythm_report(np.where(labels == "N", "X", labels), p, n_boot=0)


def test_af_report_threshold_and_metrics():
    y = np.array([True, True, False, False, False, True])
    p = np.array([0.9, 0.4, 0.6, 0.1, 0.2, 0.5])
    r = af_report(y, p, threshold=0.5, n_boot=100)
    # called AF: 0.9, 0.6, 0.5 -> TP 2, FP 1, FN 1, TN 2
    assert r["se"]["value"] == pytest.approx(2 / 3) and r["sp"]["value"] == pytest.approx(2 / 3)
    assert r["f1"]["value"] == pytest.approx(2 / 3) and r["ppv"]["value"] == pytest.approx(2 / 3)
    assert r["auroc"]["value"] == pytest.approx(roc_auc_score(y, p))
    assert r["auprc"]["value"] == pytest.approx(average_precision_score(y, p))
    assert r["n"] == 6 and r["n_af"] == 3 and r["prevalence"] == 0.5
    assert af_report(y, p, threshold=0.95, n_boot=0)["se"]["value"] == 0.0
    with pytest.raises(LabelError):
        af_report(np.array(["AF", "non-AF"]), np.array([0.1, 0.2]))


def test_af_report_grouped_ci_is_wider():
    rng = np.random.default_rng(0)
    groups = np.repeat(np.arange(10), 50)
    y = np.repeat(rng.random(10) < 0.4, 50)
    offset = np.repeat(rng.random(10), 50)  # scores correlated within a group
    p = np.clip(0.3 * y + 0.4 * offset + 0.3 * rng.random(500), 0, 1)
    item = af_report(y, p, n_boot=300)
    grouped = af_report(y, p, n_boot=300, groups=groups)
    width = lambda r: r["auroc"]["high"] - r["auroc"]["low"]
    assert width(grouped) > width(item)


def test_tables(scored):
    labels, p = scored
    r = rhythm_report(labels, p, n_boot=20)
    text = rhythm_table({"toy": r})
    assert "challenge F1" in text and "| toy |" in text and "[" in text
    assert rhythm_class_table(r).count("\n") == 5
    a = af_report(labels == "A", p[:, 1], n_boot=20)
    assert "| ludb | 400 |" in af_table({"ludb": a})
