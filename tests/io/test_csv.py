"""CSV/TSV reader: delimiters, headers, units, time columns, orientation, errors."""

from __future__ import annotations

import numpy as np
import pytest

import ecgscope
from ecgscope.errors import CorruptFileError, SamplingRateError, UnitsError
from ecgscope.io import detect_format
from ecgscope.io.csv import infer_fs


def _wave(n: int, k: int = 2) -> np.ndarray:
    t = np.arange(n)
    return np.stack([np.round(np.sin(t / (7 + i)), 4) for i in range(k)])


@pytest.mark.parametrize("delimiter", [",", "\t", ";", " ", "|"])
def test_delimiters_are_sniffed(tmp_path, delimiter):
    x = _wave(200)
    path = tmp_path / "rec.txt"
    path.write_text("\n".join(delimiter.join(f"{v:.4f}" for v in row) for row in x.T) + "\n")
    assert detect_format(path) == "csv"
    rec = ecgscope.read(path, fs=250)
    np.testing.assert_allclose(rec.signal, x, atol=1e-6)
    assert rec.leads == ["lead1", "lead2"] and rec.fs == 250


def test_header_names_and_units(tmp_path):
    x = _wave(300, 3)
    path = tmp_path / "units.csv"
    lines = ["II (mV),V1 [uV],Lead V5 (V)"] + [f"{a},{b * 1000},{c / 1000}" for a, b, c in x.T]
    path.write_text("\n".join(lines))
    rec = ecgscope.read(path, fs=500)
    assert rec.leads == ["II", "V1", "V5"] and rec.original_leads == ["II", "V1", "Lead V5"]
    assert rec.metadata.units == ["mV", "uV", "V"]
    np.testing.assert_allclose(rec.signal, x, atol=1e-5)


@pytest.mark.parametrize(("header", "scale", "fs"), [("time", 1.0, 250), ("t (ms)", 1000.0, 250), ("time_ms", 1000.0, 1000),
                                                     ("seconds", 1.0, 360)])
def test_time_column_gives_fs(tmp_path, header, scale, fs):
    x = _wave(1000)
    t = np.arange(1000) / fs * scale
    path = tmp_path / "timed.csv"
    path.write_text(f"{header},I,II\n" + "\n".join(f"{ti:.6f},{a},{b}" for ti, (a, b) in zip(t, x.T)))
    rec = ecgscope.read(path)
    assert rec.fs == fs and rec.leads == ["I", "II"]
    np.testing.assert_allclose(rec.signal, x, atol=1e-6)
    with pytest.raises(SamplingRateError, match="says"):
        ecgscope.read(path, fs=fs * 2)


def test_unnamed_time_and_index_columns(tmp_path):
    x = _wave(500)
    timed = tmp_path / "a.csv"
    timed.write_text("\n".join(f"{i / 500:.5f},{a},{b}" for i, (a, b) in enumerate(x.T)))
    assert ecgscope.read(timed).fs == 500
    indexed = tmp_path / "b.csv"
    indexed.write_text("\n".join(f"{i},{a},{b}" for i, (a, b) in enumerate(x.T)))
    rec = ecgscope.read(indexed, fs=100)
    assert rec.n_leads == 2 and rec.fs == 100
    with pytest.raises(SamplingRateError, match="fs="):
        ecgscope.read(indexed)


def test_physionet_export_with_units_row_and_clock_times(tmp_path):
    rows = ["'Elapsed time','MLII','V5'", "'hh:mm:ss.mmm','(mV)','(mV)'"]
    x = _wave(720)
    for i, (a, b) in enumerate(x.T):
        seconds = i / 360
        rows.append(f"'{int(seconds // 60)}:{seconds % 60:06.3f}',{a},{b}")
    path = tmp_path / "samples.csv"
    path.write_text("\n".join(rows))
    rec = ecgscope.read(path)
    assert rec.fs == 360 and rec.original_leads == ["MLII", "V5"] and rec.leads == ["II", "V5"]
    np.testing.assert_allclose(rec.signal, x, atol=1e-6)


def test_rows_as_leads_and_raw_gain(tmp_path):
    x = np.round(_wave(400, 3) * 200).astype(int)
    path = tmp_path / "rows.csv"
    path.write_text("\n".join(",".join(str(v) for v in row) for row in x))
    rec = ecgscope.read(path, fs=200, gain=200)
    assert rec.n_leads == 3 and rec.n_samples == 400
    np.testing.assert_allclose(rec.signal, x / 200, atol=1e-6)
    with pytest.raises(UnitsError):
        ecgscope.read(path, fs=200, units="furlongs")


def test_nan_cells_and_text_cells(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("I,II\n0.1,0.2\n,0.3\n0.2,NaN\n0.3,0.1\n")
    rec = ecgscope.read(path, fs=100, nonfinite="keep")
    assert np.isnan(rec.signal).sum() == 2
    with pytest.raises(ecgscope.errors.NonFiniteSignalError):
        ecgscope.read(path, fs=100)
    bad = tmp_path / "text.csv"
    bad.write_text("I,II\n0.1,0.2\n0.2,oops\n")
    with pytest.raises(CorruptFileError, match="'II'.*oops"):
        ecgscope.read(bad, fs=100)
    empty = tmp_path / "empty.csv"
    empty.write_text("I,II\n")
    with pytest.raises(ecgscope.errors.ECGScopeError):
        ecgscope.read(empty, fs=100)


def test_infer_fs_snaps_and_rejects_irregular_times():
    t = np.round(np.arange(3600) / 360, 3)  # millisecond-rounded times
    assert infer_fs(t) == 360.0
    assert infer_fs(np.arange(100) / 333.3) == 333.3
    with pytest.raises(CorruptFileError, match="regular"):
        infer_fs(np.r_[np.arange(100), np.arange(200, 300)] / 100)
