"""The trainer on a separable synthetic beat set: learning, early stopping, EMA, checkpoints, determinism."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from ecgscope.training.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from ecgscope.training.ema import ModelEMA
from ecgscope.training.losses import FocalLoss, build_loss, class_weights
from ecgscope.training.schedule import lr_factor
from ecgscope.training.trainer import classification_metrics, fit, predict_proba
from ecgscope.training.validation import validation_split

FAST = dict(batch_size=32, lr=3e-3, warmup_epochs=0.5, progress=False, tensorboard=False, ema_decay=0.9)


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_fit_learns_and_stops_early(beats, model_factory, tmp_path):
    fit_set, val_set, _ = validation_split(beats, 2, seed=0)
    cfg = TrainConfig(epochs=30, patience=3, **FAST)
    result = fit(model_factory(), fit_set, val_set, cfg, out_dir=tmp_path)
    losses = [h["train_loss"] for h in result.history]
    assert losses[-1] < 0.5 * losses[0]
    assert result.metrics["macro_f1"] > 0.9
    assert result.stopped_early and result.epochs_run < 30
    assert result.epochs_run - result.best_epoch == cfg.patience
    log = (tmp_path / "log.csv").read_text().splitlines()
    assert log[0].startswith("epoch,lr,train_loss,val_loss,val_macro_f1") and len(log) == result.epochs_run + 1
    probs = predict_proba(result.model, val_set, result.normalisation)
    assert probs.shape == (len(val_set), 3) and np.allclose(probs.sum(1), 1, atol=1e-5)
    assert classification_metrics(val_set.y, probs.argmax(1), beats.classes)["macro_f1"] == pytest.approx(
        result.metrics["macro_f1"])
    assert result.info["leak_check"]["checked_beats"]["validation"] == len(val_set)


def test_ema_weights_are_selected_and_saved(beats, model_factory, tmp_path):
    from ecgscope.models.checkpoint import load_checkpoint

    data = DataConfig(classes=("N", "S", "V"), fs=128, window=(0.1, 0.15))
    cfg = ExperimentConfig(name="t", data=data, model=ModelConfig("resnet1d", "tiny"),
                           train=TrainConfig(epochs=3, patience=5, val_patients=2, **FAST))
    from ecgscope.training.experiment import train_experiment

    outcome = train_experiment(cfg, tmp_path, beats=beats,
                               model_factory=lambda name, seed, **kw: model_factory(seed=seed))
    result = outcome.result
    assert not _same(result.state, result.raw_state)  # the EMA differs from the raw weights
    model, card = load_checkpoint(tmp_path)
    assert _same(model.state_dict(), result.state)  # ... and it is what was saved
    assert card["classes"] == ["N", "S", "V"] and card["rr_features"] == list(beats.rr_names)
    assert card["normalisation"]["x_mean"] == result.normalisation["x_mean"]
    assert card["training"]["split"]["val_patients"] == outcome.val_patients
    assert set(card["training"]["split"]["train_patients"]).isdisjoint(outcome.val_patients)
    assert card["training"]["config"]["train"]["epochs"] == 3
    assert card["metrics"]["validation"]["macro_f1"] == result.metrics["macro_f1"]
    assert card["training"]["code_version"]["ecgscope"] == card["ecgscope_version"]
    for name in ("config.yaml", "split.json", "version.json", "metrics.json", "log.csv"):
        assert (tmp_path / name).is_file()
    assert json.loads((tmp_path / "version.json").read_text())["ecgscope"]
    assert card["calibration"]["temperature"] == result.temperature
    # without EMA the selected weights are the raw ones
    plain = fit(model_factory(), *validation_split(beats, 2, 0)[:2], TrainConfig(epochs=1, ema=False, **FAST))
    assert _same(plain.state, plain.raw_state)


def test_temperature_is_fitted_on_the_validation_beats_and_used_at_inference(beats, model_factory):
    from ecgscope.training.calibration import temperature_nll
    from ecgscope.training.normalisation import apply_normalisation
    from ecgscope.training.trainer import _logits

    fit_set, val_set, _ = validation_split(beats, 2, seed=0)
    result = fit(model_factory(), fit_set, val_set, TrainConfig(epochs=2, **FAST))
    t = result.temperature
    assert 0.05 <= t <= 20 and t != 1.0
    x, rr = apply_normalisation(val_set.x, val_set.rr, result.normalisation)
    logits = _logits(result.model, x, rr, torch.device("cpu")).numpy()
    assert temperature_nll(logits, val_set.y, t) <= temperature_nll(logits, val_set.y, 1.0)
    calibrated = predict_proba(result.model, val_set, result.normalisation, temperature=t)
    assert np.allclose(calibrated, torch.softmax(torch.as_tensor(logits) / t, 1).numpy(), atol=1e-6)
    assert np.array_equal(calibrated.argmax(1), predict_proba(result.model, val_set, result.normalisation).argmax(1))
    off = fit(model_factory(), fit_set, val_set, TrainConfig(epochs=2, calibration=None, **FAST))
    assert off.temperature == 1.0
    with pytest.raises(Exception, match="calibration"):
        TrainConfig(calibration="platt")


def test_card_temperature_is_validated_and_defaults_to_one():
    from ecgscope.errors import ModelError
    from ecgscope.models.checkpoint import card_temperature, validate_card

    assert card_temperature({}) == 1.0 and card_temperature({"calibration": {"temperature": 0.5}}) == 0.5
    with pytest.raises(ModelError, match="calibration"):
        validate_card({"calibration": {"temperature": -1}, "architecture": "x", "model_kwargs": {},
                       "classes": ["N"], "fs": 360.0, "window": {"before_s": 0.1, "after_s": 0.1, "samples": 10},
                       "leads": ["II"], "rr_features": [], "normalisation": {}, "training": {}, "metrics": {},
                       "ecgscope_version": "0", "created": "now"})


def test_same_seed_same_weights(beats, model_factory):
    fit_set, val_set, _ = validation_split(beats, 2, seed=0)
    cfg = TrainConfig(epochs=2, seed=7, oversample="random", **FAST)
    a = fit(model_factory(seed=1), fit_set, val_set, cfg)
    b = fit(model_factory(seed=1), fit_set, val_set, cfg)
    assert _same(a.state, b.state) and a.checksums == b.checksums
    c = fit(model_factory(seed=1), fit_set, val_set, TrainConfig(epochs=2, seed=8, oversample="random", **FAST))
    assert not _same(a.state, c.state)


def test_focal_loss_and_step_cap(beats, model_factory):
    fit_set, val_set, _ = validation_split(beats, 2, seed=0)
    cfg = TrainConfig(epochs=2, loss="focal", class_weights="sqrt", max_steps_per_epoch=3, **FAST)
    result = fit(model_factory(), fit_set, val_set, cfg)
    assert result.info["steps_per_epoch"] == 3 and len(result.history) == 2
    none = fit(model_factory(), fit_set, None, TrainConfig(epochs=2, max_steps_per_epoch=2, **FAST))
    assert none.best_epoch == 2 and none.metrics == {} and not none.stopped_early


def test_class_weights_losses_schedule_ema():
    y = np.array([0] * 80 + [1] * 20)
    w = class_weights(y, 3, "balanced")
    assert w[2] == 0 and w[1] == pytest.approx(4 * w[0]) and w[:2].mean() == pytest.approx(1)
    assert np.allclose(class_weights(y, 3, "none"), 1)
    assert class_weights(y, 3, "sqrt")[1] == pytest.approx(2 * class_weights(y, 3, "sqrt")[0])
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    target = torch.tensor([0, 1])
    ce = torch.nn.functional.cross_entropy(logits, target)
    assert FocalLoss(gamma=0.0)(logits, target) == pytest.approx(float(ce))
    assert FocalLoss(gamma=2.0)(logits, target) < ce
    assert isinstance(build_loss("ce", None), torch.nn.CrossEntropyLoss)
    assert lr_factor(0, 10, 100) == pytest.approx(0.1) and lr_factor(9, 10, 100) == pytest.approx(1.0)
    assert lr_factor(100, 10, 100, 0.01) == pytest.approx(0.01) and lr_factor(55, 10, 100) == pytest.approx(0.5)
    model = torch.nn.Linear(2, 1)
    ema = ModelEMA(model, decay=0.5)
    before = ema.module.weight.clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    ema.update(model)
    d = min(0.5, 2 / 11)
    assert torch.allclose(ema.module.weight, d * before + (1 - d) * model.weight)


def test_device_errors(beats, model_factory):
    from ecgscope.errors import ConfigError

    if torch.cuda.is_available():
        pytest.skip("CUDA present")
    with pytest.raises(ConfigError, match="CUDA is not available"):
        fit(model_factory(), beats, None, TrainConfig(epochs=1, device="cuda", **FAST))


def test_best_epoch_keeps_only_improving_epochs_and_copies_lazily():
    from ecgscope.training.selection import BestEpoch

    calls = []

    def copy(tag):
        calls.append(tag)
        return tag

    best = BestEpoch(min_delta=0.01)
    assert best.offer(1, 0.5, state=lambda: copy("e1"))
    assert not best.offer(2, 0.505, state=lambda: copy("e2"))  # within min_delta: no gain, nothing copied
    assert best.offer(3, 0.6, state=lambda: copy("e3"))
    assert not best.offer(4, 0.1, state=lambda: copy("e4")) and not best.exhausted(2)
    assert not best.offer(5, 0.2, state=lambda: copy("e5")) and best.exhausted(2)
    assert calls == ["e1", "e3"] and best.kept == {"state": "e3"} and (best.epoch, best.score) == (3, 0.6)
    unvalidated = BestEpoch()
    assert unvalidated.offer(1, None, state=lambda: 1) and unvalidated.offer(2, None, state=lambda: 2)
    assert unvalidated.kept["state"] == 2 and unvalidated.score == float("-inf")
