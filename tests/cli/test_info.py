"""``ecgscope info``: tables and JSON on written and real records; windowed reading."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

import ecgscope
from ecgscope.cli import main
from ecgscope.cli.info import load_window

pytest.importorskip("ecgscope.io.wfdb")


@pytest.fixture
def wfdb_file(small_record, tmp_path):
    ecgscope.write(small_record, tmp_path / "rec.hea")
    return tmp_path / "rec"


def run_json(capsys, *args):
    rc = main(["info", *map(str, args), "--json"])
    out = capsys.readouterr().out
    assert rc == 0
    return json.loads(out)


def test_info_table_shows_fs_leads_and_counts(wfdb_file, small_record, capsys):
    rc = main(["info", str(wfdb_file)])
    out = capsys.readouterr().out
    assert rc == 0
    assert "250 Hz" in out and "wfdb" in out
    assert "0:00:10.000 (2500 samples)" in out
    for name in small_record.leads + small_record.original_leads:
        assert name in out
    assert f"N: {len(small_record.annotations['atr'])}" in out
    assert "50" in out and " F " in out  # age and sex


def test_info_json_parses_and_matches_the_record(wfdb_file, small_record, capsys):
    data = run_json(capsys, wfdb_file)
    assert data["fs"] == small_record.fs and data["n_samples"] == small_record.n_samples
    assert data["leads"] == small_record.leads and data["original_leads"] == small_record.original_leads
    assert data["annotations"]["atr"]["by_symbol"] == small_record.annotations["atr"].counts()
    assert data["format"] == "wfdb" and data["duration_hms"] == "0:00:10.000"
    assert data["metadata"]["age"] == 50 and data["metadata"]["sex"] == "F"


def test_info_prints_file_text_verbatim_not_as_markup(small_record, tmp_path, capsys):
    small_record.metadata.comments = ["[bold]note[/bold] [red]"]
    ecgscope.write(small_record, tmp_path / "m.hea")
    assert main(["info", str(tmp_path / "m")]) == 0
    assert "[bold]note[/bold] [red]" in capsys.readouterr().out


def test_info_errors_exit_2_with_one_line(tmp_path, wfdb_file, capsys):
    assert main(["info", str(tmp_path / "missing.hea")]) == 2
    err = capsys.readouterr().err.strip()
    assert "missing.hea" in err and len(err.splitlines()) == 1
    assert main(["info", str(wfdb_file), "--fs", "100"]) == 2  # contradicts the header
    assert "250" in capsys.readouterr().err
    assert main(["info", str(wfdb_file), "--format", "nonsense"]) == 2


def test_load_window_reads_only_the_window(tmp_path, rng):
    fs = 100.0
    n = int(3600 * fs)  # one hour
    sig = rng.normal(size=(1, n)).astype(np.float32)
    beats = np.arange(50, n, 80)
    rec = ecgscope.Record(sig, fs, original_leads=["II"],
                          annotations={"atr": ecgscope.Annotations(beats, ["N"] * beats.size)})
    ecgscope.write(rec, tmp_path / "long.hea")
    win, name = load_window(tmp_path / "long", 1800.0, 10.0)
    assert name == "wfdb" and win.n_samples == 1000
    np.testing.assert_allclose(win.signal[0], sig[0, 180_000:181_000], atol=1e-3)
    expected = beats[(beats >= 180_000) & (beats < 181_000)] - 180_000
    np.testing.assert_array_equal(win.annotations["atr"].sample, expected)
    tail, _ = load_window(tmp_path / "long", 3595.0, 10.0)  # runs past the end: cut
    assert tail.n_samples == 500
    with pytest.raises(ecgscope.ECGScopeError, match="past the end"):
        load_window(tmp_path / "long", 4000.0, 10.0)


def test_load_window_never_reads_the_whole_file(tmp_path, small_record, monkeypatch):
    import ecgscope.cli.info as info

    ecgscope.write(small_record, tmp_path / "rec.hea")
    calls = []

    def spy(path, **kwargs):
        calls.append((kwargs.get("sampfrom", 0), kwargs.get("sampto")))
        return ecgscope.read(path, **kwargs)

    monkeypatch.setattr(info, "read", spy)
    win, _ = info.load_window(tmp_path / "rec", 4.0, 2.0)
    assert win.n_samples == 500
    assert all(stop is not None and stop - start <= 500 for start, stop in calls)


# ----------------------------------------------------------------- real data
def _wfdb_counts(base, ext):
    import wfdb

    return dict(Counter(wfdb.rdann(str(base), ext).symbol))


@pytest.mark.data
def test_info_mitdb_101(shared, capsys):
    import wfdb

    base = shared("mitdb", "101")
    head = wfdb.rdheader(str(base))
    data = run_json(capsys, base)
    assert data["fs"] == head.fs and data["n_samples"] == head.sig_len
    assert data["original_leads"] == head.sig_name and data["leads"][0] == "II"
    assert data["annotations"]["atr"]["by_symbol"] == _wfdb_counts(base, "atr")
    assert data["metadata"]["age"] == float(head.comments[0].split()[0])
    rc = main(["info", str(base)])
    out = capsys.readouterr().out
    assert rc == 0 and f"{head.fs:g} Hz" in out and "MLII" in out
    assert f"N: {_wfdb_counts(base, 'atr')['N']}" in out


@pytest.mark.data
def test_info_cinc2017_a00001(shared, capsys):
    import wfdb

    base = shared("cinc2017", "A00001")
    head = wfdb.rdheader(str(base))
    data = run_json(capsys, base)
    assert data["fs"] == head.fs == 300 and data["n_samples"] == head.sig_len
    assert data["n_leads"] == 1 and data["annotations"] == {}


@pytest.mark.data
def test_info_ludb_1(shared, capsys):
    import wfdb

    base = shared("ludb", "data", "1")
    head = wfdb.rdheader(str(base))
    data = run_json(capsys, base)
    assert data["fs"] == head.fs and data["n_leads"] == 12
    assert data["leads"] == list(ecgscope.record.STANDARD_LEADS)
    assert data["metadata"]["sex"] in ("M", "F")
    assert any("Rhythm" in d for d in data["metadata"]["diagnoses"])
    for ext in ("i", "ii", "v6"):
        assert data["annotations"][ext]["by_symbol"] == _wfdb_counts(base, ext)
    rc = main(["info", str(base)])
    out = capsys.readouterr().out
    assert rc == 0 and "aVR" in out and "avr" in out and "Rhythm" in out
