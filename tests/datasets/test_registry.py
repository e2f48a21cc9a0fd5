"""The database registry: every required database, complete and consistent entries."""

from __future__ import annotations

import re

import pytest

from ecgscope.datasets import DATABASES, PHYSIONET_CITATION, get_database
from ecgscope.datasets.loader import _SCHEMES
from ecgscope.errors import DatasetError

REQUIRED = (
    "mitdb", "svdb", "incartdb", "afdb", "nstdb", "ludb", "qtdb", "cinc2017", "ptbxl", "chapman", "cpsc2021",
)


def test_every_required_database_is_registered():
    assert set(REQUIRED) <= set(DATABASES)


@pytest.mark.parametrize("name", REQUIRED)
def test_entry_is_complete(name):
    db = DATABASES[name]
    assert db.name == name
    assert re.fullmatch(r"[a-z0-9\-]+", db.slug)
    assert re.fullmatch(r"\d+\.\d+\.\d+", db.version)
    assert db.url_path == f"{db.slug}/{db.version}/"
    assert db.fs > 0 and db.n_leads >= 1 and len(db.leads) == db.n_leads
    assert db.n_records > 0
    if db.records:
        assert len(db.records) == db.n_records == len(set(db.records))
    assert db.licence in ("ODC-By-1.0", "CC-BY-4.0")
    assert len(db.citation) > 20 and db.citation != PHYSIONET_CITATION
    assert "Goldberger" in db.citations[1] and "Circulation" in db.citations[1]
    assert db.labels and db.patients
    assert db.label_scheme in _SCHEMES
    assert set(db.annotation_only) <= set(db.records)
    assert db.size_mb is None or db.size_mb > 0


@pytest.mark.parametrize(
    "name, slug, version, fs, n_leads",
    [  # as published on physionet.org/content/<slug>/<version>/
        ("mitdb", "mitdb", "1.0.0", 360, 2), ("svdb", "svdb", "1.0.0", 128, 2),
        ("incartdb", "incartdb", "1.0.0", 257, 12), ("afdb", "afdb", "1.0.0", 250, 2),
        ("nstdb", "nstdb", "1.0.0", 360, 2), ("ludb", "ludb", "1.0.1", 500, 12),
        ("qtdb", "qtdb", "1.0.0", 250, 2), ("cinc2017", "challenge-2017", "1.0.0", 300, 1),
        ("ptbxl", "ptb-xl", "1.0.3", 500, 12), ("chapman", "ecg-arrhythmia", "1.0.0", 500, 12),
        ("cpsc2021", "cpsc2021", "1.0.0", 200, 2),
    ],
)
def test_published_facts(name, slug, version, fs, n_leads):
    db = DATABASES[name]
    assert (db.slug, db.version, db.fs, db.n_leads) == (slug, version, fs, n_leads)


def test_mitdb_record_list_is_the_48_records():
    recs = get_database("mitdb").records
    assert recs[0] == "100" and recs[-1] == "234" and "110" not in recs and "202" in recs


@pytest.mark.data
def test_ludb_inline_records_match_the_shared_records_file(shared):
    listed = shared("ludb", "RECORDS").read_text().split()
    assert set(listed) <= set(get_database("ludb").records)


def test_lookup_by_slug_alias_and_unknown():
    assert get_database("challenge-2017").name == "cinc2017"
    assert get_database(" PTB-XL ").name == "ptbxl"
    assert get_database("ecg-arrhythmia").name == "chapman"
    with pytest.raises(DatasetError, match="unknown database 'nope'.*ecgscope data list"):
        get_database("nope")
