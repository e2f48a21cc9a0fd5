"""Data root resolution and local record discovery."""

from __future__ import annotations

import pytest

from ecgscope.datasets import data_root, database_dir, get_database, local_records
from ecgscope.datasets.paths import select_records
from ecgscope.errors import DatasetError


def test_root_resolution_order(tmp_path, monkeypatch):
    import platformdirs

    monkeypatch.setattr(platformdirs, "user_cache_path", lambda app: tmp_path / "cache" / app)
    monkeypatch.delenv("ECGSCOPE_DATA", raising=False)
    assert data_root() == tmp_path / "cache" / "ecgscope" / "datasets"
    monkeypatch.setenv("ECGSCOPE_DATA", str(tmp_path / "env"))
    assert data_root() == tmp_path / "env"
    assert data_root(tmp_path / "arg") == tmp_path / "arg"
    assert database_dir("challenge-2017", tmp_path / "arg") == tmp_path / "arg" / "cinc2017"


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("x")


def test_records_from_nested_records_files(tmp_path):
    db = get_database("cinc2017")
    for rec in ("A00/A00001", "A00/A00002", "A01/A01000"):
        _touch(tmp_path / "training" / f"{rec}.hea")
    (tmp_path / "training" / "RECORDS").write_text("A00/\nA01/A01000\nA99/A09999\n")
    (tmp_path / "training" / "A00" / "RECORDS").write_text("A00001\nA00002\n")
    assert local_records(db, tmp_path) == [
        "training/A00/A00001", "training/A00/A00002", "training/A01/A01000"]


def test_records_by_glob_when_no_records_file_and_filter(tmp_path):
    for rec in ("records500/00000/00001_hr", "records100/00000/00001_lr", "records500/00000/00010_hr",
                "records500/00000/00002_hr"):
        _touch(tmp_path / f"{rec}.hea")
    assert local_records("ptbxl", tmp_path) == [
        "records500/00000/00001_hr", "records500/00000/00002_hr", "records500/00000/00010_hr"]
    assert local_records("mitdb", tmp_path / "absent") == []


def test_select_records_by_name_or_path():
    available = ["data/1", "data/2", "data/10"]
    assert select_records(available, None) == available
    assert select_records(available, ["10", "data/1", "1"]) == ["data/10", "data/1"]
    assert select_records(available, 2) == ["data/2"]
    with pytest.raises(DatasetError, match="2 of the requested records are not available: 3, x"):
        select_records(available, ["3", "x"])


@pytest.mark.data
def test_shared_layouts_are_found(shared):
    root = shared()
    assert len(local_records("mitdb", root / "mitdb")) == len(list((root / "mitdb").glob("*.hea")))
    assert local_records("ludb", root / "ludb")[0] == "data/1"
    cinc = local_records("cinc2017", root / "cinc2017")
    assert cinc[0] == "A00001" and len(cinc) == len((root / "cinc2017" / "RECORDS").read_text().split())
