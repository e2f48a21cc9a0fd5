"""Round-trip property tests: ``write`` then ``read`` gives the same record, per writer.

Each format keeps what it can carry, within its quantisation: WFDB stores
1 µV steps (16-bit, gain 1000/mV), EDF range/65535 (BDF range/2**24), CSV and
JSON the exact float32 text, NPZ everything bit for bit.
"""

from __future__ import annotations

import datetime as dt
import string

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import ecgscope
from ecgscope.record import Annotations, Metadata, Record

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
LEAD_POOL = ["I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6", "MLII", "ECG1", "CM5"]
BEAT_SYMBOLS = ["N", "V", "A", "L", "R", "/", "F", "f", "+", "~", "|", "Q", "p", "t", "(", ")", "j", "E"]
WORD = string.ascii_letters + string.digits + "()_.-"


@st.composite
def records(draw, *, min_samples=2, max_samples=300, fs_choices=(100.0, 128.0, 250.0, 256.0, 360.0, 500.0, 1000.0),
            wfdb_fields=True, annotators=("atr",), metadata=True):
    """A random record: 1-4 leads, values in ±10 mV, optional annotations and metadata."""
    n_leads = draw(st.integers(1, 4))
    n = draw(st.integers(min_samples, max_samples))
    fs = draw(st.sampled_from(fs_choices))
    names = draw(st.lists(st.sampled_from(LEAD_POOL), min_size=n_leads, max_size=n_leads, unique=True))
    signal = draw(arrays(np.float32, (n_leads, n),
                         elements=st.floats(-10, 10, width=32, allow_subnormal=False)))
    anns = {}
    for name in annotators:
        k = draw(st.integers(0, 12))
        sample = sorted(draw(st.lists(st.integers(0, n - 1), min_size=k, max_size=k)))
        symbol = draw(st.lists(st.sampled_from(BEAT_SYMBOLS), min_size=k, max_size=k))
        aux = draw(st.lists(st.one_of(st.just(""), st.text(WORD, min_size=1, max_size=12)), min_size=k, max_size=k))
        subtype = draw(st.lists(st.integers(-128, 127), min_size=k, max_size=k)) if wfdb_fields else None
        chan = draw(st.lists(st.integers(0, n_leads - 1), min_size=k, max_size=k)) if wfdb_fields else None
        anns[name] = Annotations(sample=sample, symbol=symbol, subtype=subtype, chan=chan, aux=aux, annotator=name)
    meta = Metadata()
    if metadata:
        start = draw(st.one_of(st.none(), st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2080, 1, 1))))
        meta = Metadata(
            # "X" is EDF+'s "unknown" marker, so it cannot be an id there.
            patient_id=draw(st.text(string.ascii_letters + string.digits, min_size=1, max_size=8).filter(lambda s: s != "X")),
            age=draw(st.one_of(st.none(), st.integers(0, 99).map(float))),
            sex=draw(st.sampled_from([None, "M", "F"])),
            diagnoses=draw(st.lists(st.text(string.ascii_letters + " .,", min_size=1, max_size=20)
                                    .map(str.strip).filter(bool), max_size=3)),
            start_time=None if start is None else start.replace(microsecond=0).isoformat(),
        )
    return Record(signal=signal, fs=fs, original_leads=names, annotations=anns, metadata=meta)


def _read_back(path, **hints):
    return ecgscope.read(path, nonfinite="keep", check_units=False, **hints)


def _same_header(a: Record, b: Record) -> None:
    assert b.fs == a.fs
    assert b.leads == a.leads
    assert b.original_leads == a.original_leads
    assert b.signal.shape == a.signal.shape and b.signal.dtype == np.float32


@SETTINGS
@given(rec=records())
def test_wfdb_round_trip(tmp_path_factory, rec):
    path = tmp_path_factory.mktemp("wfdb") / "rec.hea"
    files = ecgscope.write(rec, path)
    assert [f.suffix for f in files] == [".hea", ".dat", ".atr"]
    back = _read_back(path)
    _same_header(rec, back)
    # 1000 ADC units per mV: every sample within half a microvolt.
    np.testing.assert_allclose(back.signal, rec.signal, atol=0.5e-3 + 1e-6, rtol=0)
    assert back.annotations["atr"] == rec.annotations["atr"]
    for field in ("age", "sex", "diagnoses", "start_time"):
        assert getattr(back.metadata, field) == getattr(rec.metadata, field), field
    assert back.metadata.record_id == "rec"


