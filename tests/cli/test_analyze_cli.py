"""``ecgscope analyze``: one file, a folder (progress, resumable, --force), clear errors."""

from __future__ import annotations

import json

import pytest

import ecgscope
from ecgscope.cli.app import main
from ecgscope.synthesis import simulate


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("records")
    for seed in (1, 2):
        rec = simulate(duration=20.0, fs=250.0, seed=seed, noise=30.0)
        rec.metadata.record_id = f"r{seed}"
        ecgscope.write(rec, d / f"r{seed}.hea")
    return d


def test_one_file(folder, tmp_path, capsys):
    assert main(["analyze", str(folder / "r1"), "-o", str(tmp_path), "--format", "json",
                 "--beat-model", "none"]) == 0
    data = json.loads((tmp_path / "r1.json").read_text())
    assert data["record"]["fs"] == 250.0 and data["beats"]["sample"]


def test_folder_is_resumable(folder, tmp_path, capsys):
    args = ["analyze", str(folder), "-o", str(tmp_path), "--format", "json,html", "--beat-model", "none"]
    assert main(args) == 0
    assert "2 analysed, 0 skipped" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r1.html", "r1.json", "r2.html", "r2.json"]
    assert main(args) == 0
    assert "0 analysed, 2 skipped" in capsys.readouterr().out
    assert main(args + ["--force"]) == 0
    assert "2 analysed, 0 skipped" in capsys.readouterr().out


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["analyze", str(tmp_path / "missing"), "-o", str(tmp_path)]) == 2
    assert main(["analyze", str(tmp_path), "-o", str(tmp_path / "o"), "--format", "docx"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "unknown report format" in err


def test_rhythm_model_workers_give_the_same_report(folder, tmp_path, monkeypatch):
    import ecgscope.models.rhythm.preprocess as pre

    monkeypatch.setattr(pre, "PARALLEL_MIN_SPANS", 1)  # 20 s of record still goes to two processes
    episodes = []
    for workers in ("1", "2"):
        pre.clear_memo()
        out = tmp_path / workers
        assert main(["analyze", str(folder / "r1"), "-o", str(out), "--format", "json", "--beat-model", "none",
                     "--rhythm-model", "default", "--workers", workers]) == 0
        data = json.loads((out / "r1.json").read_text())
        assert data["provenance"]["models"]["rhythm"]["name"] == "rhythm-default"
        episodes.append(data["rhythm"])
    assert episodes[0] == episodes[1]
