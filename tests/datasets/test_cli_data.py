"""``ecgscope data list | info | download | verify``."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ecgscope.cli import app, main


def _exit_code(args: list[str]) -> tuple[int, str]:
    """Exit status and output of a command run as the console script would (standalone mode).

    Used where the status must be 1: ``main()`` loses non-zero ``typer.Exit``
    codes until cli/app.py returns the value click hands back.
    """
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.output


def test_list_shows_registry_and_local_status(served_fakedb, tmp_path, capsys):
    server, _ = served_fakedb
    assert main(["data", "list", "--root", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("mitdb", "ludb", "cinc2017", "ptbxl", "chapman", "cpsc2021", "fakedb"):
        assert name in out
    assert main(["data", "download", "fakedb", "--dest", str(tmp_path), "--base-url", server.url,
                 "--records", "100,101"]) == 0
    capsys.readouterr()
    assert main(["data", "list", "--root", str(tmp_path), "--json"]) == 0
    rows = {r["name"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["fakedb"]["local"] == "2/3"
    assert rows["mitdb"]["local"] == "-"
    assert rows["cinc2017"]["fs"] == 300.0 and rows["cinc2017"]["records"] == 8528


def test_info_prints_citations(capsys):
    assert main(["data", "info", "cinc2017"]) == 0
    out = capsys.readouterr().out
    assert "challenge-2017/1.0.0" in out and "Clifford" in out and "Goldberger" in out


def test_unknown_database_is_one_line_exit_2(capsys):
    assert main(["data", "info", "nosuchdb"]) == 2
    err = capsys.readouterr().err
    assert "unknown database 'nosuchdb'" in err and "Traceback" not in err


def test_download_then_verify_then_corrupt(served_fakedb, tmp_path, capsys):
    server, _ = served_fakedb
    rc = main(["data", "download", "fakedb", "--dest", str(tmp_path), "--base-url", server.url])
    out = capsys.readouterr().out
    assert rc == 0 and "3 records" in out and "SHA-256 verified" in out
    folder = tmp_path / "fakedb"
    assert main(["data", "verify", str(folder)]) == 0
    assert "OK" in capsys.readouterr().out
    (folder / "102.dat").write_bytes(b"x")
    rc, out = _exit_code(["data", "verify", str(folder)])
    assert rc == 1 and "FAILED" in out and "102.dat" in out and "mismatch" in out


def test_download_error_is_exit_2(served_fakedb, tmp_path, capsys):
    server, digests = served_fakedb
    sums = server.root / "fakedb" / "1.0.0" / "SHA256SUMS.txt"
    sums.write_text(sums.read_text().replace(digests["100.hea"], "f" * 64))
    assert main(["data", "download", "fakedb", "--dest", str(tmp_path), "--base-url", server.url]) == 2
    err = capsys.readouterr().err
    assert "100.hea" in err and "SHA-256" in err


def test_verify_without_sums_checks_records(tmp_path, capsys, make_record, write_tree):
    folder = tmp_path / "somedb"
    write_tree(folder, {"r1": make_record("r1"), "r2": make_record("r2")}, sums=False)
    assert main(["data", "verify", str(folder)]) == 0
    capsys.readouterr()
    dat = folder / "r2.dat"
    dat.write_bytes(dat.read_bytes()[:100])  # truncated signal file
    rc, out = _exit_code(["data", "verify", str(folder)])
    assert rc == 1 and "r2" in out and "truncated" in out
    (folder / "r1.dat").unlink()
    rc, out = _exit_code(["data", "verify", str(folder), "--all"])
    assert rc == 1 and "missing" in out


def test_verify_not_a_folder(tmp_path, capsys):
    assert main(["data", "verify", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err


@pytest.mark.data
def test_verify_shared_mitdb(shared, capsys):
    folder = shared("mitdb")
    assert main(["data", "verify", str(folder)]) == 0
    assert "OK" in capsys.readouterr().out
