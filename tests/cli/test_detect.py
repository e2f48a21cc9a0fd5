"""``ecgscope detect``: single files, folders, output formats, errors."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from ecgscope.cli import main
from ecgscope.io import write
from ecgscope.record import Record


def _ecg(seconds=20.0, fs=250.0, rr=0.75, leads=2):
    t = np.arange(int(seconds * fs)) / fs
    beats = np.arange(0.5, seconds - 0.3, rr)
    sig = np.zeros((leads, t.size))
    for b in beats:
        sig += np.exp(-0.5 * ((t - b) / 0.012) ** 2) * np.linspace(1.0, 0.5, leads)[:, None]
        sig += 0.25 * np.exp(-0.5 * ((t - b - 0.28) / 0.05) ** 2)
    return sig.astype(np.float32), np.rint(beats * fs).astype(np.int64)


@pytest.fixture
def record_dir(tmp_path):
    folder = tmp_path / "recs"
    truth = {}
    for name, rr in (("a01", 0.75), ("b02", 1.0)):
        sig, beats = _ecg(rr=rr)
        write(Record(signal=sig, fs=250.0, original_leads=["MLII", "V1"]), folder / f"{name}.hea")
        truth[name] = beats
    return folder, truth


def test_single_record_prints_count_and_rate(record_dir, capsys):
    folder, truth = record_dir
    assert main(["detect", str(folder / "a01")]) == 0
    out = capsys.readouterr().out
    assert f"{truth['a01'].size} beats" in out
    assert "80.0 bpm" in out  # rr 0.75 s


def test_csv_output(record_dir, tmp_path, capsys):
    folder, truth = record_dir
    out = tmp_path / "peaks.csv"
    assert main(["detect", str(folder / "a01.hea"), "-m", "pan_tompkins", "--lead", "II", "-o", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    samples = np.array([int(r["sample"]) for r in rows])
    assert np.all(np.abs(samples - truth["a01"]) <= 2)
    assert {r["record"] for r in rows} == {"a01"}
    assert all(0.0 <= float(r["confidence"]) <= 1.0 for r in rows)


def test_wfdb_annotation_output(record_dir, tmp_path, capsys):
    wfdb = pytest.importorskip("wfdb")
    folder, truth = record_dir
    out = tmp_path / "ann" / "a01.qrs"
    assert main(["detect", str(folder / "a01"), "-o", str(out)]) == 0
    ann = wfdb.rdann(str(out.with_suffix("")), "qrs")
    assert np.all(np.abs(ann.sample - truth["a01"]) <= 2)
    assert set(ann.symbol) == {"N"}


def test_directory_json_and_per_record_annotations(record_dir, tmp_path, capsys):
    folder, truth = record_dir
    out = tmp_path / "all.json"
    assert main(["detect", str(folder), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 records" in text
    data = json.loads(out.read_text())
    by_name = {r["record"]: r for r in data["records"]}
    assert set(by_name) == {"a01", "b02"}
    assert by_name["b02"]["n_beats"] == truth["b02"].size
    assert by_name["b02"]["heart_rate_bpm"] == pytest.approx(60.0, abs=0.5)
    outdir = tmp_path / "qrs"
    assert main(["detect", str(folder), "-o", str(outdir), "--ann-ext", "ecg"]) == 0
    assert sorted(p.name for p in outdir.iterdir()) == ["a01.ecg", "b02.ecg"]


def test_folder_skips_bad_files_and_keeps_going(record_dir, capsys):
    folder, truth = record_dir
    (folder / "broken.csv").write_text("not,an\necg,file\n")
    assert main(["detect", str(folder)]) == 0
    captured = capsys.readouterr()
    assert "skipped" in captured.err and "broken" in captured.err
    assert "2 records" in captured.out


@pytest.mark.parametrize(
    "args, message",
    [
        (["detect", "{dir}/a01", "--method", "magic"], "unknown method"),
        (["detect", "{dir}/a01", "--lead", "V6"], "no lead"),
        (["detect", "{dir}/nothing"], "no such file"),
        (["detect", "{dir}", "-o", "{dir}/x.qrs"], "one WFDB annotation file"),
    ],
)
def test_errors_are_one_line_exit_2(record_dir, capsys, args, message):
    folder, _ = record_dir
    rc = main([a.format(dir=folder) for a in args])
    err = capsys.readouterr().err
    assert rc == 2
    assert message in err and "Traceback" not in err


def test_empty_folder_is_an_error(tmp_path, capsys):
    assert main(["detect", str(tmp_path)]) == 2
    assert "no ECG records" in capsys.readouterr().err
