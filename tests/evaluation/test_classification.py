"""Generic multi-class metrics, ROC/PR curves and calibration (ecgscope.evaluation.classification)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from ecgscope.errors import ECGScopeError
from ecgscope.evaluation.classification import (
    LabelError,
    confusion_matrix,
    encode_labels,
    expected_calibration_error,
    mean_f1,
    metrics_from_confusion,
    multiclass_metrics,
    reliability_bins,
    roc_pr_curves,
)

CLASSES = ("N", "S", "V", "F")


# --------------------------------------------------------------------------- labels
def test_encode_labels_accepts_letters_and_indices():
    assert encode_labels(["N", "V", "S", "F", "N"], CLASSES).tolist() == [0, 2, 1, 3, 0]
    assert encode_labels(np.array([0, 2, 1, 3]), CLASSES).tolist() == [0, 2, 1, 3]
    assert encode_labels(np.array([0.0, 3.0]), CLASSES).tolist() == [0, 3]
    assert encode_labels([], CLASSES).size == 0


@pytest.mark.parametrize("bad, needle", [(["N", "Q", "V"], "'Q'"), ([0, 4], "outside 0..3"),
                                          ([[0, 1]], "shape"), ([0.5, 1.0], "dtype")])
def test_encode_labels_rejects_bad_labels_with_a_fix(bad, needle):
    with pytest.raises(LabelError) as err:
        encode_labels(bad, CLASSES, name="y_true")
    assert isinstance(err.value, ECGScopeError) and isinstance(err.value, ValueError)
    assert needle in str(err.value) and "Fix:" in str(err.value)


def test_duplicate_classes_rejected():
    with pytest.raises(LabelError, match="duplicate"):
        multiclass_metrics([0], [0], ("N", "N"))


# --------------------------------------------------------------------------- confusion metrics
def test_multiclass_metrics_hand_computed():
    #        ref: N N N S S V    pred: N S N S N V
    m = multiclass_metrics(list("NNNSSV"), list("NSNSNV"), ("N", "S", "V"))
    assert m.confusion.tolist() == [[2, 1, 0], [1, 1, 0], [0, 0, 1]]
    pc = m.per_class
    assert pc["tp"].tolist() == [2, 1, 1] and pc["fp"].tolist() == [1, 1, 0]
    assert pc["fn"].tolist() == [1, 1, 0] and pc["tn"].tolist() == [2, 3, 5]
    np.testing.assert_allclose(pc["se"], [2 / 3, 1 / 2, 1])
    np.testing.assert_allclose(pc["ppv"], [2 / 3, 1 / 2, 1])
    np.testing.assert_allclose(pc["fpr"], [1 / 3, 1 / 4, 0])
    np.testing.assert_allclose(pc["spec"], [2 / 3, 3 / 4, 1])
    np.testing.assert_allclose(pc["f1"], [2 / 3, 1 / 2, 1])
    assert m.accuracy == pytest.approx(4 / 6)
    assert m.macro_f1 == pytest.approx((2 / 3 + 1 / 2 + 1) / 3)
    assert list(m.table().index) == ["N", "S", "V"]
    assert m.to_dict()["per_class"]["se"]["S"] == pytest.approx(0.5)


def test_metrics_vectorised_over_stacks_equal_one_by_one(rng):
    cms = rng.integers(0, 20, size=(7, 4, 4))
    stacked = metrics_from_confusion(cms)
    for i, cm in enumerate(cms):
        single = metrics_from_confusion(cm)
        for key in ("tp", "fn", "tn", "se", "ppv", "fpr", "f1", "accuracy"):
            np.testing.assert_array_equal(stacked[key][i], single[key])


def test_grouped_confusion_sums_to_pooled(rng):
    t, p, g = rng.integers(0, 4, 500), rng.integers(0, 4, 500), rng.integers(0, 9, 500)
    per = confusion_matrix(t, p, 4, groups=g, n_groups=9)
    assert per.shape == (9, 4, 4)
    np.testing.assert_array_equal(per.sum(0), confusion_matrix(t, p, 4))
    np.testing.assert_array_equal(per[3], confusion_matrix(t[g == 3], p[g == 3], 4))


def test_class_absent_from_reference_is_undefined_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = multiclass_metrics(list("NNVV"), list("NFVV"), CLASSES)  # S and F absent from the reference
    s, f = 1, 3
    assert np.isnan(m.per_class["se"][s]) and np.isnan(m.per_class["f1"][s])
    assert np.isnan(m.per_class["ppv"][s])  # never predicted either
    assert np.isnan(m.per_class["se"][f]) and np.isnan(m.per_class["f1"][f])
    assert m.per_class["ppv"][f] == 0.0  # predicted once, wrongly: +P is defined
    assert m.per_class["fpr"][f] == pytest.approx(1 / 4)
    assert np.isnan(m.macro_f1)


# --------------------------------------------------------------------------- mean F1 (CinC 2017)
def test_mean_f1_cinc2017_hand_computed():
    classes = ("N", "A", "O", "~")
    y = list("NNNAAOO~")
    yhat = list("NNANAOO~")
    # N: TP 2 FP 1 FN 1 -> 4/6; A: TP 1 FP 1 FN 1 -> 2/4; O: TP 2 -> 1
    assert mean_f1(y, yhat, classes, subset=("N", "A", "O")) == pytest.approx((4 / 6 + 2 / 4 + 1) / 3)
    assert mean_f1(y, y, classes) == 1.0
    with pytest.raises(LabelError, match="not in"):
        mean_f1(y, yhat, classes, subset=("N", "X"))


# --------------------------------------------------------------------------- ROC / PR
def test_roc_pr_match_scikit_learn_with_ties(rng):
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = rng.integers(0, 3, 400)
    proba = np.round(rng.random((400, 3)) + 0.4 * np.eye(3)[y], 1)  # coarse scores: many ties
    curves = roc_pr_curves(y, proba)
    for k, c in enumerate(curves.values()):
        assert c.auroc == pytest.approx(roc_auc_score(y == k, proba[:, k]), abs=1e-12)
        assert c.auprc == pytest.approx(average_precision_score(y == k, proba[:, k]), abs=1e-12)
        assert c.fpr[0] == 0 and c.tpr[0] == 0 and c.fpr[-1] == 1 and c.tpr[-1] == 1
        assert np.all(np.diff(c.fpr) >= 0) and np.all(np.diff(c.recall) >= 0)
        assert c.n_pos == int((y == k).sum())


def test_roc_perfect_and_thinned(rng):
    y = rng.integers(0, 2, 5000)
    score = np.where(y == 1, 0.5 + rng.random(5000) / 2, rng.random(5000) / 2)
    c = roc_pr_curves(y, np.c_[1 - score, score], ("neg", "pos"), max_points=50)["pos"]
    assert c.auroc == 1.0 and c.auprc == 1.0
    assert c.recall.size <= 50 and c.fpr.size <= 50


def test_roc_undefined_for_class_without_positives():
    y = np.array([0, 0, 1, 1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        curves = roc_pr_curves(y, np.eye(3)[[0, 0, 1, 1]] * 0.8 + 0.1, ("a", "b", "c"))
    assert np.isnan(curves["c"].auroc) and np.isnan(curves["c"].auprc) and curves["c"].fpr.size == 0
    assert curves["a"].auroc == 1.0


def test_roc_rejects_wrong_shape():
    with pytest.raises(LabelError, match="shape"):
        roc_pr_curves([0, 1], np.zeros((3, 2)))


# --------------------------------------------------------------------------- calibration
def test_ece_hand_computed():
    # Two bins of width 0.5: {0.4, 0.3} -> conf 0.35, acc 0/2... use 2 classes.
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.6, 0.4], [0.3, 0.7]])
    y = np.array([0, 1, 0, 1])  # correct, wrong, correct, correct
    bins = reliability_bins(y, proba, n_bins=2)
    # confidences 0.9 0.8 0.6 0.7, all in bin (0.5, 1]: mean conf 0.75, accuracy 0.75 -> ECE 0
    assert bins.count.tolist() == [0, 4] and bins.ece == pytest.approx(0.0)
    bins = reliability_bins(y, proba, n_bins=5)
    # (0.4,0.6]: 0.6 right -> gap 0.4; (0.6,0.8]: 0.8 wrong + 0.7 right -> |0.5 - 0.75|;
    # (0.8,1]: 0.9 right -> gap 0.1
    assert bins.count.tolist() == [0, 0, 1, 2, 1]
    assert bins.ece == pytest.approx((1 * 0.4 + 2 * 0.25 + 1 * 0.1) / 4)
    assert bins.mce == pytest.approx(0.4)
    assert np.isnan(bins.accuracy[0])
    assert expected_calibration_error(y, proba, n_bins=5) == pytest.approx(bins.ece)


def test_ece_zero_for_confident_correct_and_rejects_logits():
    y = np.array([0, 1, 2, 1])
    assert expected_calibration_error(y, np.eye(3)[y]) == 0.0
    with pytest.raises(LabelError, match=r"outside \[0, 1\]"):
        expected_calibration_error(y, np.eye(3)[y] * 5)
    with pytest.raises(LabelError, match="n_bins"):
        expected_calibration_error(y, np.eye(3)[y], n_bins=0)
