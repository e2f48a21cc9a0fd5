"""Experiment configs: YAML round trip, shipped configs, typed dotted overrides and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ecgscope.datasets.labels import DS1, DS2
from ecgscope.errors import ConfigError
from ecgscope.training.config import (
    DataConfig,
    ExperimentConfig,
    ModelConfig,
    TrainConfig,
    apply_overrides,
    load_config,
    parse_override,
)

CONFIGS = Path(__file__).resolve().parents[2] / "configs" / "beats"


def test_yaml_round_trip(tmp_path):
    cfg = ExperimentConfig(
        name="x", data=DataConfig(fs=250, extra_windows=((1.0, 1.0),), records=("101", "106"), bandpass=None),
        model=ModelConfig("transnet", "tiny", {"layers": 3}), train=TrainConfig(epochs=3, lr=3e-4, loss="focal"),
        folds=(0, 2))
    path = cfg.save(tmp_path / "c.yaml")
    again = load_config(path)
    assert again == cfg
    assert again.data.bandpass is None and again.data.extra_windows == ((1.0, 1.0),)
    assert again.to_dict() == cfg.to_dict()
    assert "window: [0.25, 0.45]" in path.read_text()


@pytest.mark.parametrize("name", sorted(p.stem for p in CONFIGS.glob("*.yaml")))
def test_shipped_configs_load(name):
    from ecgscope.models import list_models
    from ecgscope.training.ensemble import EnsembleConfig, load_experiment_config

    loaded = load_experiment_config(CONFIGS / f"{name}.yaml")
    for cfg in loaded.members.values() if isinstance(loaded, EnsembleConfig) else [loaded]:
        assert cfg.data.records == DS1 and cfg.data.split == "mitdb-ds1"
        assert cfg.model.name in list_models()
        assert not set(cfg.data.records) & set(DS2)
    if not isinstance(loaded, EnsembleConfig):
        assert load_config(CONFIGS / f"{name}.yaml").to_dict() == loaded.to_dict()
    else:
        with pytest.raises(ConfigError, match="ensemble config"):
            load_config(CONFIGS / f"{name}.yaml")


def test_overrides_are_typed():
    cfg = apply_overrides(ExperimentConfig(), [
        "train.epochs=7", "train.lr=1e-4", "train.ema=false", "train.grad_clip=null", "model.variant=large",
        "data.records=[101, 106]", "data.window=[0.3, 0.5]", "data.leads=V1", "model.kwargs.depth=3",
        "model.kwargs.attention=se", "folds=[1]", "data.fs=250", "train.warmup_epochs=2",
    ])
    assert cfg.train.epochs == 7 and isinstance(cfg.train.epochs, int)
    assert cfg.train.lr == 1e-4 and isinstance(cfg.train.lr, float)
    assert cfg.train.ema is False and cfg.train.grad_clip is None
    assert cfg.model.variant == "large" and cfg.model.kwargs == {"depth": 3, "attention": "se"}
    assert cfg.data.records == ("101", "106") and cfg.data.window == (0.3, 0.5) and cfg.data.leads == ("V1",)
    assert cfg.folds == (1,) and cfg.data.fs == 250.0 and cfg.train.warmup_epochs == 2.0
    assert apply_overrides(cfg, ["data.records=DS2"]).data.records == DS2


def test_parse_override():
    assert parse_override("a.b=1") == (["a", "b"], 1)
    assert parse_override("a=[1, x]") == (["a"], [1, "x"])
    assert parse_override("a=") == (["a"], "")
    with pytest.raises(ConfigError, match="no '='"):
        parse_override("train.epochs")
    with pytest.raises(ConfigError, match="empty key"):
        parse_override("train..epochs=3")


@pytest.mark.parametrize("override, message", [
    ("train.epoch=3", "valid keys under train: epochs"),
    ("trian.epochs=3", "valid keys: name, data, model, train"),
    ("train.epochs=many", "must be an integer"),
    ("train.epochs=0", "epochs must be >= 1"),
    ("train.lr=fast", "must be a number"),
    ("train.ema=maybe", "true or false"),
    ("train.loss=hinge", "loss='hinge' is unknown"),
    ("train.oversample=magic", "oversample='magic'"),
    ("data.classes=[N, X]", "AAMI classes"),
    ("data.window=[0.2]", "2 items"),
    ("train.epochs.x=1", "is a value, not a section"),
    ("model.kwargs=3", "must be a mapping"),
])
def test_bad_overrides_raise_config_error(override, message):
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("(", r"\(")):
        apply_overrides(ExperimentConfig(), [override])


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("train:\n  epochs: 3\n  learning_rate: 0.1\n")
    with pytest.raises(ConfigError, match="unknown key train.learning_rate.*valid keys under train") as info:
        load_config(unknown)
    assert str(unknown) in str(info.value)
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("data: 3\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(wrong)


def test_partial_file_takes_defaults_and_overrides(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("name: partial\ntrain:\n  epochs: 2\n")
    cfg = load_config(path, ["train.batch_size=8"])
    assert cfg.name == "partial" and cfg.train.epochs == 2 and cfg.train.batch_size == 8
    assert cfg.data == DataConfig() and cfg.model == ModelConfig()


def test_data_config_gives_the_beat_config():
    data = DataConfig(fs=250, leads=("V1",), database="/somewhere")
    beat = data.beat_config()
    assert type(beat).__name__ == "BeatDatasetConfig" and beat.fs == 250 and beat.leads == ("V1",)
    assert "database" not in beat.to_dict()
