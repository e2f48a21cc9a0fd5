"""Smoke runs on real MIT-BIH DS1 records (a few hundred beats, one epoch): training and CV end to end."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.training.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig

RECORDS = ("106", "119", "208")


def _config(shared, tmp_path) -> ExperimentConfig:
    root = shared("mitdb").parent
    return ExperimentConfig(
        name="smoke", data=DataConfig(root=str(root), records=RECORDS, cache_dir=str(tmp_path / "cache")),
        model=ModelConfig("resnet1d", "tiny"),
        train=TrainConfig(epochs=1, batch_size=64, val_patients=1, progress=False, tensorboard=False))



@pytest.mark.data
def test_train_on_ds1_records(shared, tmp_path, few_beats):
    from ecgscope.models.checkpoint import load_checkpoint
    from ecgscope.training.experiment import load_beats, train_experiment

    cfg = _config(shared, tmp_path)
    beats = few_beats(load_beats(cfg.data), 40)
    assert 150 <= len(beats) <= 400 and beats.records == list(RECORDS)
    outcome = train_experiment(cfg, tmp_path / "run", beats=beats)
    model, card = load_checkpoint(tmp_path / "run")
    assert card["fs"] == 360.0 and card["window"]["samples"] == 252 and card["leads"] == ["II"]
    assert card["classes"] == ["N", "S", "V", "F"] and len(card["rr_features"]) == 10
    assert card["training"]["split"]["val_patients"] == outcome.val_patients
    assert np.isfinite(outcome.result.history[0]["train_loss"])


@pytest.mark.data
def test_cv_fold_on_ds1_records(shared, tmp_path, few_beats):
    from ecgscope.training.cv import cross_validate
    from ecgscope.training.experiment import load_beats

    cfg = _config(shared, tmp_path).override(["folds=[0]"])
    beats = few_beats(load_beats(cfg.data), 40)
    result = cross_validate(cfg, tmp_path / "cv", beats=beats, save_checkpoints=False)
    fold = result.folds[0]
    assert fold["test_patients"] == ["119"]  # mitdb-ds1 v1 puts 119 in fold 0
    assert "119" not in fold["train_patients"] + fold["val_patients"]
    assert set(result.predictions["record_id"]) == {"119"}
    assert len(result.predictions) == len(beats.by_records(["119"]))
