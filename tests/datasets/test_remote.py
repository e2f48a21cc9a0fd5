"""Download, resume, checksum and verify, offline against a local HTTP server."""

from __future__ import annotations

import hashlib
import json

import pytest

from ecgscope.datasets import download, load, verify
from ecgscope.datasets.remote import MANIFEST_FILE, SUMS_FILE, fetch_file, parse_sha256sums, plan_download
from ecgscope.errors import ChecksumError, DatasetError, DownloadError


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _gets(server, rel):
    return [rng for path, rng in server.log if path.endswith(rel)]


def test_download_fetches_verifies_and_loads(served_fakedb, tmp_path):
    server, digests = served_fakedb
    report = download("fakedb", dest=tmp_path / "data", base_url=server.url)
    target = tmp_path / "data" / "fakedb"
    assert report.dest == target
    assert report.records == ["100", "101", "102"]
    for rel, digest in digests.items():
        assert _sha(target / rel) == digest
    assert not list(target.rglob("*.part"))
    assert (target / SUMS_FILE).is_file()
    manifest = json.loads((target / MANIFEST_FILE).read_text())
    assert set(manifest["files"]) == set(digests)
    assert verify(target).ok
    recs = list(load("fakedb", root=tmp_path / "data"))
    assert [r.metadata.record_id for r in recs] == ["100", "101", "102"]
    assert all(r.metadata.database == "fakedb" and "atr" in r.annotations for r in recs)


def test_second_run_skips_verified_files(served_fakedb, tmp_path):
    server, digests = served_fakedb
    download("fakedb", dest=tmp_path, base_url=server.url)
    server.log.clear()
    report = download("fakedb", dest=tmp_path, base_url=server.url)
    assert set(report.counts()) == {"present"}
    fetched = {path for path, _ in server.log}
    assert not any(path.endswith((".dat", ".atr")) for path in fetched)


def test_interrupted_download_resumes_with_range(served_fakedb, tmp_path):
    server, digests = served_fakedb
    server.drop["fakedb/1.0.0/101.dat"] = 100_000
    with pytest.raises(DownloadError, match="interrupted"):
        download("fakedb", dest=tmp_path, base_url=server.url, retries=0)
    part = tmp_path / "fakedb" / "101.dat.part"
    kept = part.stat().st_size
    assert 0 < kept <= 100_000  # whole chunks received before the drop are kept
    assert not (tmp_path / "fakedb" / "101.dat").exists()
    server.log.clear()
    report = download("fakedb", dest=tmp_path, base_url=server.url)
    assert report.status["101.dat"] == "resumed"
    assert _gets(server, "101.dat") == [f"bytes={kept}-"]
    assert _sha(tmp_path / "fakedb" / "101.dat") == digests["101.dat"]
    assert not part.exists()
    assert verify(tmp_path / "fakedb").ok


def test_dropped_connection_is_retried_within_one_run(served_fakedb, tmp_path):
    server, digests = served_fakedb
    server.drop["fakedb/1.0.0/101.dat"] = 100_000
    report = download("fakedb", dest=tmp_path, base_url=server.url, retries=2)
    gets = _gets(server, "101.dat")
    assert len(gets) == 2 and gets[0] is None and gets[1].startswith("bytes=")
    assert report.status["101.dat"] == "downloaded"
    assert _sha(tmp_path / "fakedb" / "101.dat") == digests["101.dat"]


def test_server_without_range_support_restarts_the_file(served_fakedb, tmp_path):
    server, digests = served_fakedb
    server.httpd.ranges = False
    dest = tmp_path / "100.dat"
    (tmp_path / "100.dat.part").write_bytes(b"garbage that is not the start of the file")
    url = f"{server.url}/fakedb/1.0.0/100.dat"
    import requests

    assert fetch_file(requests.Session(), url, dest, digests["100.dat"]) == "resumed"
    assert _sha(dest) == digests["100.dat"]


def test_checksum_mismatch_raises_and_leaves_no_file(served_fakedb, tmp_path):
    server, digests = served_fakedb
    sums_path = server.root / "fakedb" / "1.0.0" / SUMS_FILE
    sums_path.write_text(sums_path.read_text().replace(digests["102.dat"], "0" * 64))
    with pytest.raises(ChecksumError, match="SHA-256") as info:
        download("fakedb", dest=tmp_path, base_url=server.url)
    assert "102.dat" in str(info.value)
    assert not (tmp_path / "fakedb" / "102.dat").exists()
    assert not (tmp_path / "fakedb" / "102.dat.part").exists()


def test_corrupted_local_file_is_fetched_again(served_fakedb, tmp_path):
    server, digests = served_fakedb
    download("fakedb", dest=tmp_path, base_url=server.url)
    target = tmp_path / "fakedb" / "100.atr"
    target.write_bytes(b"\x00" * 10)
    report = verify(tmp_path / "fakedb")
    assert not report.ok and [c.name for c in report.failures()] == ["100.atr"]
    assert report.failures()[0].status == "mismatch"
    download("fakedb", dest=tmp_path, base_url=server.url)
    assert _sha(target) == digests["100.atr"]


