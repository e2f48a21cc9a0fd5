"""Patient-wise cross-validation and the hard leak check (which must fire when a test patient leaks)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ecgscope.training.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from ecgscope.training.cv import check_patient_folds, cross_validate
from ecgscope.training.leakage import DataLeakError, LeakGuard
from ecgscope.training.trainer import fit, prepare_data
from ecgscope.training.validation import validation_split

FAST = dict(batch_size=32, lr=3e-3, warmup_epochs=0.5, progress=False, tensorboard=False, ema_decay=0.9)


def _config(**train) -> ExperimentConfig:
    return ExperimentConfig(name="cv-test", data=DataConfig(classes=("N", "S", "V"), fs=128, window=(0.1, 0.15)),
                            model=ModelConfig("resnet1d", "tiny"),
                            train=TrainConfig(**{"epochs": 2, "val_patients": 1, **FAST, **train}))


def _factory(model_factory):
    return lambda name, seed, **kw: model_factory(seed=seed)


def test_guard_fires_on_a_test_patient():
    guard = LeakGuard({"p1"}, name="fold 0 test")
    guard.check("training", ["p0", "p2"])
    with pytest.raises(DataLeakError, match=r"2 beats of fold 0 test patient\(s\) \['p1'\] reached normalisation"):
        guard.check("normalisation", ["p0", "p1", "p1"])
    assert guard.report() == {"test_patients": ["p1"], "checked_beats": {"training": 2}}
    assert issubclass(DataLeakError, __import__("ecgscope").ECGScopeError)


@pytest.mark.parametrize("stage", ["training", "validation"])
def test_fit_refuses_test_patients_anywhere(beats, model_factory, stage):
    fit_set, val_set, val_patients = validation_split(beats, 2, seed=0)
    leaked = fit_set.patients[0] if stage == "training" else val_patients[0]
    with pytest.raises(DataLeakError, match=f"reached {stage}"):
        fit(model_factory(), fit_set, val_set, TrainConfig(epochs=1, **FAST), guard=LeakGuard({leaked}))


def test_prepare_data_refuses_shared_train_and_validation_patients(beats):
    with pytest.raises(DataLeakError, match="also training patients"):
        prepare_data(beats, beats.by_patients(["p0"]), TrainConfig())


def test_cv_refuses_a_patient_split_across_folds(beats, make_split, model_factory, tmp_path):
    # p0 and p1 are declared one patient, but the split puts their records in different folds
    split = make_split(beats.records, k=3, patients={"p1": "p0"})
    with pytest.raises(DataLeakError, match="more than one fold"):
        cross_validate(_config(), tmp_path, beats=beats, split=split, model_factory=_factory(model_factory))
    beats.patient_id[beats.record_id == "p4"] = "p3"  # same via the beats' own patient ids
    with pytest.raises(DataLeakError):
        check_patient_folds(beats, make_split(beats.records, k=3))
    assert not (tmp_path / "predictions.csv").exists()


def test_cross_validation_outputs(beats, make_split, model_factory, tmp_path):
    split = make_split(beats.records, k=3)
    result = cross_validate(_config(), tmp_path, beats=beats, split=split, model_factory=_factory(model_factory),
                            save_checkpoints=True)
    pred = pd.read_csv(tmp_path / "predictions.csv", dtype={"record_id": str, "patient_id": str})
    # every beat is predicted exactly once, by the fold that held its record out
    assert len(pred) == len(beats) == len(result.predictions)
    assert not pred.duplicated(["record_id", "sample"]).any()
    assert (pred["fold"] == pred["record_id"].map(split.fold_of)).all()
    assert set(pred.columns) >= {"record_id", "patient_id", "sample", "y_true", "y_pred", "p_N", "p_S", "p_V"}
    np.testing.assert_allclose(pred[["p_N", "p_S", "p_V"]].sum(axis=1), 1, atol=1e-4)
    for fold in result.folds:
        test = set(fold["test_patients"])
        assert test.isdisjoint(fold["train_patients"]) and test.isdisjoint(fold["val_patients"])
        assert len(fold["val_patients"]) == 1
        checked = fold["leak_check"]["checked_beats"]
        assert {"training", "validation", "normalisation", "oversampling"} <= set(checked)
        assert set(fold["leak_check"]["test_patients"]) == test
        assert (tmp_path / "folds" / str(fold["fold"]) / "card.json").is_file()
        assert (tmp_path / "folds" / str(fold["fold"]) / "log.csv").is_file()
    doc = json.loads((tmp_path / "split.json").read_text())
    assert doc["mode"] == "cv" and doc["split"]["name"] == "synthetic" and len(doc["folds"]) == 3
    assert json.loads((tmp_path / "version.json").read_text())["ecgscope"]
    assert "cv-test" in (tmp_path / "config.yaml").read_text()
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["out_of_fold"]["n"] == len(beats) and summary["out_of_fold"]["macro_f1"] > 0.5


def test_cv_selected_folds_and_unknown_records(beats, make_split, model_factory, tmp_path):
    from ecgscope.errors import DatasetError

    split = make_split(beats.records, k=3)
    cfg = _config(epochs=1).override(["folds=[1]"])
    result = cross_validate(cfg, tmp_path, beats=beats, split=split, model_factory=_factory(model_factory),
                            save_checkpoints=False)
    assert set(result.predictions["fold"]) == {1}
    assert set(result.predictions["record_id"]) == set(split.folds[1])
    ghost = make_split(beats.records + ["ghost"], k=7)  # fold 6 holds only a record without beats
    skipped = cross_validate(cfg.override(["folds=[5, 6]"]), tmp_path / "g", beats=beats, split=ghost,
                             model_factory=_factory(model_factory), save_checkpoints=False)
    assert skipped.summary["skipped_folds"] == [6] and set(skipped.predictions["record_id"]) == {"p5"}
    with pytest.raises(DatasetError, match="not in split"):
        cross_validate(cfg, tmp_path, beats=beats, split=make_split(beats.records[:4], k=2),
                       model_factory=_factory(model_factory))
    with pytest.raises(DatasetError, match="do not exist"):
        cross_validate(cfg.override(["folds=[5]"]), tmp_path, beats=beats, split=split,
                       model_factory=_factory(model_factory))
