"""``load()``: records with database, patient and labels attached."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from ecgscope.datasets import load, record_paths
from ecgscope.errors import DatasetError


@pytest.mark.data
def test_mitdb_101(shared):
    root = shared("mitdb").parent
    (rec,) = load("mitdb", root=root, records=["101"])
    meta = rec.metadata
    assert (meta.database, meta.record_id, meta.patient_id) == ("mitdb", "101", "101")
    assert rec.fs == 360 and rec.n_leads == 2 and rec.leads[0] == "II"
    assert meta.age is not None and meta.sex in ("M", "F")
    assert meta.extra["paced"] is False and "N" in meta.extra["rhythms"]
    assert len(rec.annotations["atr"]) > 1000


@pytest.mark.data
def test_mitdb_paced_record_is_marked(shared):
    root = shared("mitdb", "102").parent.parent
    (rec,) = load("mitdb", root=root, records=["102"])
    assert rec.metadata.extra["paced"] is True and "P" in rec.metadata.extra["rhythms"]


@pytest.mark.data
def test_cinc2017_labels_come_from_reference_csv(shared):
    root = shared("cinc2017").parent
    with open(root / "cinc2017" / "REFERENCE.csv") as fh:
        reference = dict(row for row in csv.reader(fh))
    wanted = {}
    for rid, label in reference.items():  # one record of each class
        wanted.setdefault(label, rid)
    for rec in load("cinc2017", root=root, records=list(wanted.values())):
        label = reference[rec.metadata.record_id]
        assert rec.metadata.extra["label"] == label
        assert len(rec.metadata.diagnoses) == 1 and rec.metadata.diagnoses[0]
        assert rec.metadata.patient_id == rec.metadata.record_id and rec.fs == 300
    assert set(wanted) == {"N", "A", "O", "~"}


@pytest.mark.data
def test_ludb_diagnoses_and_rhythm(shared):
    root = shared("ludb").parent
    (rec,) = load("ludb", root=root, records=["data/1"])
    header = (root / "ludb" / "data" / "1.hea").read_text()
    rhythm_line = next(line for line in header.splitlines() if line.startswith("#Rhythm:"))
    assert rec.metadata.extra["rhythm"] == rhythm_line.split(":", 1)[1].strip().rstrip(".")
    assert any(d.startswith("Rhythm:") for d in rec.metadata.diagnoses) and len(rec.metadata.diagnoses) > 1
    assert rec.metadata.patient_id == "1" and rec.metadata.age is not None
    assert rec.n_leads == 12 and {"i", "ii", "v6"} <= set(rec.annotations)


def test_missing_local_copy_says_how_to_download(tmp_path):
    with pytest.raises(DatasetError, match="no local copy of mitdb.*ecgscope data download mitdb"):
        list(load("mitdb", root=tmp_path))


def test_mitdb_202_is_patient_201(tmp_path, make_record, write_tree):
    write_tree(tmp_path / "mitdb", {"201": make_record("201"), "202": make_record("202")}, sums=False)
    patients = {r.metadata.record_id: r.metadata.patient_id for r in load("mitdb", root=tmp_path)}
    assert patients == {"201": "201", "202": "201"}


def test_annotation_only_records_are_skipped_unless_named(tmp_path, make_record, write_tree):
    write_tree(tmp_path / "afdb", {"04015": make_record("04015", fs=250, aux=["(AFIB", "", "", "(N", ""])},
               sums=False)
    (tmp_path / "afdb" / "00735.hea").write_text("00735 0 250 9000000\n")
    (tmp_path / "afdb" / "RECORDS").write_text("00735\n04015\n")
    assert record_paths("afdb", tmp_path) == ["04015"]
    (rec,) = load("afdb", root=tmp_path)
    assert rec.metadata.extra["rhythms"] == ["AFIB", "N"]
    starts = [e[0] for e in rec.metadata.extra["rhythm_episodes"]]
    assert starts == sorted(starts) and rec.metadata.extra["rhythm_episodes"][0][2] == "AFIB"


def test_cpsc2021_label_episodes_and_patient(tmp_path, make_record, write_tree):
    rec = make_record("data_7_3", fs=200, symbols=("+", "N", "N", "+", "N"), aux=["(AFIB", "", "", "(N", ""],
                      comments=["paroxysmal atrial fibrillation"])
    write_tree(tmp_path / "cpsc2021" / "training_I", {"data_7_3": rec}, sums=False)
    (out,) = load("cpsc2021", root=tmp_path)
    meta = out.metadata
    assert meta.patient_id == "7" and meta.extra["label"] == "AFp"
    ann = rec.annotations["atr"]
    assert meta.extra["af_episodes"] == [[int(ann.sample[0]), int(ann.sample[3])]]


def test_chapman_snomed_codes(tmp_path, make_record, write_tree):
    comments = ["Age: 85", "Sex: Male", "Dx: 164889003,59118001"]
    rec = make_record("JS00001", fs=500, n_leads=12, comments=comments)
    write_tree(tmp_path / "chapman" / "WFDBRecords" / "01" / "010", {"JS00001": rec}, sums=False,
               records_file=False)
    (out,) = load("chapman", root=tmp_path)
    assert out.metadata.extra["snomed"] == ["164889003", "59118001"]
    assert out.metadata.age == 85 and out.metadata.sex == "M"


def test_ptbxl_database_csv(tmp_path, make_record, write_tree):
    folder = tmp_path / "ptbxl"
    write_tree(folder / "records500" / "00000", {"00001_hr": make_record("00001_hr", fs=500, n_leads=12)},
               sums=False, records_file=False)
    (folder / "ptbxl_database.csv").write_text(
        "ecg_id,patient_id,age,sex,scp_codes,strat_fold,filename_lr,filename_hr\n"
        '1,15709.0,56.0,1,"{\'NORM\': 100.0, \'SR\': 0.0}",3,'
        "records100/00000/00001_lr,records500/00000/00001_hr\n"
    )
    (out,) = load("ptbxl", root=tmp_path)
    meta = out.metadata
    assert (meta.patient_id, meta.age, meta.sex) == ("15709", 56.0, "F")
    assert meta.diagnoses == ["NORM", "SR"] and meta.extra["scp_codes"]["NORM"] == 100.0
    assert meta.extra["strat_fold"] == 3


def test_cinc2017_without_reference_is_an_error(tmp_path, make_record, write_tree):
    write_tree(tmp_path / "cinc2017", {"A00001": make_record("A00001", fs=300, n_leads=1)}, sums=False)
    with pytest.raises(DatasetError, match="REFERENCE.csv"):
        list(load("cinc2017", root=tmp_path))


def test_load_keeps_signal_and_annotations(tmp_path, make_record, write_tree):
    original = make_record("100")
    write_tree(tmp_path / "mitdb", {"100": original}, sums=False)
    (rec,) = load("mitdb", root=tmp_path, records="100")
    np.testing.assert_allclose(rec.signal, original.signal, atol=1e-3)
    assert rec.annotations["atr"].symbol.tolist() == original.annotations["atr"].symbol.tolist()