def test_subset_of_records_and_partial_verify(served_fakedb, tmp_path):
    server, _ = served_fakedb
    report = download("fakedb", dest=tmp_path, records=["101"], base_url=server.url)
    target = tmp_path / "fakedb"
    assert report.records == ["101"]
    assert (target / "101.dat").is_file() and not (target / "100.dat").exists()
    assert verify(target).ok  # only what was asked for is expected
    download("fakedb", dest=tmp_path, records=["100"], base_url=server.url)
    names = {c.name for c in verify(target).checks}
    assert {"100.dat", "101.dat"} <= names and "102.dat" not in names
    (target / "101.dat").unlink()
    bad = verify(target)
    assert [(c.name, c.status) for c in bad.failures()] == [("101.dat", "missing")]


def test_unknown_record_is_a_clear_error(served_fakedb, tmp_path):
    server, _ = served_fakedb
    with pytest.raises(DatasetError, match="not available: 999"):
        download("fakedb", dest=tmp_path, records=["999"], base_url=server.url)


def test_without_sha256sums_headers_name_the_files(file_server, fakedb, tmp_path, make_record, write_tree):
    records = {"a1": make_record("a1", seed=1), "a2": make_record("a2", seed=2)}
    digests = write_tree(file_server.root / "fakedb" / "1.0.0", records, sums=False)
    plan = plan_download("fakedb", tmp_path, base_url=file_server.url)
    assert not plan.has_sums
    report = download("fakedb", dest=tmp_path, base_url=file_server.url)
    assert report.status["a1.dat"] == "downloaded" and report.status["ANNOTATORS"] == "absent"
    for rel in ("a1.hea", "a1.dat", "a1.atr", "a2.dat"):
        assert _sha(tmp_path / "fakedb" / rel) == digests[rel]
    result = verify(tmp_path / "fakedb")
    assert result.method == "records" and result.ok and len(result.checks) == 2


def test_base_url_from_environment(served_fakedb, tmp_path, monkeypatch):
    server, _ = served_fakedb
    monkeypatch.setenv("ECGSCOPE_PHYSIONET_URL", server.url + "/")
    download("fakedb", dest=tmp_path, records=["100"])
    assert (tmp_path / "fakedb" / "100.hea").is_file()


def test_missing_database_on_server_is_a_download_error(file_server, fakedb, tmp_path):
    with pytest.raises(DownloadError, match="neither RECORDS nor"):
        download("fakedb", dest=tmp_path, base_url=file_server.url)


def test_unreachable_server_is_a_download_error(fakedb, tmp_path):
    with pytest.raises(DownloadError, match="cannot connect"):
        download("fakedb", dest=tmp_path, base_url="http://127.0.0.1:9")


def test_parse_sha256sums_accepts_sha256sum_styles_and_rejects_junk():
    h = "ab" * 32
    sums = parse_sha256sums(f"{h}  a/b.dat\n{h} *c.hea\n\n{h} ./d.atr\n")
    assert sums == {"a/b.dat": h, "c.hea": h, "d.atr": h}
    with pytest.raises(DatasetError, match="line 1"):
        parse_sha256sums("not a checksum line\n")
    with pytest.raises(DatasetError, match="unsafe"):
        parse_sha256sums(f"{h} ../escape.dat\n")


def test_challenge_layout_with_nested_records_and_reference(file_server, monkeypatch, tmp_path, make_record,
                                                            write_tree):
    """A cinc2017-shaped tree: training/RECORDS -> A00/ -> A00/RECORDS, labels in training/REFERENCE.csv."""
    from dataclasses import replace

    from ecgscope.datasets.registry import DATABASES

    db = replace(DATABASES["cinc2017"], name="fakecinc", slug="fakecinc", records=())
    monkeypatch.setitem(DATABASES, "fakecinc", db)
    version_root = file_server.root / "fakecinc" / "1.0.0"
    recs = {f"A00/A0000{i}": make_record(f"A0000{i}", fs=300, n_leads=1, seed=i) for i in (1, 2)}
    write_tree(version_root / "training", recs, records_file=False, sums=False,
               extra={"RECORDS": "A00/\n", "A00/RECORDS": "A00001\nA00002\n",
                      "REFERENCE.csv": "A00001,N\nA00002,A\n"})
    digests = write_tree(version_root, {}, records_file=False)  # SHA256SUMS.txt over the whole tree
    report = download("fakecinc", dest=tmp_path, base_url=file_server.url, records=["A00002"])
    assert report.records == ["training/A00/A00002"]
    target = tmp_path / "fakecinc"
    for rel in ("training/A00/A00002.dat", "training/A00/RECORDS", "training/REFERENCE.csv"):
        assert _sha(target / rel) == digests[rel]
    assert not (target / "training/A00/A00001.hea").exists()
    (rec,) = load("fakecinc", root=tmp_path)
    assert rec.metadata.record_id == "A00002" and rec.metadata.extra["label"] == "A"
    assert verify(target).ok
