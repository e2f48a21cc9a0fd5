"""``ecgscope rhythm`` and ``ecgscope benchmark rhythm``: files, folders, CSV / JSON, zero-shot, errors."""

from __future__ import annotations

import csv
import json

import pytest

from ecgscope.cli import main
from ecgscope.cli.rhythm import rhythm_options
from ecgscope.errors import ConfigError
from ecgscope.io import write
from ecgscope.synthesis import simulate

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A barely trained resnet1d-rhythm checkpoint (the CLI only needs well-formed output)."""
    from ecgscope.datasets.rhythm import RhythmSet
    from ecgscope.models.rhythm import create_rhythm_estimator

    recs = [simulate(duration=20, fs=100, leads=["II"], af_episodes=[(0, 20)] if i % 2 else (), seed=i)
            for i in range(4)]
    ids = list("abcd")
    data = RhythmSet([r.signal for r in recs], 100.0, ["N", "A"] * 2, ids, ids, "sim", ("II",))
    est = create_rhythm_estimator("resnet1d-rhythm", window_s=5.0, hop_s=5.0, epochs=1, max_steps_per_epoch=2,
                                  batch_size=8, val_fraction=0.0)
    return est.fit(data).save(tmp_path_factory.mktemp("model") / "tiny-rhythm")


@pytest.fixture(scope="module")
def record_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recs")
    for seed, name in enumerate(("s01", "s02")):
        rec = simulate(duration=22, fs=250.0 if seed else 360.0, leads=["MLII", "V1"],
                       af_episodes=[(0, 22)] if seed else (), seed=seed + 1)
        rec.annotations = {}
        write(rec, folder / f"{name}.hea")
    return folder


def test_single_record_prints_label_and_probabilities(model_dir, record_dir, capsys):
    assert main(["rhythm", str(record_dir / "s01"), "--model", str(model_dir)]) == 0
    out = capsys.readouterr().out
    assert "s01" in out and "tiny-rhythm" in out and "p_A" in out


def test_folder_to_csv_per_record_and_per_window(model_dir, record_dir, tmp_path):
    out = tmp_path / "rhythm.csv"
    assert main(["rhythm", str(record_dir), "-m", str(model_dir), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [r["record"] for r in rows] == ["s01", "s02"]
    assert all(abs(sum(float(r[f"p_{c}"]) for c in "NAO~") - 1) < 1e-3 for r in rows)
    assert rows[0]["lead"] == "II" and rows[0]["n_windows"] == "5"  # 22 s: 0, 5, 10, 15, 17 s
    args = ["rhythm", str(record_dir), "-m", str(model_dir), "-o", str(out)]
    assert main([*args, "--windows", "--lead", "V1"]) == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 10 and rows[-1]["start_s"] == "17" and rows[-1]["end_s"] == "22"


def test_json_output_with_windows(model_dir, record_dir, tmp_path):
    out = tmp_path / "r.json"
    assert main(["rhythm", str(record_dir / "s02.hea"), "-m", str(model_dir), "-o", str(out), "-w"]) == 0
    doc = json.loads(out.read_text())
    assert doc["model"]["name"] == "tiny-rhythm" and len(doc["model"]["hash"]) == 64
    (rec,) = doc["records"]
    assert rec["record"] == "s02" and rec["fs"] == 250.0 and len(rec["windows"]) == rec["n_windows"] == 5
    assert rec["label"] in doc["model"]["classes"]


def test_errors_exit_2(model_dir, record_dir, tmp_path, monkeypatch, capsys):
    assert main(["rhythm", str(record_dir), "-m", str(model_dir), "-o", str(tmp_path / "r.txt")]) == 2
    assert main(["rhythm", str(record_dir), "-m", str(tmp_path / "none")]) == 2
    from ecgscope.models import pretrained

    monkeypatch.setattr(pretrained, "PRETRAINED_DIR", tmp_path)  # no shipped rhythm-default
    assert main(["rhythm", str(record_dir)]) == 2
    assert "rhythm-default" in capsys.readouterr().err


# ------------------------------------------------------------------ benchmark rhythm
def test_benchmark_help_mentions_rhythm(capsys):
    assert main(["benchmark", "--help"]) == 0
    assert "rhythm" in capsys.readouterr().out
    assert main(["benchmark", "rhythm", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--protocol" in out and "--checkpoint" in out and "--test-kind" in out


@pytest.fixture(scope="module")
def ludb_like(tmp_path_factory):
    """A LUDB-like folder: 10-s records whose header states the rhythm."""
    folder = tmp_path_factory.mktemp("zs") / "my-ludb-copy"
    folder.mkdir()
    for i in range(6):
        af = i % 2 == 1
        rec = simulate(duration=10, fs=500.0, leads=["I", "II"], af_episodes=[(0, 10)] if af else (),
                       seed=20 + i)
        rec.metadata.diagnoses = ["Rhythm: Atrial fibrillation." if af else "Rhythm: Sinus rhythm."]
        rec.annotations = {}
        write(rec, folder / f"{i + 1}.hea")
    return folder


def test_benchmark_zero_shot_with_a_frozen_checkpoint(model_dir, ludb_like, tmp_path, capsys):
    out = tmp_path / "zs"
    assert main(["benchmark", "rhythm", "-p", "zero-shot", "--checkpoint", str(model_dir),
                 "--test", str(ludb_like), "--n-boot", "0", "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Zero-shot" in text and "my-ludb-copy" in text
    report = json.loads((out / "report.json").read_text())
    assert report["targets"]["my-ludb-copy"]["source"] == "ludb"
    rows = list(csv.DictReader((out / "predictions.csv").open()))
    assert len(rows) == 6 and {r["label"] for r in rows} == {"AF", "non-AF"}
    run = json.loads((out / "run.json").read_text())
    assert run["protocol"] == "zero-shot" and run["targets"]["my-ludb-copy"]["n_items"] == 6
    assert (out / "report.md").is_file()


def test_benchmark_argument_errors(model_dir, ludb_like, tmp_path):
    base = ["benchmark", "rhythm", "-o", str(tmp_path / "x")]
    assert main([*base, "-p", "holdout", "-m", "gbm-rr"]) == 2
    assert main([*base, "-p", "cv", "-m", "gbm-rr", "--checkpoint", str(model_dir)]) == 2
    assert main([*base, "-p", "zero-shot", "--checkpoint", str(model_dir)]) == 2  # no --test
    frozen = [*base, "-p", "zero-shot", "--checkpoint", str(model_dir)]
    assert main([*frozen, "-m", "ramba", "-t", str(ludb_like)]) == 2
    assert main([*frozen, "-t", str(tmp_path)]) == 2  # unknown kind
    assert main([*base, "-p", "cv", "-m", "no-such-model"]) == 2
    assert not (tmp_path / "x").exists()


def test_rhythm_options_from_config_and_overrides(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("estimator: resnet1d-rhythm\noptions:\n  epochs: 6\n  bandpass: [0.5, 40.0]\n")
    name, options = rhythm_options(None, cfg, ["epochs=2", "options.lr=0.01"])
    assert name == "resnet1d-rhythm" and options == {"epochs": 2, "bandpass": [0.5, 40.0], "lr": 0.01}
    assert rhythm_options("gbm-rr", None, []) == ("gbm-rr", {})
    with pytest.raises(ConfigError, match="no estimator"):
        rhythm_options(None, None, [])
    with pytest.raises(ConfigError, match="nested"):
        rhythm_options("ramba", None, ["a.b=1"])


def test_mitdb_folder_is_recognised(shared):
    from ecgscope.cli.rhythm import _test_kind

    assert _test_kind(shared("mitdb"), None) == "mitdb"
    assert _test_kind(shared("ludb"), None) == "ludb"
