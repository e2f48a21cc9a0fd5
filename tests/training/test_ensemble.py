"""Ensembles trained member by member: config, training, CV combination, inference and frozen protocols."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import yaml

from ecgscope.cli import main
from ecgscope.errors import ConfigError, DatasetError, ModelError
from ecgscope.training.ensemble import (EnsembleConfig, combine_cv_runs, cross_validate_ensemble,
                                        load_experiment_config, train_ensemble)

PROBS = ["p_N", "p_S", "p_V"]


@pytest.fixture
def ensemble_yaml(tmp_path, synthetic_db, write_config):
    """An ensemble of two tiny ResNets on the synthetic database, with different windows."""
    folder, _ = synthetic_db
    write_config(tmp_path / "a.yaml", folder, tmp_path / "cache", epochs=1)
    b = yaml.safe_load(write_config(tmp_path / "b.yaml", folder, tmp_path / "cache", epochs=1).read_text())
    b["data"]["window"] = [0.15, 0.2]
    b["data"]["extra_windows"] = [[0.4, 0.4]]
    (tmp_path / "b.yaml").write_text(yaml.safe_dump(b))
    path = tmp_path / "ens.yaml"
    path.write_text(yaml.safe_dump({"name": "ens-test", "members": {"short": {"config": "a.yaml", "weight": 1.0},
                                                                    "long": {"config": "b.yaml", "weight": 3.0}}},
                                   sort_keys=False))
    return path


# ------------------------------------------------------------------ config
def test_config_loads_members_with_shared_and_own_overrides(ensemble_yaml, tmp_path):
    cfg = load_experiment_config(ensemble_yaml, ["train.seed=4", "long.train.epochs=3"])
    assert isinstance(cfg, EnsembleConfig) and list(cfg.members) == ["short", "long"]
    assert cfg.weights == {"short": 1.0, "long": 3.0}
    assert [c.train.seed for c in cfg.members.values()] == [4, 4]
    assert [c.train.epochs for c in cfg.members.values()] == [1, 3]
    assert cfg.members["long"].data.window == (0.15, 0.2) and cfg.data.window == (0.1, 0.15)
    again = load_experiment_config(cfg.save(tmp_path / "saved.yaml"))  # members inline
    assert again.to_dict() == cfg.to_dict()
    assert not isinstance(load_experiment_config(tmp_path / "a.yaml"), EnsembleConfig)


def test_config_errors_name_the_problem(ensemble_yaml, tmp_path):
    data = yaml.safe_load(ensemble_yaml.read_text())
    for change, message in ((lambda d: d["members"].update(train={"config": "a.yaml"}), "clash"),
                            (lambda d: d["members"]["long"].update(weight=0), "positive"),
                            (lambda d: d.update(model={"name": "x"}), "unknown keys"),
                            (lambda d: d["members"]["long"].pop("config"), "has no config")):
        bad = json.loads(json.dumps(data))
        change(bad)
        path = tmp_path / "bad.yaml"
        path.write_text(yaml.safe_dump(bad, sort_keys=False))
        with pytest.raises(ConfigError, match=message):
            load_experiment_config(path)
    with pytest.raises(ConfigError, match="differ in data.records"):
        load_experiment_config(ensemble_yaml, ["long.data.records=[101,106]"])


# ------------------------------------------------------------------ CV combination
def _fake_run(folder, probs, rule=None, test_records=(("101",), ("106",))):
    """A CV run folder: two folds of two beats each, with the given probabilities."""
    rows = []
    for k, (rec,) in enumerate(test_records):
        for j, sample in enumerate((1000, 2000)):
            rows.append({"fold": k, "record_id": rec, "patient_id": rec, "sample": sample, "symbol": "N",
                         "y_true": "NV"[j], "y_pred": "N", **dict(zip(PROBS, probs[2 * k + j]))})
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_csv(folder / "predictions.csv", index=False)
    split = {"split": {"name": "s", "version": 1},
             "folds": [{"fold": k, "test_records": list(r), "test_patients": list(r)} for k, r in enumerate(test_records)]}
    (folder / "split.json").write_text(json.dumps(split))
    for k in range(len(test_records)):
        (folder / "folds" / str(k)).mkdir(parents=True)
        doc = {"premature_rule": rule, "val_patients": ["109"], "best_epoch": 1,
               "validation": {"macro_f1": 0.5}, "test": {"macro_f1": 0.4}}
        (folder / "folds" / str(k) / "metrics.json").write_text(json.dumps(doc))
    return folder


def test_combine_averages_matched_beats_with_the_weights(tmp_path):
    a = _fake_run(tmp_path / "a", [[0.9, 0.05, 0.05], [0.6, 0.0, 0.4], [0.2, 0.0, 0.8], [0.5, 0.5, 0.0]])
    b = _fake_run(tmp_path / "b", [[0.1, 0.0, 0.9], [0.0, 0.2, 0.8], [0.2, 0.0, 0.8], [0.5, 0.1, 0.4]])
    frame = pd.read_csv(b / "predictions.csv").iloc[:3]  # b scored one beat fewer: it drops out
    frame.to_csv(b / "predictions.csv", index=False)
    out, folds = combine_cv_runs({"a": a, "b": b}, {"a": 1.0, "b": 3.0})
    assert len(out) == 3 and [f["fold"] for f in folds] == [0, 1]
    expected = (np.array([[0.9, 0.05, 0.05], [0.6, 0.0, 0.4], [0.2, 0.0, 0.8]])
                + 3 * np.array([[0.1, 0.0, 0.9], [0.0, 0.2, 0.8], [0.2, 0.0, 0.8]])) / 4
    assert np.allclose(out[PROBS].to_numpy(), expected)
    assert list(out["y_pred"]) == ["V", "V", "V"] and list(out["y_model"]) == ["V", "V", "V"]
    assert folds[0]["members"]["b"]["val_patients"] == ["109"]
    assert folds[0]["test"]["f1"]["V"] == pytest.approx(2 / 3)


def test_combine_refuses_runs_over_other_folds(tmp_path):
    a = _fake_run(tmp_path / "a", [[1, 0, 0]] * 4)
    b = _fake_run(tmp_path / "b", [[1, 0, 0]] * 4, test_records=(("106",), ("101",)))
    with pytest.raises(DatasetError, match="different splits or folds"):
        combine_cv_runs({"a": a, "b": b})


# ------------------------------------------------------------------ end to end
def test_cv_of_an_ensemble_runs_every_member_and_reuses_finished_ones(ensemble_yaml, tmp_path):
    cfg = load_experiment_config(ensemble_yaml)
    result = cross_validate_ensemble(cfg, tmp_path / "cv", save_checkpoints=False)
    for name in ("short", "long"):
        assert (tmp_path / "cv" / "members" / name / "predictions.csv").is_file()
    preds = result.predictions
    members = {n: pd.read_csv(tmp_path / "cv" / "members" / n / "predictions.csv", dtype={"record_id": str})
               .set_index(["record_id", "sample"]) for n in ("short", "long")}
    key = preds.set_index(["record_id", "sample"]).index
    mean = (members["short"].loc[key, PROBS].to_numpy() + 3 * members["long"].loc[key, PROBS].to_numpy()) / 4
    assert np.allclose(preds[PROBS].to_numpy(), mean, atol=1e-5)
    assert set(result.summary["members"]) == {"short", "long"} and result.summary["weights"]["long"] == 3.0
    for name in ("config.yaml", "split.json", "version.json", "summary.json", "predictions.csv"):
        assert (tmp_path / "cv" / name).is_file(), name
    stamp = (tmp_path / "cv" / "members" / "long" / "predictions.csv").stat().st_mtime_ns
    again = cross_validate_ensemble(cfg, tmp_path / "cv", save_checkpoints=False)
    assert (tmp_path / "cv" / "members" / "long" / "predictions.csv").stat().st_mtime_ns == stamp
    assert np.allclose(again.predictions[PROBS].to_numpy(), preds[PROBS].to_numpy())


def test_trained_ensemble_classifies_as_the_weighted_mean_of_its_members(ensemble_yaml, tmp_path, synthetic_db):
    from ecgscope import read
    from ecgscope.analysis.classify import classify_beats, load_beat_classifier
    from ecgscope.evaluation.protocols import run_cross_db
    from ecgscope.models.checkpoint import card_hash, load_checkpoint, read_card

    cfg = load_experiment_config(ensemble_yaml)
    train_ensemble(cfg, tmp_path / "ens")
    ens = tmp_path / "ens"
    card = json.loads((ens / "card.json").read_text())
    assert card["kind"] == "beat-ensemble" and [m["path"] for m in card["members"]] == ["short", "long"]
    assert card["leads"] == ["II"] and set(card["training"]["data"]["records"]) == {"101", "106", "108", "109", "112"}
    assert card["premature_rule"] == read_card(ens / "short")["premature_rule"]
    assert load_experiment_config(ens / "config.yaml").to_dict() == cfg.to_dict()
    split = json.loads((ens / "split.json").read_text())
    assert set(split["members"]) == {"short", "long"} and (ens / "version.json").is_file()

    record = read(synthetic_db[0] / "108")
    both = classify_beats(record, model=ens)
    short, long = (classify_beats(record, model=ens / n) for n in ("short", "long"))
    assert np.allclose(both[PROBS].to_numpy(), (short[PROBS].to_numpy() + 3 * long[PROBS].to_numpy()) / 4, atol=1e-6)
    assert both.attrs["model"] == "ens" and both.attrs["model_hash"] == card_hash(ens)
    assert (~both["valid"] & long["valid"]).sum() == 0 and (both["valid"] == long["valid"]).all()  # widest window
    assert len(load_beat_classifier(ens).members) == 2

    # a frozen ensemble in the cross-database protocol: the same averaged probabilities per beat
    result = run_cross_db(ens, synthetic_db[0], tmp_path / "xdb", records=["108"], n_boot=0, cache=False, plots=False)
    atr = record.annotations["atr"]
    beats_at = atr.sample[np.isin(atr.symbol.astype(str), ["N", "A", "V", "Q"])]
    scored = result.predictions.set_index("sample")
    row = classify_beats(record, model=ens, rpeaks=beats_at).set_index("sample").loc[scored.index]
    assert np.allclose(scored[PROBS].to_numpy(), row[PROBS].to_numpy(), atol=2e-3)
    assert set(result.info["beat_dataset"]) == {"short", "long"}

    # provenance: a changed member changes the ensemble's hash; one checkpoint's loaders refuse the folder
    before = card_hash(ens)
    member = json.loads((ens / "long" / "card.json").read_text())
    member["metrics"]["note"] = "edited"
    (ens / "long" / "card.json").write_text(json.dumps(member))
    assert card_hash(ens) != before
    with pytest.raises(ModelError, match="ensemble of checkpoints"):
        load_checkpoint(ens)


def test_ensemble_folder_errors_are_clear(tmp_path, synthetic_db, write_config):
    from ecgscope.analysis.classify import load_beat_classifier
    from ecgscope.models.ensemble import save_ensemble
    from ecgscope.training.config import load_config
    from ecgscope.training.experiment import train_experiment

    cfg = load_config(write_config(tmp_path / "a.yaml", synthetic_db[0], tmp_path / "cache", epochs=1))
    train_experiment(cfg, tmp_path / "one")
    with pytest.raises(ModelError, match="at least one member"):
        save_ensemble({}, tmp_path / "none")
    with pytest.raises(ModelError, match="weights name no member"):
        save_ensemble({"a": tmp_path / "one"}, tmp_path / "w", weights={"b": 1.0})
    three = train_experiment(cfg.override(["data.classes=[N,V]"]), tmp_path / "nv")
    assert three.card["classes"] == ["N", "V"]
    with pytest.raises(ModelError, match="disagree on classes"):
        save_ensemble({"a": tmp_path / "one", "b": tmp_path / "nv"}, tmp_path / "mixed")
    save_ensemble({"a": tmp_path / "one"}, tmp_path / "ok")
    card = json.loads((tmp_path / "ok" / "card.json").read_text())
    card["members"][0]["path"] = "../one"
    (tmp_path / "ok" / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="leaves the ensemble folder"):
        load_beat_classifier(tmp_path / "ok")
    card["members"][0]["path"] = "missing"
    (tmp_path / "ok" / "card.json").write_text(json.dumps(card))
    with pytest.raises(ModelError, match="not a checkpoint folder"):
        load_beat_classifier(tmp_path / "ok")


def test_cli_trains_an_ensemble(ensemble_yaml, tmp_path, capsys):
    assert main(["train", str(ensemble_yaml), "-o", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert "[short]" in out and "[long]" in out and "ensemble:" in out
    assert json.loads((tmp_path / "cli" / "card.json").read_text())["kind"] == "beat-ensemble"


def test_an_ensemble_with_a_shape_rule_fits_it_per_fold_and_carries_it(ensemble_yaml, tmp_path, synthetic_db):
    from ecgscope import read
    from ecgscope.analysis.classify import classify_beats
    from ecgscope.evaluation.protocols import run_cross_db
    from ecgscope.training.shape_rule import ShapeRule

    data = yaml.safe_load(ensemble_yaml.read_text())
    data["shape_rule"] = 0.99
    ensemble_yaml.write_text(yaml.safe_dump(data, sort_keys=False))
    cfg = load_experiment_config(ensemble_yaml)
    assert cfg.shape_rule == 0.99
    result = cross_validate_ensemble(cfg, tmp_path / "cv", save_checkpoints=False)
    preds = result.predictions
    changed = preds["y_pred"] != preds["y_model"]
    assert {f["fold"]: ShapeRule.from_card(f["shape_rule"]).quantile for f in result.folds} == \
        {f["fold"]: 0.99 for f in result.folds}
    plain, _ = combine_cv_runs({n: tmp_path / "cv" / "members" / n for n in ("short", "long")}, cfg.weights)
    moved = preds["y_pred"].to_numpy() != plain["y_pred"].to_numpy()
    assert set(plain["y_pred"][moved]) <= {"V"} and set(preds["y_pred"][moved]) <= {"N"}
    assert changed.sum() >= moved.sum()

    train_ensemble(cfg, tmp_path / "ens")
    card = json.loads((tmp_path / "ens" / "card.json").read_text())
    rule = ShapeRule.from_card(card["shape_rule"])
    assert rule is not None and rule.quantile == 0.99 and rule.n_fitted > 0
    labelled = classify_beats(read(synthetic_db[0] / "108"), model=tmp_path / "ens")
    assert labelled.attrs["shape_rule"]["min_corr"] == card["shape_rule"]["min_corr"]
    scored = run_cross_db(tmp_path / "ens", synthetic_db[0], tmp_path / "xdb", records=["108"], n_boot=0,
                          cache=False, plots=False)
    assert {"y_model", "y_pred"} <= set(scored.predictions.columns)
