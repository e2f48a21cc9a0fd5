"""``ecgscope delineate``."""

from __future__ import annotations

import csv
import json

import pytest

from ecgscope.cli import main
from ecgscope.signal.delineation import POINTS


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    from ecgscope.io import write
    from ecgscope.synthesis import simulate

    folder = tmp_path_factory.mktemp("delin")
    for seed in (3, 4):
        rec = simulate(duration=20, fs=500, leads=["I", "II", "V5"], seed=seed)
        write(rec, folder / f"sim{seed}.hea")
    return folder


def test_single_record_summary(records, capsys):
    rc = main(["delineate", str(records / "sim3")])
    out = capsys.readouterr().out
    assert rc == 0 and "QTc" in out and "sim" in out


def test_csv_points_per_beat_and_lead(records, tmp_path, capsys):
    out = tmp_path / "points.csv"
    rc = main(["delineate", str(records / "sim3"), "--lead", "II,V5", "-o", str(out)])
    assert rc == 0
    rows = list(csv.DictReader(out.open()))
    assert {r["lead"] for r in rows} == {"II", "V5"}
    assert set(POINTS) <= set(rows[0])
    inner = [r for r in rows if int(r["beat"]) not in (0,)]
    found = sum(int(r["qrs_onset"]) >= 0 for r in inner) / len(inner)
    assert found > 0.9


def test_json_with_reference_beats(records, tmp_path, capsys):
    out = tmp_path / "d.json"
    rc = main(["delineate", str(records / "sim4"), "-r", "atr", "-m", "template", "-o", str(out)])
    assert rc == 0
    data = json.loads(out.read_text())
    assert data["record"] and set(data["points"]) == {"I", "II", "V5"}
    s = data["intervals"]["summary"]
    assert 60 <= s["QRS"] <= 140 and 300 <= s["QT"] <= 500 and 100 <= s["PR"] <= 260


def test_folder(records, tmp_path, capsys):
    out = tmp_path / "all.json"
    assert main(["delineate", str(records), "-o", str(out)]) == 0
    assert len(json.loads(out.read_text())) == 2
    assert main(["delineate", str(tmp_path / "empty")]) == 2


def test_errors_exit_2(records, capsys):
    assert main(["delineate", str(records / "sim3"), "--method", "dwt"]) == 2
    assert "unknown --method" in capsys.readouterr().err
    assert main(["delineate", str(records / "sim3"), "-o", str(records / "out.txt")]) == 2


@pytest.mark.data
def test_ludb_record(shared, capsys):
    rc = main(["delineate", str(shared("ludb", "data", "9")), "--lead", "II"])
    assert rc == 0 and "PR" in capsys.readouterr().out


def test_block_keeps_the_p_waves_of_a_sinus_stretch_in_a_mostly_af_record(tmp_path):
    from ecgscope.io import write
    from ecgscope.synthesis import simulate

    rec = simulate(duration=90, fs=250, leads=["II"], af_episodes=[(30.0, 90.0, 110.0)], seed=5)
    write(rec, tmp_path / "mixed.hea")
    shares = []
    for extra in ([], ["--block", "10"]):
        out = tmp_path / f"r{len(extra)}.json"
        assert main(["delineate", str(tmp_path / "mixed"), "-o", str(out), *extra]) == 0
        beats = json.loads(out.read_text())["intervals"]["beats"]
        sinus = [pr for pr, t in zip(beats["PR"], json.loads(out.read_text())["rpeaks"]) if t < 30 * 250]
        shares.append(sum(v is not None for v in sinus) / len(sinus))
    assert shares[0] < 0.2 and shares[1] > 0.9


def test_workers_give_the_same_points(tmp_path):
    from ecgscope.io import write
    from ecgscope.synthesis import simulate

    rec = simulate(duration=60, fs=250, leads=["II"], af_episodes=[(20.0, 40.0)], seed=6)
    write(rec, tmp_path / "rec.hea")
    outs = []
    for extra in ([], ["--workers", "2"]):
        out = tmp_path / f"w{len(extra)}.json"
        assert main(["delineate", str(tmp_path / "rec"), "--block", "10", "-o", str(out), *extra]) == 0
        outs.append(json.loads(out.read_text()))
    assert outs[0]["points"] == outs[1]["points"] and outs[0]["intervals"] == outs[1]["intervals"]
