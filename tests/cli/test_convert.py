"""``ecgscope convert``: round trips, windows, lead selection, resampling, errors."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

import ecgscope
from ecgscope.cli import main

pytest.importorskip("ecgscope.io.wfdb")

#: Half the WFDB writer's 1 µV step, in mV.
TOL = 6e-4


@pytest.fixture
def wfdb_file(small_record, tmp_path):
    ecgscope.write(small_record, tmp_path / "src" / "rec.hea")
    return tmp_path / "src" / "rec"


def test_convert_round_trips_wfdb(wfdb_file, small_record, tmp_path, capsys):
    rc = main(["convert", str(wfdb_file), str(tmp_path / "out" / "copy.hea")])
    out = capsys.readouterr().out
    assert rc == 0
    assert "copy.hea" in out and "copy.dat" in out and "copy.atr" in out and "250 Hz" in out
    back = ecgscope.read(tmp_path / "out" / "copy")
    assert back.equals(small_record, atol=TOL)
    assert back.metadata.age == small_record.metadata.age and back.metadata.sex == small_record.metadata.sex


@pytest.mark.parametrize("ext, module", [(".csv", "csv"), (".json", "json"), (".npz", "npy"), (".edf", "edf")])
def test_convert_to_other_formats_and_back(wfdb_file, small_record, tmp_path, ext, module):
    if importlib.util.find_spec(f"ecgscope.io.{module}") is None:
        pytest.skip(f"ecgscope.io.{module} not written yet")
    dst = tmp_path / f"rec{ext}"
    assert main(["convert", str(wfdb_file), str(dst)]) == 0
    back = ecgscope.read(dst)
    assert back.fs == small_record.fs and back.n_samples == small_record.n_samples
    np.testing.assert_allclose(back.signal, small_record.signal, atol=2e-3)


def test_convert_window_and_leads(wfdb_file, small_record, tmp_path, capsys):
    dst = tmp_path / "part.hea"
    rc = main(["convert", str(wfdb_file), str(dst), "--start", "2", "--duration", "3", "--leads", "V1,MLII"])
    assert rc == 0
    back = ecgscope.read(tmp_path / "part")
    assert back.leads == ["V1", "II"] and back.n_samples == 750
    np.testing.assert_allclose(back.signal[1], small_record.signal[0, 500:1250], atol=TOL)
    beats = small_record.annotations["atr"].sample
    np.testing.assert_array_equal(back.annotations["atr"].sample, beats[(beats >= 500) & (beats < 1250)] - 500)
    assert "0:00:03.000" in capsys.readouterr().out


def test_convert_resample(wfdb_file, small_record, tmp_path, capsys):
    dst = tmp_path / "fast.hea"
    assert main(["convert", str(wfdb_file), str(dst), "--resample", "500"]) == 0
    assert "250 -> 500 Hz" in capsys.readouterr().out
    back = ecgscope.read(tmp_path / "fast")
    assert back.fs == 500 and back.n_samples == 2 * small_record.n_samples
    np.testing.assert_array_equal(back.annotations["atr"].sample, small_record.annotations["atr"].sample * 2)
    peaks = np.sort(np.argsort(back.signal[0])[-len(back.annotations["atr"]):])
    assert np.abs(peaks - back.annotations["atr"].sample).max() <= 1


@pytest.mark.parametrize("args, words", [
    (["--start", "99"], "past the end"),
    (["--leads", "V7"], "V7"),
    (["--resample", "0"], "resample"),
    (["--duration", "-1"], "not positive"),
])
def test_convert_bad_options_exit_2(wfdb_file, tmp_path, capsys, args, words):
    assert main(["convert", str(wfdb_file), str(tmp_path / "x.hea"), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert not (tmp_path / "x.hea").exists()


def test_convert_missing_input_and_unknown_output(wfdb_file, tmp_path, capsys):
    assert main(["convert", str(tmp_path / "nope"), str(tmp_path / "x.hea")]) == 2
    assert "nope" in capsys.readouterr().err
    assert main(["convert", str(wfdb_file), str(tmp_path / "x.weird")]) == 2
    assert ".weird" in capsys.readouterr().err


@pytest.mark.data
def test_convert_mitdb_window_matches_wfdb(shared, tmp_path):
    import wfdb

    base = shared("mitdb", "101")
    assert main(["convert", str(base), str(tmp_path / "w.hea"), "--start", "100", "--duration", "20"]) == 0
    ref = wfdb.rdrecord(str(base), sampfrom=36_000, sampto=43_200)
    back = ecgscope.read(tmp_path / "w")
    assert back.original_leads == ref.sig_name
    np.testing.assert_allclose(back.signal, ref.p_signal.T, atol=TOL)
    ann = wfdb.rdann(str(base), "atr", sampfrom=36_000, sampto=43_199, shift_samps=True)
    np.testing.assert_array_equal(back.annotations["atr"].sample, ann.sample)
