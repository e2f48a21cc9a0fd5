"""``ecgscope classify``: single files, folders, CSV / JSON / WFDB annotation output, errors."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ecgscope.cli import main
from ecgscope.io import write
from ecgscope.models.checkpoint import card_hash
from ecgscope.models.pretrained import default_beat_model_dir
from ecgscope.synthesis import simulate


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def record_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("recs")
    for seed, name in enumerate(("s01", "s02")):
        rec = simulate(duration=30, fs=250.0 if seed else 360.0, pvc_rate=0.1, seed=seed + 1)
        rec.annotations = {}
        write(rec, folder / f"{name}.hea")
    return folder


def test_single_record_prints_counts(record_dir, capsys):
    assert main(["classify", str(record_dir / "s01")]) == 0
    out = capsys.readouterr().out
    assert "s01" in out and "beats-default" in out and "V" in out


def test_csv_and_json_outputs(record_dir, tmp_path, capsys):
    out = tmp_path / "beats.csv"
    assert main(["classify", str(record_dir), "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert set(rows[0]) == {"record", "sample", "time_s", "label", "p_N", "p_S", "p_V", "p_F", "valid"}
    assert {r["record"] for r in rows} == {"s01", "s02"}
    assert all(abs(sum(float(r[f"p_{c}"]) for c in "NSVF") - 1) < 1e-3 for r in rows)

    js = tmp_path / "beats.json"
    assert main(["classify", str(record_dir), "-o", str(js)]) == 0
    doc = json.loads(js.read_text())
    assert doc["model"]["hash"] == card_hash(default_beat_model_dir())
    assert [r["record"] for r in doc["records"]] == ["s01", "s02"]
    for r in doc["records"]:
        assert sum(r["counts"].values()) == r["n_beats"] == len(r["sample"]) == len(r["proba"])
    assert doc["records"][1]["fs"] == 250.0
    s01 = [r for r in rows if r["record"] == "s01"]
    assert [int(r["sample"]) for r in s01] == doc["records"][0]["sample"]


def test_wfdb_annotation_output(record_dir, tmp_path, capsys):
    wfdb = pytest.importorskip("wfdb")
    out = tmp_path / "ann" / "s01.cls"
    assert main(["classify", str(record_dir / "s01.hea"), "-o", str(out)]) == 0
    ann = wfdb.rdann(str(out.with_suffix("")), "cls")
    assert set(ann.symbol) <= {"N", "S", "V", "F", "Q"} and "V" in ann.symbol
    assert np.all(np.diff(ann.sample) > 0) and ann.fs == 360.0

    outdir = tmp_path / "anns"
    assert main(["classify", str(record_dir), "-o", str(outdir), "--ann-ext", "ai"]) == 0
    assert sorted(p.name for p in outdir.iterdir()) == ["s01.ai", "s02.ai"]


@pytest.mark.parametrize("args, message", [
    (["{dir}/nope"], "no such file"),
    (["{dir}/s01", "--model", "no-such-model"], "no model"),
    (["{dir}/s01", "-o", "{tmp}/beats.hea"], "cannot write a WFDB annotation"),
    (["{dir}", "-o", "{tmp}/all.cls"], "cannot write 2 records"),
    (["{dir}/s01", "--lead", "V5"], "--lead"),
    (["{empty}"], "holds no ECG records"),
])
def test_errors_exit_2_with_one_line(record_dir, tmp_path, capsys, args, message):
    (tmp_path / "empty").mkdir()
    argv = [a.format(dir=record_dir, tmp=tmp_path, empty=tmp_path / "empty") for a in args]
    assert main(["classify", *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
