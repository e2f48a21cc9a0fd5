"""AAMI EC57 beat-classification report: gross vs average, record-bootstrap CIs, undefined classes."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pytest

from ecgscope.errors import ECGScopeError
from ecgscope.evaluation import aami_report
from ecgscope.evaluation.classification import LabelError

N, S, V, F = range(4)


def three_records():
    """Hand-checked example (see test_gross_and_average_hand_computed)."""
    ref = {"A": "NNNNSV", "B": "NNSSVV", "C": "NNNF"}
    pred = {"A": "NNNSSV", "B": "NVSNVV", "C": "NNNN"}
    y = [c for r in "ABC" for c in ref[r]]
    yhat = [c for r in "ABC" for c in pred[r]]
    rec = [r for r in "ABC" for _ in ref[r]]
    return y, yhat, rec


def synthetic(n_records: int, beats: int = 300, seed: int = 0, proba: bool = False):
    """Beats of ``n_records`` records; the classifier's accuracy varies between records."""
    rng = np.random.default_rng(seed)
    rec = np.repeat(np.arange(n_records), beats)
    y = rng.choice(4, rec.size, p=[0.8, 0.08, 0.1, 0.02])
    skill = rng.uniform(0.7, 0.97, n_records)[rec]
    yhat = np.where(rng.random(rec.size) < skill, y, rng.integers(0, 4, rec.size))
    if not proba:
        return y, yhat, rec
    logits = rng.normal(size=(rec.size, 4)) + 3 * np.eye(4)[yhat]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return y, yhat, rec, p


def test_gross_and_average_hand_computed():
    y, yhat, rec = three_records()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = aami_report(y, yhat, rec, n_boot=0)
    g, a = r.gross, r.average
    assert r.n_beats == 16 and r.n_records == 3 and r.record_ids == ("A", "B", "C")
    assert g["tp"].tolist() == [7, 2, 3, 0] and g["fn"].tolist() == [2, 1, 0, 1]
    assert g["fp"].tolist() == [2, 1, 1, 0] and g["tn"].tolist() == [5, 12, 12, 15]
    np.testing.assert_allclose(g["se"], [7 / 9, 2 / 3, 1, 0])
    np.testing.assert_allclose(g["ppv"][:3], [7 / 9, 2 / 3, 3 / 4])
    assert np.isnan(g["ppv"][F])  # F never predicted
    np.testing.assert_allclose(g["fpr"], [2 / 7, 1 / 13, 1 / 13, 0])
    np.testing.assert_allclose(g["f1"], [7 / 9, 2 / 3, 6 / 7, 0])
    # average: per-record values, records without positives skipped for Se
    np.testing.assert_allclose(a["se"], [(3 / 4 + 1 / 2 + 1) / 3, (1 + 1 / 2) / 2, 1, 0])
    assert a["n_se"].tolist() == [3, 2, 2, 1]
    np.testing.assert_allclose(a["ppv"][:3], [(1 + 1 / 2 + 3 / 4) / 3, (1 / 2 + 1) / 2, (1 + 2 / 3) / 2])
    assert np.isnan(a["ppv"][F]) and a["n_ppv"][F] == 0
    assert a["fpr"][S] == pytest.approx((1 / 5 + 0 + 0) / 3)
    assert r.accuracy == pytest.approx(12 / 16)
    assert r.macro_f1["N/S/V"] == pytest.approx((7 / 9 + 2 / 3 + 6 / 7) / 3)
    assert r.macro_f1["N/S/V/F"] == pytest.approx((7 / 9 + 2 / 3 + 6 / 7 + 0) / 4)
    assert r.confusion.tolist() == [[7, 1, 1, 0], [1, 2, 0, 0], [0, 0, 3, 0], [1, 0, 0, 0]]
    np.testing.assert_array_equal(r.record_confusion.sum(0), r.confusion)
    assert np.isnan(r.ci["se"]).all() and r.ci_defined["accuracy"] == 0  # n_boot=0: no intervals


def test_letters_and_indices_give_the_same_report():
    y, yhat, rec = three_records()
    idx = {c: i for i, c in enumerate("NSVF")}
    a = aami_report(y, yhat, rec, n_boot=50).to_dict()
    b = aami_report([idx[c] for c in y], [idx[c] for c in yhat], rec, n_boot=50).to_dict()
    assert a == b


def test_perfect_classifier_is_one_everywhere_with_zero_width_cis():
    y, _, rec = synthetic(8)
    r = aami_report(y, y, rec, n_boot=200)
    for m in ("se", "ppv", "spec", "f1"):
        assert (r.gross[m] == 1).all() and (r.average[m] == 1).all()
        assert (r.ci[m] == 1).all()
    assert (r.gross["fpr"] == 0).all() and (r.ci["fpr"] == 0).all()
    assert r.accuracy == 1 and (r.ci["accuracy"] == 1).all()
    assert r.macro_f1 == {"N/S/V": 1.0, "N/S/V/F": 1.0}
    assert (r.ci["macro_f1:N/S/V/F"] == 1).all()


def test_ci_brackets_point_estimate():
    r = aami_report(*synthetic(40), n_boot=500, seed=1)
    for m in ("se", "ppv", "f1", "fpr", "spec"):
        low, high = r.ci[m][:, 0], r.ci[m][:, 1]
        assert np.all(low <= r.gross[m]) and np.all(r.gross[m] <= high), m
        assert np.all(low < high)
    assert r.ci["accuracy"][0] <= r.accuracy <= r.ci["accuracy"][1]
    for name, value in r.macro_f1.items():
        low, high = r.ci[f"macro_f1:{name}"]
        assert low <= value <= high
    assert (r.ci_defined["se"] == 500).all()


