"""``ecgscope hrv``."""

from __future__ import annotations

import json

import pytest

from ecgscope.cli import main


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from ecgscope.io import write
    from ecgscope.synthesis import simulate

    folder = tmp_path_factory.mktemp("hrv")
    for seed in (1, 2):
        rec = simulate(duration=90, fs=250, leads=["II", "V1"], heart_rate=60 + 10 * seed, seed=seed)
        write(rec, folder / f"sim{seed}.hea")
    (folder / "broken.csv").write_text("not,an\necg")
    return folder


def test_single_record_table(records, capsys):
    rc = main(["hrv", str(records / "sim1")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "SDNN" in out and "RMSSD" in out and "sim" in out


def test_json_output_with_reference_beats(records, capsys):
    rc = main(["hrv", str(records / "sim1"), "--reference", "atr", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert data["n_beats"] > 80 and 800 < data["HRV_MeanNN"] < 920  # 70 bpm = 857 ms
    assert data["HRV_SDNN"] > 0 and "HRV_HF" in data and "HRV_DFA_alpha1" in data


def test_detected_and_reference_beats_agree(records, capsys):
    main(["hrv", str(records / "sim2"), "--json"])
    detected = json.loads(capsys.readouterr().out)
    main(["hrv", str(records / "sim2"), "--json", "-r", "atr", "--lead", "II"])
    reference = json.loads(capsys.readouterr().out)
    assert detected["HRV_MeanNN"] == pytest.approx(reference["HRV_MeanNN"], rel=0.01)
    assert detected["HRV_SDNN"] == pytest.approx(reference["HRV_SDNN"], rel=0.15)


def test_folder_with_progress_skips_broken_files(records, tmp_path, capsys):
    out_csv = tmp_path / "hrv.csv"
    rc = main(["hrv", str(records), "--method", "lomb", "-o", str(out_csv)])
    captured = capsys.readouterr()
    assert rc == 0
    assert "skipped" in captured.err and "broken" in captured.err
    lines = out_csv.read_text().splitlines()
    assert lines[0].startswith("record,n_beats,") and len(lines) == 3
    out_json = tmp_path / "hrv.json"
    assert main(["hrv", str(records), "--json", "-o", str(out_json)]) == 0
    assert len(json.loads(out_json.read_text())) == 2


def test_errors_exit_2(records, capsys):
    assert main(["hrv", str(records / "sim1"), "--method", "fft"]) == 2
    assert "unknown --method" in capsys.readouterr().err
    assert main(["hrv", str(records / "sim1"), "--reference", "nope"]) == 2
    assert "no 'nope' annotations" in capsys.readouterr().err
    assert main(["hrv", str(records / "sim1"), "--lead", "V9"]) == 2
    assert main(["hrv", str(records / "sim1"), "-o", str(records / "x.txt")]) == 2


@pytest.mark.data
def test_mitdb_record(shared, capsys):
    rc = main(["hrv", str(shared("mitdb", "101")), "--reference", "atr", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and 900 < data["HRV_MeanNN"] < 1050
