"""Item 7: every failure names the file, what is wrong and what to do, as one ECGScopeError."""

from __future__ import annotations

import numpy as np
import pytest

import ecgscope
from ecgscope import errors


def _csv(path, values, header="I,II"):
    path.write_text(header + "\n" + "\n".join(",".join(str(v) for v in row) for row in values) + "\n")
    return path


def _check_message(exc: errors.ECGScopeError, path) -> None:
    text = str(exc)
    assert str(path.parent) in text or path.name in text, text
    assert "Fix:" in text and "\n" not in text


def test_missing_companion_dat(tmp_path, small_record):
    ecgscope.write(small_record, tmp_path / "r")
    (tmp_path / "r.dat").unlink()
    with pytest.raises(errors.MissingFileError) as info:
        ecgscope.read(tmp_path / "r.hea")
    assert "r.dat" in str(info.value)
    _check_message(info.value, tmp_path / "r.dat")


def test_malformed_header(tmp_path):
    (tmp_path / "h.hea").write_text("h 2 360 1000\nh.dat 16 200 16 0 0 0 0 II\n")  # announces 2 signals, has 1
    (tmp_path / "h.dat").write_bytes(b"\x00" * 4000)
    with pytest.raises(errors.ECGScopeError) as info:
        ecgscope.read(tmp_path / "h")
    assert isinstance(info.value, (errors.HeaderError, errors.CorruptFileError))
    _check_message(info.value, tmp_path / "h.hea")


def test_unknown_format(tmp_path):
    path = tmp_path / "blob.zzz"
    path.write_bytes(bytes(range(256)))
    with pytest.raises(errors.UnknownFormatError) as info:
        ecgscope.read(path)
    _check_message(info.value, path)


def test_nan_runs_empty_signal_and_lead_count(tmp_path):
    runs = _csv(tmp_path / "nan.csv", [[0.1, 0.2], ["nan", 0.1], ["nan", 0.3], [0.2, 0.2]])
    with pytest.raises(errors.NonFiniteSignalError, match="2 samples") as info:
        ecgscope.read(runs, fs=100)
    _check_message(info.value, runs)
    assert np.isfinite(ecgscope.read(runs, fs=100, nonfinite="interpolate").signal).all()
    empty = tmp_path / "empty.json"
    empty.write_text('{"fs": 100, "signal": [[]]}')
    with pytest.raises(errors.EmptySignalError) as info:
        ecgscope.read(empty)
    _check_message(info.value, empty)
    with pytest.raises(errors.LeadCountError, match="3 names") as info:
        ecgscope.read(runs, fs=100, leads=["I", "II", "III"])
    _check_message(info.value, runs)


@pytest.mark.parametrize("fs", [0, -5, 1e9, "fast"])
def test_absurd_sampling_rate(tmp_path, fs):
    path = _csv(tmp_path / "fs.csv", [[0.1, 0.2], [0.2, 0.1]])
    with pytest.raises(errors.SamplingRateError) as info:
        ecgscope.read(path, fs=fs)
    _check_message(info.value, path)


def test_wrong_units(tmp_path):
    rng = np.random.default_rng(0)
    microvolts = np.round(rng.normal(0, 800, size=(500, 2)))  # µV values mislabelled as mV
    path = _csv(tmp_path / "uv.csv", microvolts, header="I (mV),II (mV)")
    with pytest.raises(errors.UnitsError, match="microvolts") as info:
        ecgscope.read(path, fs=250)
    _check_message(info.value, path)
    assert abs(ecgscope.read(path, fs=250, units="uV").signal).max() < 5
    with pytest.raises(errors.UnitsError, match="units"):
        ecgscope.read(path, fs=250, units="parsecs")
