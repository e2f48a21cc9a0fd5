"""``ecgscope train``: a checkpoint folder from a config, ``--cv``, and one-line errors."""

from __future__ import annotations

import json

import pytest
from ecgscope.cli import main


def test_train_writes_a_loadable_checkpoint(synthetic_db, write_config, tmp_path, capsys):
    from ecgscope.models.checkpoint import load_checkpoint

    folder, _ = synthetic_db
    cfg = write_config(tmp_path / "c.yaml", folder, tmp_path / "cache")
    out = tmp_path / "run"
    rc = main(["train", str(cfg), "train.epochs=1", "model.kwargs.dropout=0.0", "-o", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "checkpoint:" in text and "validation macro-F1" in text
    model, card = load_checkpoint(out)
    assert card["architecture"] == "resnet1d" and card["model_kwargs"]["window"] == 32
    assert card["model_kwargs"]["dropout"] == 0.0
    assert card["fs"] == 128.0 and card["window"]["samples"] == 32 and card["leads"] == ["II"]
    assert card["training"]["config"]["train"]["epochs"] == 1
    assert sorted(card["training"]["data"]["records"]) == ["101", "106", "108", "109", "112"]
    assert len(card["training"]["split"]["val_patients"]) == 1
    assert json.loads((out / "metrics.json").read_text())["epochs_run"] == 1
    from ecgscope.datasets.beats import BeatDatasetConfig

    assert BeatDatasetConfig.from_card(card).samples == 32


def test_train_cv_with_the_shipped_split(synthetic_db, write_config, tmp_path, capsys):
    folder, _ = synthetic_db
    cfg = write_config(tmp_path / "c.yaml", folder, tmp_path / "cache", epochs=1)
    out = tmp_path / "cv"
    rc = main(["train", str(cfg), "--cv", "folds=[0, 2]", "--no-fold-checkpoints", "-o", str(out)])
    text = capsys.readouterr().out
    assert rc == 0, text
    assert "out-of-fold macro-F1" in text
    summary = json.loads((out / "summary.json").read_text())
    assert [f["fold"] for f in summary["folds"]] == [0, 2]
    assert [f["test_patients"] for f in summary["folds"]] == [["101"], ["108"]]  # mitdb-ds1 v1 folds
    assert not (out / "folds" / "0" / "card.json").exists()


@pytest.mark.parametrize("args, message", [
    (["train.epoch=3"], "unknown key train.epoch"),
    (["train.epochs=x"], "must be an integer"),
    (["data.leads=[V5]"], "not all of ['V5']"),
    (["--cv", "data.split=nosuch"], "no split 'nosuch'"),
    (["--cv", "data.records=[101, 300]"], "no such file"),
])
def test_errors_are_one_line_with_exit_2(synthetic_db, write_config, tmp_path, capsys, args, message):
    folder, _ = synthetic_db
    cfg = write_config(tmp_path / "c.yaml", folder, tmp_path / "cache")
    rc = main(["train", str(cfg), *args, "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert message in err


def test_missing_config_file(tmp_path, capsys):
    assert main(["train", str(tmp_path / "none.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err