def test_ci_shrinks_with_more_records():
    width = {}
    for n in (10, 160):
        r = aami_report(*synthetic(n, seed=4), n_boot=400, seed=0)
        width[n] = np.diff(r.ci["accuracy"])[0], np.diff(r.ci["se"], axis=1)[:, 0]
    assert width[160][0] < 0.5 * width[10][0]
    assert np.all(width[160][1][:3] < width[10][1][:3])


def test_report_is_invariant_to_beat_and_record_order():
    y, yhat, rec = synthetic(12, beats=100)
    perm = np.random.default_rng(9).permutation(y.size)
    ids = np.array([f"r{i:02d}" for i in rec])
    a = aami_report(y, yhat, ids, n_boot=300, seed=3).to_dict()
    b = aami_report(y[perm], yhat[perm], ids[perm], n_boot=300, seed=3).to_dict()
    assert a == b


def test_class_absent_from_reference_is_na_not_a_crash():
    y = np.array(list("NNNNVVNNVN"))
    yhat = np.array(list("NNSNVVNNFN"))
    rec = np.repeat(["a", "b"], 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        r = aami_report(y, yhat, rec, n_boot=100)
        md, tex = r.to_markdown(), r.to_latex()
    for k in (S, F):
        assert np.isnan(r.gross["se"][k]) and np.isnan(r.gross["f1"][k]) and np.isnan(r.average["se"][k])
        assert np.isnan(r.ci["se"][k]).all() and r.ci_defined["se"][k] == 0
    assert r.gross["ppv"][S] == 0.0  # one wrong S prediction
    assert np.isnan(r.macro_f1["N/S/V"]) and np.isnan(r.ci["macro_f1:N/S/V"]).all()
    assert "| S | 0 | 0 | 1 | 0 | 9 | n/a |" in md
    assert "S & n/a & 0.0 [0.0, 0.0] & n/a &" in tex


def test_rare_class_interval_uses_defined_resamples_and_says_so():
    y, yhat, rec = synthetic(20, beats=100, seed=2)
    y = np.where(y == F, N, y)
    y[rec == 7] = np.where(np.arange((rec == 7).sum()) < 5, F, y[rec == 7])  # F only in record 7
    r = aami_report(y, yhat, rec, n_boot=300)
    assert 0 < r.ci_defined["se"][F] < 300 and r.ci_defined["se"][N] == 300
    assert "The interval of Se of F uses only the resamples" in r.to_markdown()


def test_proba_adds_curves_and_calibration():
    y, yhat, rec, p = synthetic(10, proba=True)
    r = aami_report(y, yhat, rec, proba=p, n_boot=50)
    assert set(r.curves) == {"N", "S", "V", "F"}
    assert all(0.5 < c.auroc <= 1 for c in r.curves.values())
    assert r.calibration is not None and 0 <= r.calibration.ece < 1
    assert "AUROC" in r.to_markdown()
    logits = np.log(p) * 3  # scores outside [0, 1]: curves yes, calibration no
    r2 = aami_report(y, yhat, rec, proba=logits, n_boot=0)
    assert r2.calibration is None
    assert r2.curves["V"].auroc == pytest.approx(r.curves["V"].auroc)


@pytest.mark.parametrize("kwargs, needle", [
    ({"y_true": list("NQV")}, "'Q'"),
    ({"record_ids": ["a", "b"]}, "one record id per beat"),
    ({"proba": np.ones((3, 2))}, "shape"),
    ({"n_boot": 1.5}, "n_boot"),
    ({"ci": 0}, "ci="),
])
def test_bad_inputs_raise_clear_errors(kwargs, needle):
    args = {"y_true": list("NSV"), "y_pred": list("NSV"), "record_ids": ["a", "a", "b"], **kwargs}
    with pytest.raises(ECGScopeError) as err:
        aami_report(**args)
    assert needle in str(err.value) and "Fix:" in str(err.value)


def test_empty_input_is_an_error():
    with pytest.raises(LabelError, match="no beats"):
        aami_report([], [], [])


def test_five_classes_add_a_full_macro_subset():
    y = list("NSVFQ" * 4)
    r = aami_report(y, y, ["a"] * 10 + ["b"] * 10, classes=("N", "S", "V", "F", "Q"), n_boot=10)
    assert set(r.macro_f1) == {"N/S/V", "N/S/V/F", "N/S/V/F/Q"}
    assert "Only one record" not in r.to_markdown()


def test_speed_100k_beats_44_records_1000_resamples():
    rng = np.random.default_rng(0)
    rec = rng.integers(0, 44, 100_000)
    y = rng.choice(4, rec.size, p=[0.88, 0.03, 0.07, 0.02])
    yhat = np.where(rng.random(rec.size) < 0.9, y, rng.integers(0, 4, rec.size))
    start = time.perf_counter()
    r = aami_report(y, yhat, rec, n_boot=1000)
    elapsed = time.perf_counter() - start
    assert r.n_beats == 100_000 and r.ci_defined["accuracy"] == 1000
    assert elapsed < 2.0, f"aami_report took {elapsed:.2f} s"