@SETTINGS
@given(rec=records(annotators=("qrs", "v1")))
def test_wfdb_round_trip_annotators_by_extension(tmp_path_factory, rec):
    path = tmp_path_factory.mktemp("wfdb") / "rec"
    ecgscope.write(rec, path)
    back = _read_back(path)
    assert set(back.annotations) == {"qrs", "v1"}
    assert all(back.annotations[k] == rec.annotations[k] for k in rec.annotations)


@SETTINGS
@given(rec=records(metadata=False, annotators=()), delimiter=st.sampled_from([",", "\t", ";"]))
def test_csv_round_trip(tmp_path_factory, rec, delimiter):
    path = tmp_path_factory.mktemp("csv") / "rec.csv"
    ecgscope.write(rec, path, delimiter=delimiter)
    back = _read_back(path)
    _same_header(rec, back)
    np.testing.assert_array_equal(back.signal, rec.signal)


@SETTINGS
@given(rec=records(), layout=st.sampled_from(["leads_x_samples", "samples_x_leads"]))
def test_json_round_trip(tmp_path_factory, rec, layout):
    path = tmp_path_factory.mktemp("json") / "rec.json"
    ecgscope.write(rec, path, layout=layout)
    back = _read_back(path)
    _same_header(rec, back)
    np.testing.assert_array_equal(back.signal, rec.signal)
    assert back.annotations == rec.annotations
    for field in ("patient_id", "age", "sex", "diagnoses", "start_time"):
        assert getattr(back.metadata, field) == getattr(rec.metadata, field), field


@SETTINGS
@given(rec=records(annotators=("atr", "ii")), compress=st.booleans())
def test_npz_round_trip_is_lossless(tmp_path_factory, rec, compress):
    rec.signal[0, 0] = np.nan  # NaN survives too
    path = tmp_path_factory.mktemp("npz") / "rec.npz"
    ecgscope.write(rec, path, compress=compress)
    back = _read_back(path)
    _same_header(rec, back)
    np.testing.assert_array_equal(back.signal, rec.signal)
    assert back.annotations == rec.annotations
    # Everything comes back; an absent record id becomes the file name.
    expected = rec.metadata.to_dict() | {"source": str(path), "record_id": rec.metadata.record_id or "rec"}
    assert back.metadata.to_dict() == expected


@SETTINGS
@given(rec=records(wfdb_fields=False, annotators=("edf",)), bdf=st.booleans())
def test_edf_round_trip(tmp_path_factory, rec, bdf):
    path = tmp_path_factory.mktemp("edf") / ("rec.bdf" if bdf else "rec.edf")
    ecgscope.write(rec, path)
    back = _read_back(path)
    _same_header(rec, back)
    lo, hi = rec.signal.min(axis=1), rec.signal.max(axis=1)
    steps = (2**24 - 1) if bdf else 65535
    tolerance = (np.maximum(hi - lo, 0.002) + 1e-4) / steps  # one digital step (half, plus header rounding)
    assert np.all(np.abs(back.signal - rec.signal).max(axis=1) <= tolerance + 1e-6)
    got = back.annotations.get("edf")
    want = rec.annotations["edf"]
    if len(want) == 0:
        assert got is None or len(got) == 0
    else:
        np.testing.assert_array_equal(got.sample, want.sample)
        assert sorted(zip(got.sample.tolist(), got.symbol.tolist(), got.aux.tolist())) == \
            sorted(zip(want.sample.tolist(), want.symbol.tolist(), want.aux.tolist()))
    for field in ("patient_id", "age", "sex", "start_time"):
        assert getattr(back.metadata, field) == getattr(rec.metadata, field), field


@pytest.mark.parametrize("ext", [".hea", ".csv", ".json", ".npz", ".edf"])
def test_every_writer_round_trips_the_small_record(tmp_path, small_record, ext):
    files = ecgscope.write(small_record, tmp_path / f"small{ext}")
    assert all(f.is_file() for f in files)
    back = ecgscope.read(files[0])
    assert back.fs == small_record.fs and back.leads == small_record.leads
    np.testing.assert_allclose(back.signal, small_record.signal, atol=1e-3)
