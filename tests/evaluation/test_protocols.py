"""Beat-classification protocols: inter-patient (needs all of MIT-BIH), patient-wise CV, cross-database."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from ecgscope.cli import main
from ecgscope.datasets.labels import DS1, DS2
from ecgscope.errors import DatasetError, ModelError
from ecgscope.evaluation.protocols import missing_records, run_cross_db, run_cv, run_interpatient
from ecgscope.training.config import DataConfig, ExperimentConfig, ModelConfig, TrainConfig
from ecgscope.training.leakage import DataLeakError

FAST = dict(epochs=1, batch_size=64, max_steps_per_epoch=3, warmup_epochs=0.5, val_patients=1, progress=False,
            tensorboard=False)


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _config(root, records, tmp_path, **data) -> ExperimentConfig:
    return ExperimentConfig(
        name="protocol-test",
        data=DataConfig(root=str(root), records=tuple(records), cache_dir=str(tmp_path / "cache"), **data),
        model=ModelConfig("resnet1d", "tiny"), train=TrainConfig(**FAST))


def _simulated_mitdb(root, names, seconds=30.0):
    """Simulated WFDB records named like MIT-BIH records under ``root/mitdb`` (N, A, V beats)."""
    from ecgscope import write
    from ecgscope.synthesis import simulate

    folder = root / "mitdb"
    for i, name in enumerate(names):
        rec = simulate(duration=seconds, fs=360.0, heart_rate=80.0, leads=("II", "V1"), pvc_rate=0.15,
                       apc_rate=0.15, seed=i)
        rec.annotations = {"atr": rec.annotations["atr"]}
        rec.metadata.record_id = name
        write(rec, folder / f"{name}.hea")
    return folder



# ------------------------------------------------------------------ inter-patient
def test_missing_records_lists_each_absent_file(tmp_path):
    folder = _simulated_mitdb(tmp_path, ["101"], seconds=5)
    (folder / "106.hea").write_text("106 1 360 10\n")  # a header without signal and annotations
    assert missing_records(folder, ["101", "106", "100"]) == ["106", "100"]


def test_interpatient_without_ds2_names_the_missing_records(tmp_path):
    _simulated_mitdb(tmp_path, ["101", "106"], seconds=5)
    with pytest.raises(DatasetError) as info:
        run_interpatient(_config(tmp_path, DS1, tmp_path), tmp_path / "out")
    text = str(info.value)
    assert "ecgscope data download mitdb" in text
    missing = text.split("(")[1].split(")")[0].split(", ")
    assert set(missing) == (set(DS1) | set(DS2)) - {"101", "106"}
    assert not (tmp_path / "out").exists()  # nothing ran


@pytest.mark.data
def test_interpatient_on_the_shared_folder_lacks_exactly_ds2(shared, tmp_path, capsys):
    root = shared("mitdb").parent
    with pytest.raises(DatasetError) as info:
        run_interpatient(_config(root, DS1, tmp_path), tmp_path / "out")
    missing = str(info.value).split("are missing (")[1].split(")")[0].split(", ")
    assert sorted(missing) == sorted(DS2)
    # the command line: one line, exit status 2
    cfg = tmp_path / "cfg.yaml"
    _config(root, DS1, tmp_path).save(cfg)
    assert main(["benchmark", "beats", "--protocol", "interpatient", "-c", str(cfg), "--root", str(root),
                 "-o", str(tmp_path / "cli")]) == 2
    err = capsys.readouterr().err
    assert "ecgscope data download mitdb" in err and "232" in err and "Traceback" not in err


def test_interpatient_refuses_training_on_ds2(tmp_path):
    with pytest.raises(DataLeakError, match=r"\['100'\] are test records"):
        run_interpatient(_config(tmp_path, ["101", "100"], tmp_path), tmp_path / "out")


def test_interpatient_end_to_end_on_simulated_mitdb(tmp_path):
    """DS1 -> DS2 with simulated stand-ins for a few records of each set (the shared folder has no DS2)."""
    _simulated_mitdb(tmp_path, ["101", "106", "108", "100", "103"])
    cfg = _config(tmp_path, ["101", "106", "108"], tmp_path, classes=("N", "S", "V"))
    result = run_interpatient(cfg, tmp_path / "ip", test_records=("100", "103"), n_boot=20)
    assert result.report.record_ids == ("100", "103")
    assert set(result.predictions["record_id"]) == {"100", "103"}
    for name in ("report.json", "report.md", "report.tex", "predictions.csv", "config.yaml", "split.json",
                 "version.json", "protocol.json", "model/card.json", "confusion_matrix.png"):
        assert (tmp_path / "ip" / name).is_file(), name
    split = json.loads((tmp_path / "ip" / "split.json").read_text())
    assert split["test_records"] == ["100", "103"] and set(split["train_records"]) == {"101", "106", "108"}
    info = json.loads((tmp_path / "ip" / "protocol.json").read_text())
    assert info["protocol"] == "interpatient" and len(info["model_hash"]) == 64

    # a frozen checkpoint is tested as is, but never one that saw a test record
    again = run_interpatient(cfg, tmp_path / "frozen", model=tmp_path / "ip" / "model",
                             test_records=("100", "103"), n_boot=0)
    assert np.allclose(again.predictions["p_N"], result.predictions["p_N"])
    card_path = tmp_path / "ip" / "model" / "card.json"
    card = json.loads(card_path.read_text())
    card["training"]["data"]["records"].append("103")
    card_path.write_text(json.dumps(card))
    with pytest.raises(DataLeakError, match="trained on test records"):
        run_interpatient(cfg, tmp_path / "leak", model=tmp_path / "ip" / "model", test_records=("100", "103"))


def test_interpatient_of_an_ensemble_averages_its_frozen_members(tmp_path):
    """An ensemble config trains every member on DS1 and scores their weighted mean on DS2; the leak check
    covers every member's training records."""
    from ecgscope.training.ensemble import EnsembleConfig

    _simulated_mitdb(tmp_path, ["101", "106", "108", "100", "103"])
    short = _config(tmp_path, ["101", "106", "108"], tmp_path, classes=("N", "S", "V"))
    wide = _config(tmp_path, ["101", "106", "108"], tmp_path, classes=("N", "S", "V"), window=(0.15, 0.2),
                   extra_windows=((0.4, 0.4),))
    ens = EnsembleConfig("ens-ip", {"short": short, "wide": wide}, {"short": 1.0, "wide": 3.0})
    result = run_interpatient(ens, tmp_path / "ip", test_records=("100", "103"), n_boot=0, plots=False)
    model = tmp_path / "ip" / "model"
    assert json.loads((model / "card.json").read_text())["kind"] == "beat-ensemble"
    assert set(result.predictions["record_id"]) == {"100", "103"}
    assert set(result.info["beat_dataset"]) == {"short", "wide"}
    probs = ["p_N", "p_S", "p_V"]
    alone = {name: run_interpatient(short, tmp_path / name, model=model / name, test_records=("100", "103"),
                                    n_boot=0, plots=False).predictions.set_index(["record_id", "sample"])
             for name in ("short", "wide")}
    got = result.predictions.set_index(["record_id", "sample"])
    both = got.index.intersection(alone["short"].index).intersection(alone["wide"].index)
    assert len(both) > 0.9 * len(got)
    mean = (alone["short"].loc[both, probs].to_numpy() + 3 * alone["wide"].loc[both, probs].to_numpy()) / 4
    np.testing.assert_allclose(got.loc[both, probs].to_numpy(), mean, atol=2e-5)

    card_path = model / "wide" / "card.json"  # a member swapped for one that saw a test record: refused
    card = json.loads(card_path.read_text())
    card["training"]["data"]["records"].append("100")
    card_path.write_text(json.dumps(card))
    with pytest.raises(ModelError, match=r"records \['100'\] that the ensemble card does not list"):
        run_interpatient(ens, tmp_path / "leak", model=model, test_records=("100", "103"))
    card_path = model / "card.json"  # an ensemble whose card lists it: a leak
    card = json.loads(card_path.read_text())
    card["training"]["data"]["records"].append("100")
    card_path.write_text(json.dumps(card))
    with pytest.raises(DataLeakError, match="trained on test records"):
        run_interpatient(ens, tmp_path / "leak", model=model, test_records=("100", "103"))


