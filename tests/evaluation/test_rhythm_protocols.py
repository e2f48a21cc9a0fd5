"""Rhythm protocols: patient-wise CV with a leak guard, zero-shot AF transfer, files written."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ecgscope.datasets.rhythm import RHYTHM_CLASSES, RhythmSet
from ecgscope.datasets.splits import Split
from ecgscope.errors import DatasetError, ModelError
from ecgscope.evaluation.rhythm_protocols import cross_validate_rhythm, zero_shot
from ecgscope.training.leakage import DataLeakError

FS = 50.0


class AmplitudeEstimator:
    """Predicts the class whose mean training amplitude is nearest (a trivial, deterministic estimator)."""

    classes_ = RHYTHM_CLASSES

    def __init__(self):
        self.seen: list[str] = []

    def fit(self, train, progress=False):
        self.seen = train.records.tolist()
        amp = np.array([s.std() for s in train.signals])
        self.centres_ = np.array([amp[train.labels == c].mean() if (train.labels == c).any() else np.inf
                                  for c in self.classes_])
        return self

    def predict_proba(self, data):
        amp = np.array([s.std() for s in data.signals])
        d = -np.abs(amp[:, None] - self.centres_[None, :])
        d = np.where(np.isfinite(d), d, -1e9)
        e = np.exp(d - d.max(1, keepdims=True))
        return e / e.sum(1, keepdims=True)


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    labels = np.array(RHYTHM_CLASSES)[np.arange(n) % 4]
    sigs = [(1 + RHYTHM_CLASSES.index(c)) * rng.standard_normal((1, int(FS * rng.uniform(9, 20))))
            for c in labels]
    names = [f"R{i:03d}" for i in range(n)]
    return RhythmSet(sigs, FS, labels, names, names, "toy", ("ECG",))


def _split(data, k=4, patients=None):
    patients = data.patients if patients is None else patients
    assign = {r: {"fold": (i // 4) % k, "patient": str(p), "stratum": str(lab)}
              for i, (r, p, lab) in enumerate(zip(data.records, patients, data.labels))}
    return Split("toy", 1, "toy", k, 0, assign)


def test_cross_validation_out_of_fold(tmp_path):
    data = _data()
    built = []

    def make():
        built.append(AmplitudeEstimator())
        return built[-1]

    res = cross_validate_rhythm(make, data, _split(data), progress=False, out_dir=tmp_path, n_boot=50)
    assert len(built) == 4 and len(res.folds) == 4
    assert sorted(res.predictions["record"]) == sorted(data.records)
    for est, fold in zip(built, res.folds):
        tested = set(res.predictions.loc[res.predictions.fold == fold["fold"], "record"])
        assert not tested & set(est.seen)  # trained without its test fold
    probs = res.predictions[[f"p_{c}" for c in RHYTHM_CLASSES]].to_numpy()
    np.testing.assert_allclose(probs.sum(1), 1.0)
    assert res.report["challenge_f1"]["value"] > 0.9  # amplitude separates the toy classes
    assert all(f["fit_s"] >= 0 and f["predict_s"] >= 0 for f in res.folds)
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["report"]["n"] == 40 and (tmp_path / "report.md").read_text().startswith("| model")
    assert len(pd.read_csv(tmp_path / "predictions.csv")) == 40


def test_cross_validation_subset_of_folds():
    data = _data()
    res = cross_validate_rhythm(AmplitudeEstimator, data, _split(data), folds=[1], progress=False, n_boot=0)
    assert set(res.predictions.fold) == {1} and len(res.predictions) == 12  # items 4-7, 20-23, 36-39


def test_leak_guard_catches_patient_in_two_folds():
    data = _data()
    patients = data.patients.copy()
    patients[4] = patients[0]  # records 0 (fold 0) and 4 (fold 1) share a patient
    with pytest.raises(DataLeakError):
        cross_validate_rhythm(AmplitudeEstimator, data, _split(data, patients=patients), progress=False,
                              n_boot=0)


def test_items_outside_split_are_an_error():
    data = _data()
    small = _split(data.subset(np.arange(20)))
    with pytest.raises(DatasetError, match="not in split"):
        cross_validate_rhythm(AmplitudeEstimator, data, small, progress=False, n_boot=0)


def test_broken_estimator_output_is_an_error():
    class Broken(AmplitudeEstimator):
        def predict_proba(self, data):
            return np.zeros((len(data), 2))

    data = _data()
    with pytest.raises(ModelError, match="shape"):
        cross_validate_rhythm(Broken, data, _split(data), progress=False, n_boot=0)


def test_zero_shot(tmp_path):
    est = AmplitudeEstimator().fit(_data())
    rng = np.random.default_rng(5)
    # targets: AF items look like the "A" class (amplitude 2), others like "N" (amplitude 1)
    labels = np.array(["AF", "non-AF"] * 10)
    sigs = [(2.0 if lab == "AF" else 1.0) * rng.standard_normal((1, 500)) for lab in labels]
    names = [f"w{i}" for i in range(20)]
    target = RhythmSet(sigs, FS, labels, names, np.array(names) > "w1", "toy", ("II",))
    reports, preds = zero_shot(est, {"toy": target}, n_boot=50, out_dir=tmp_path, return_predictions=True)
    r = reports["toy"]
    assert r["n"] == 20 and r["n_af"] == 10 and r["auroc"]["value"] > 0.9 and r["n_groups"] == 2
    assert set(preds["pred"]) <= {"AF", "non-AF"} and (tmp_path / "report.json").is_file()
    bad = RhythmSet(sigs, FS, ["N"] * 20, names, names, "toy")
    with pytest.raises(DatasetError):
        zero_shot(est, {"bad": bad})
    with pytest.raises(ModelError):
        zero_shot(est, {"toy": target}, af_class="AF")
