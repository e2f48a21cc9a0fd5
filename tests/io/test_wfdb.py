"""WFDB reader: equality with ``wfdb.rdrecord`` on real records, every signal format, metadata, errors."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import wfdb

import ecgscope
from ecgscope.errors import (
    CorruptFileError,
    HeaderError,
    MissingFileError,
    SamplingRateError,
)
from ecgscope.io import detect_format
from ecgscope.io.wfdb import parse_comments

SHARED = Path(os.environ.get("ECGSCOPE_SHARED_DATA", Path(__file__).resolve().parents[3] / "shared" / "data"))


def _records(folder: str) -> list[str]:
    root = SHARED / folder
    return sorted(p.with_suffix("").name for p in root.glob("*.hea")) if root.is_dir() else []


def _cinc_sample(k: int = 150) -> list[str]:
    names = _records("cinc2017")
    step = max(1, len(names) // k)
    return names[::step][:k]


def _assert_matches_rdrecord(path: Path, **hints) -> ecgscope.Record:
    rec = ecgscope.read(path, nonfinite="keep", **hints)
    ref = wfdb.rdrecord(str(path)).p_signal.T.astype(np.float32)
    assert rec.signal.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(rec.signal), np.isnan(ref))
    np.testing.assert_allclose(rec.signal, ref, atol=1e-6, rtol=0, equal_nan=True)
    return rec


# ------------------------------------------------------------------ shared data
@pytest.mark.data
@pytest.mark.parametrize("name", _records("mitdb") or ["101"])
def test_mitdb_matches_rdrecord(shared, name):
    rec = _assert_matches_rdrecord(shared("mitdb", name))
    assert rec.fs == 360 and rec.n_leads == 2
    ann = wfdb.rdann(str(shared("mitdb", name)), "atr")
    np.testing.assert_array_equal(rec.annotations["atr"].sample, ann.sample)
    assert rec.annotations["atr"].symbol.tolist() == list(ann.symbol)
    assert rec.annotations["atr"].aux.tolist() == [a.rstrip("\x00") for a in ann.aux_note]


@pytest.mark.data
@pytest.mark.parametrize("name", _records("ludb/data") or ["1"])
def test_ludb_matches_rdrecord(shared, name):
    rec = _assert_matches_rdrecord(shared("ludb", "data", name))
    assert rec.leads == ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6"]
    assert list(rec.annotations) == ["i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6"]
    ref = wfdb.rdann(str(shared("ludb", "data", name)), "ii")
    np.testing.assert_array_equal(rec.annotations["ii"].sample, ref.sample)
    assert rec.annotations["ii"].symbol.tolist() == list(ref.symbol)


@pytest.mark.data
@pytest.mark.parametrize("name", _cinc_sample() or ["A00001"])
def test_cinc2017_sample_matches_rdrecord(shared, name):
    rec = _assert_matches_rdrecord(shared("cinc2017", name))
    assert rec.fs == 300 and rec.n_leads == 1


@pytest.mark.data
@pytest.mark.slow
def test_every_cinc2017_record_matches_rdrecord(shared):
    root = shared("cinc2017")
    names = _records("cinc2017")
    for name in names:
        _assert_matches_rdrecord(root / name)
    assert len(names) > 1000


@pytest.mark.data
def test_mitdb_101_metadata_and_addressing(shared):
    base = shared("mitdb", "101")
    rec = ecgscope.read(base)
    assert rec.metadata.record_id == "101" and rec.metadata.patient_id == "101"
    assert rec.metadata.age == 75 and rec.metadata.sex == "F"
    assert rec.metadata.comments == ["75 F 1011 654 x1", "Diapres"]
    assert rec.metadata.units == ["mV", "mV"] and rec.metadata.gain == [200.0, 200.0]
    assert rec.original_leads == ["MLII", "V1"] and rec.leads == ["II", "V1"]
    assert rec.n_samples == 650000
    counts = rec.annotations["atr"].counts()
    assert sum(counts.values()) == len(wfdb.rdann(str(base), "atr").sample)
    for other in (base.with_name("101.hea"), base.with_name("101.dat"), base.with_name("101.atr")):
        assert detect_format(ecgscope.io.resolve_path(other)) == "wfdb"
        np.testing.assert_array_equal(ecgscope.read(other).signal, rec.signal)


@pytest.mark.data
def test_ludb_metadata(shared):
    rec = ecgscope.read(shared("ludb", "data", "1"))
    assert rec.metadata.age == 51 and rec.metadata.sex == "F"
    assert rec.metadata.diagnoses[0] == "Rhythm: Sinus bradycardia."
    assert len(rec.metadata.diagnoses) == len(rec.metadata.comments) - 3
    assert rec.metadata.gain[0] == 1716.0


@pytest.mark.data
def test_cinc_mat_with_header_is_wfdb(shared):
    mat = shared("cinc2017", "A00001").with_suffix(".mat")
    assert detect_format(mat) == "wfdb"
    rec = ecgscope.read(mat)
    assert rec.metadata.start_time == "2000-05-01T05:05:15"
    forced = ecgscope.read(mat, format="mat")  # gain from the companion header
    np.testing.assert_allclose(forced.signal, rec.signal, atol=1e-6)


@pytest.mark.data
def test_window_and_annotator_choice(shared):
    base = shared("mitdb", "101")
    rec = ecgscope.read(base, sampfrom=3600, sampto=7200, annotators=["atr"])
    ref = wfdb.rdrecord(str(base), sampfrom=3600, sampto=7200).p_signal.T
    np.testing.assert_allclose(rec.signal, ref, atol=1e-6)
    ann = wfdb.rdann(str(base), "atr", sampfrom=3600, sampto=7199, shift_samps=True)
    np.testing.assert_array_equal(rec.annotations["atr"].sample, ann.sample)
    assert ecgscope.read(base, annotators=[]).annotations == {}
    with pytest.raises(MissingFileError, match="qrs"):
        ecgscope.read(base, annotators=["qrs"])


# ------------------------------------------------------------ synthetic records
_INVALID = {"80": -(2**7), "212": -(2**11), "310": -(2**9), "311": -(2**9), "16": -(2**15), "61": -(2**15),
            "160": -(2**15), "24": -(2**23), "32": -(2**31)}


def _encode(fmt: str, digital: np.ndarray) -> bytes:
    """Interleaved frames of ``digital`` (samples, 3 signals) in a WFDB format wfdb cannot write."""
    flat = digital.reshape(-1)
    if fmt == "61":
        return flat.astype(">i2").tobytes()
    if fmt == "160":
        return (flat + 32768).astype("<u2").tobytes()
    if fmt == "8":
        return np.diff(digital, axis=0, prepend=digital[:1]).astype("i1").tobytes()
    s0, s1, s2 = ((flat.reshape(-1, 3)[:, i] & 0x3FF).astype(np.uint32) for i in range(3))
    if fmt == "311":
        return (s0 | (s1 << 10) | (s2 << 20)).astype("<u4").tobytes()
    word0 = (s0 << 1) | ((s2 & 0x1F) << 11)
    word1 = (s1 << 1) | ((s2 >> 5) << 11)
    return np.stack([word0, word1], 1).astype("<u2").tobytes()


def _write_record(folder: Path, fmt: str, digital: np.ndarray) -> Path:
    n, n_sig = digital.shape
    names = [f"ch{i}" for i in range(n_sig)]
    if fmt in ("212", "16", "80", "24", "32", "516"):
        wfdb.wrsamp("syn", fs=250, units=["mV"] * n_sig, sig_name=names, d_signal=digital, fmt=[fmt] * n_sig,
                    adc_gain=[200.0] * n_sig, baseline=[7] * n_sig, write_dir=str(folder))
    else:
        (folder / "syn.dat").write_bytes(_encode(fmt, digital))
        init = digital[0] if fmt == "8" else np.zeros(n_sig, int)
        lines = [f"syn {n_sig} 250 {n}"] + [
            f"syn.dat {fmt} 200(7)/mV 10 0 {init[i]} 0 0 {names[i]}" for i in range(n_sig)]
        (folder / "syn.hea").write_text("\n".join(lines) + "\n")
    return folder / "syn"


_INVALID = {"80": -(2**7), "212": -(2**11), "310": -(2**9), "311": -(2**9), "16": -(2**15), "61": -(2**15),
            "160": -(2**15), "24": -(2**23), "32": -(2**31), "516": -(2**15)}


@pytest.mark.parametrize("fmt", ["212", "16", "80", "24", "32", "310", "311", "61", "160", "8", "516"])
def test_every_signal_format_matches_rdrecord(tmp_path, fmt):
    amplitude = 60 if fmt in ("80", "8") else 400 if fmt in ("310", "311") else 1500
    t = np.arange(3000)[:, None]
    digital = np.rint(amplitude * np.sin(2 * np.pi * t / (90 + 10 * np.arange(3)))).astype(np.int64)
    if fmt in _INVALID:
        digital[5, 0] = _INVALID[fmt]
    base = _write_record(tmp_path, fmt, digital)
    rec = _assert_matches_rdrecord(base)
    np.testing.assert_allclose(rec.signal[1:], (digital[:, 1:].T - 7) / 200.0, atol=1e-6)
    if fmt in _INVALID:
        assert np.isnan(rec.signal[0, 5]) and np.isfinite(rec.signal[1:]).all()
        with pytest.raises(ecgscope.errors.NonFiniteSignalError, match="1 samples"):
            ecgscope.read(base)
        assert np.isfinite(ecgscope.read(base, nonfinite="interpolate").signal).all()


def test_microvolt_units_are_converted_and_non_voltage_signals_skipped(tmp_path):
    t = np.arange(1000)
    digital = np.stack([(np.sin(t / 20) * 1000).astype(np.int64), (80 + np.sin(t / 50) * 20).astype(np.int64)], 1)
    wfdb.wrsamp("uv", fs=500, units=["uV", "mmHg"], sig_name=["II", "ABP"], d_signal=digital,
                fmt=["16", "16"], adc_gain=[1.0, 1.0], baseline=[0, 0], write_dir=str(tmp_path))
    rec = ecgscope.read(tmp_path / "uv")
    assert rec.leads == ["II"]
    np.testing.assert_allclose(rec.signal[0], digital[:, 0] / 1000.0, atol=1e-6)
    assert rec.metadata.units == ["uV"]
    assert rec.metadata.extra["skipped_signals"] == ["ABP (mmHg)"]


def test_header_without_fs_uses_hint_and_conflicts_are_errors(tmp_path):
    (tmp_path / "nofs.hea").write_text("nofs 1\nnofs.dat 16 200 16 0 0 0 0 II\n")
    np.arange(100, dtype="<i2").tofile(tmp_path / "nofs.dat")
    assert ecgscope.read(tmp_path / "nofs").fs == 250  # the WFDB default
    assert ecgscope.read(tmp_path / "nofs", fs=128).fs == 128
    (tmp_path / "fs.hea").write_text("fs 1 360 100\nfs.dat 16 200 16 0 0 0 0 II\n")
    shutil.copy(tmp_path / "nofs.dat", tmp_path / "fs.dat")
    assert ecgscope.read(tmp_path / "fs", fs=360).fs == 360
    with pytest.raises(SamplingRateError, match="360"):
        ecgscope.read(tmp_path / "fs", fs=250)


def test_missing_truncated_and_malformed_files(tmp_path, small_record):
    ecgscope.write(small_record, tmp_path / "rec.hea")
    dat = (tmp_path / "rec.dat").read_bytes()
    (tmp_path / "rec.dat").write_bytes(dat[: len(dat) // 3])
    with pytest.raises(CorruptFileError, match="truncated"):
        ecgscope.read(tmp_path / "rec")
    (tmp_path / "rec.dat").unlink()
    with pytest.raises(MissingFileError, match="rec.dat"):
        ecgscope.read(tmp_path / "rec")
    (tmp_path / "bad.hea").write_text("bad two 360\nbad.dat 16 200 16 0 0 0 0 II\n")
    with pytest.raises((HeaderError, CorruptFileError)):
        ecgscope.read(tmp_path / "bad.hea", format="wfdb")
    with pytest.raises(MissingFileError):
        ecgscope.read(tmp_path / "nothing_here")


def test_writer_gain_and_name_rules(tmp_path, small_record):
    wide = small_record.crop(0, 100)
    wide.signal = wide.signal.copy()
    wide.signal[0, 10] = 80.0  # an 80 mV span cannot keep 1 µV in 16 bits
    ecgscope.write(wide, tmp_path / "wide")
    header = wfdb.rdheader(str(tmp_path / "wide"))
    assert header.adc_gain[0] < 1000 and header.adc_gain[1] == 1000
    back = ecgscope.read(tmp_path / "wide", check_units=False)
    np.testing.assert_allclose(back.signal, wide.signal, atol=0.5 / header.adc_gain[0] + 1e-6)
    with pytest.raises(ecgscope.errors.FormatError, match="record name"):
        ecgscope.write(small_record, tmp_path / "bad name.hea")
    ecgscope.write(small_record, tmp_path / "g", gain=500)
    assert wfdb.rdheader(str(tmp_path / "g")).adc_gain == [500.0] * 3


def test_written_files_read_with_wfdb_itself(tmp_path, small_record):
    ecgscope.write(small_record, tmp_path / "w.hea")
    ref = wfdb.rdrecord(str(tmp_path / "w"))
    np.testing.assert_allclose(ref.p_signal.T, small_record.signal, atol=5e-4 + 1e-6)
    ann = wfdb.rdann(str(tmp_path / "w"), "atr")
    np.testing.assert_array_equal(ann.sample, small_record.annotations["atr"].sample)
    assert ann.fs == small_record.fs


def test_parse_comments_conventions():
    assert parse_comments(["69 M 1085 1629 x1", "Aldomet"]) == {"age": 69.0, "sex": "M", "diagnoses": []}
    ludb = parse_comments(["<age>: 51", "<sex>: F", "<diagnoses>:", "Rhythm: Sinus rhythm.", "", "LVH."])
    assert ludb == {"age": 51.0, "sex": "F", "diagnoses": ["Rhythm: Sinus rhythm.", "LVH."]}
    challenge = parse_comments(["Age: 74", "Sex: Male", "Dx: 426783006,59118001", "Rx: Unknown"])
    assert challenge == {"age": 74.0, "sex": "M", "diagnoses": ["426783006", "59118001"]}
    assert parse_comments(["? ? 1000 x1"]) == {"age": None, "sex": None, "diagnoses": []}
    assert parse_comments(["Age: 32  Sex: F"])["sex"] == "F"


def test_multi_segment_record(tmp_path):
    parts = []
    for k in range(2):
        digital = (np.arange(300)[:, None] * (k + 1) % 200 - 100).astype(np.int64)
        wfdb.wrsamp(f"seg{k}", fs=250, units=["mV"], sig_name=["II"], d_signal=digital, fmt=["16"],
                    adc_gain=[100.0], baseline=[0], write_dir=str(tmp_path))
        parts.append(digital[:, 0] / 100.0)
    (tmp_path / "multi.hea").write_text("multi/2 1 250 600\nseg0 300\nseg1 300\n# 60 M\n")
    rec = ecgscope.read(tmp_path / "multi")
    ref = wfdb.rdrecord(str(tmp_path / "multi")).p_signal.T
    np.testing.assert_allclose(rec.signal, ref, atol=1e-6)
    np.testing.assert_allclose(rec.signal[0], np.concatenate(parts), atol=1e-6)
    assert rec.leads == ["II"] and rec.metadata.age == 60 and rec.metadata.sex == "M"