# ------------------------------------------------------------------ cross-validation
@pytest.mark.data
def test_cv_end_to_end_on_ds1_records(shared, tmp_path, few_beats):
    from ecgscope.training.experiment import load_beats

    cfg = _config(shared("mitdb").parent, ("101", "106", "119", "208"), tmp_path)
    beats = few_beats(load_beats(cfg.data), 30)
    run_cv(cfg, tmp_path / "cv", beats=beats, n_boot=50, save_checkpoints=False)
    out = tmp_path / "cv"
    for name in ("report.json", "report.md", "report.tex", "predictions.csv", "summary.json", "config.yaml",
                 "split.json", "version.json", "protocol.json", "confusion_matrix.png", "roc.png"):
        assert (out / name).is_file(), name
    report = json.loads((out / "report.json").read_text())
    assert report["n_beats"] == len(beats) and report["n_records"] == 4  # every beat predicted out of fold
    assert report["bootstrap"]["n_boot"] == 50 and report["classes"] == ["N", "S", "V", "F"]
    low, high = report["ci"]["accuracy"]
    assert low <= report["accuracy"] <= high
    split = json.loads((out / "split.json").read_text())
    for fold in split["folds"]:  # patient-wise: no test patient trained or validated on
        assert not set(fold["test_patients"]) & set(fold["train_patients"] + fold["val_patients"])
    predictions = pd.read_csv(out / "predictions.csv", dtype={"record_id": str})
    assert np.allclose(predictions[["p_N", "p_S", "p_V", "p_F"]].sum(axis=1), 1.0, atol=1e-4)
    assert "| Class |" in (out / "report.md").read_text()


# ------------------------------------------------------------------ cross-database
def _copy_records(shared, names, folder, fs, seconds=120.0):
    """MIT-BIH records cropped to ``seconds``, resampled to ``fs`` and written as WFDB into ``folder``."""
    from ecgscope import read, write

    for name in names:
        rec = read(shared("mitdb", name)).crop(0, int(seconds * 360)).resample(fs)
        rec.metadata.record_id = name
        write(rec, folder / f"{name}.hea")
    return folder


@pytest.mark.data
def test_cross_db_on_ds1_records_resampled_to_250_hz(shared, tmp_path, few_beats):
    from ecgscope import read
    from ecgscope.datasets.labels import aami_labels
    from ecgscope.models.checkpoint import read_card
    from ecgscope.training.experiment import load_beats, train_experiment

    cfg = _config(shared("mitdb").parent, ("106", "119", "208"), tmp_path)
    train_experiment(cfg, tmp_path / "model", beats=few_beats(load_beats(cfg.data), 30))
    assert read_card(tmp_path / "model")["fs"] == 360.0

    at250 = _copy_records(shared, ["201", "203"], tmp_path / "db250", 250.0)
    assert read(at250 / "201").fs == 250.0
    result = run_cross_db(tmp_path / "model", at250, tmp_path / "xdb", n_boot=30, cache=False)
    assert result.report.record_ids == ("201", "203")
    assert result.info["model_fs"] == 360.0 and result.info["beat_dataset"]["fs"] == 360.0
    for name in ("report.json", "report.md", "report.tex", "predictions.csv", "split.json", "version.json",
                 "protocol.json"):
        assert (tmp_path / "xdb" / name).is_file(), name
    # every N/S/V/F reference beat away from the ends is scored, with its reference class
    truth = []
    for name in ("201", "203"):
        ann = read(at250 / name).annotations["atr"]
        labels = aami_labels(ann.symbol)
        truth.append(labels[np.isin(labels, ["N", "S", "V", "F"])])
    expected = pd.Series(np.concatenate(truth)).value_counts()
    got = result.predictions["y_true"].value_counts()
    assert abs(int(got.sum()) - int(expected.sum())) <= 4  # at most the edge beats differ
    assert set(got.index) <= set(expected.index)

    # zero-shot at 250 Hz gives (nearly) the probabilities of the same beats at 360 Hz
    at360 = _copy_records(shared, ["201", "203"], tmp_path / "db360", 360.0)
    ref = run_cross_db(tmp_path / "model", at360, tmp_path / "x360", n_boot=0, cache=False, plots=False)
    a = result.predictions.assign(t=result.predictions["sample"] / 250.0).sort_values("t")
    b = ref.predictions.assign(t=ref.predictions["sample"] / 360.0).sort_values("t")
    both = pd.merge_asof(a, b, on="t", by="record_id", tolerance=0.006, direction="nearest",
                         suffixes=("", "_360"))
    both = both.dropna(subset=["p_N_360"])
    assert len(both) >= 0.98 * len(a)
    diff = np.abs(both[["p_N", "p_S", "p_V", "p_F"]].to_numpy()
                  - both[["p_N_360", "p_S_360", "p_V_360", "p_F_360"]].to_numpy())
    assert diff.mean() < 0.02
    assert both[["p_N", "p_S", "p_V", "p_F"]].std().max() > 10 * diff.mean()  # beats do differ


def test_cross_db_cli_needs_model_and_test(capsys):
    assert main(["benchmark", "beats", "--protocol", "cross-db"]) == 2
    assert "--model DIR and --test DIR" in capsys.readouterr().err
    assert main(["benchmark", "beats", "--protocol", "holdout"]) == 2
    assert "unknown protocol" in capsys.readouterr().err
