"""Rhythm data sets: RhythmSet behaviour, builders on small synthetic WFDB trees and on the shared data."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.datasets.rhythm import (
    RHYTHM_CLASSES,
    RhythmSet,
    cinc2017_cache_file,
    is_af_rhythm,
    load_cinc2017,
    load_rhythm_set,
    ludb_af_records,
    mitdb_af_windows,
    save_rhythm_set,
)
from ecgscope.errors import DatasetError
from ecgscope.io import write
from ecgscope.record import Annotations, Metadata, Record


def _beats(fs: float, seconds: float, rr: float = 0.8, n_leads: int = 1, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    sig = 0.01 * rng.standard_normal((n_leads, t.size))
    for b in np.arange(0.3, seconds, rr):
        sig += np.exp(-((t - b) ** 2) / (2 * 0.012**2))
    return sig.astype(np.float32)


def _set(n=5, fs=100.0) -> RhythmSet:
    sigs = [np.arange(int(fs * (2 + i)), dtype=np.float32)[None] / 100 for i in range(n)]
    labels = [RHYTHM_CLASSES[i % 4] for i in range(n)]
    names = [f"r{i}" for i in range(n)]
    return RhythmSet(sigs, fs, labels, names, names, "test", ("ECG",))


# ------------------------------------------------------------------ RhythmSet
def test_rhythmset_basics():
    s = _set()
    assert len(s) == 5
    np.testing.assert_allclose(s.durations_s, [2, 3, 4, 5, 6])
    np.testing.assert_array_equal(s.starts_s, np.zeros(5))
    sub = s.subset([3, 1])
    assert sub.records.tolist() == ["r3", "r1"] and sub.labels.tolist() == [s.labels[3], s.labels[1]]
    assert s.subset(np.array([True, False, True, False, False])).records.tolist() == ["r0", "r2"]
    assert s.subset(["r4", "r0"]).records.tolist() == ["r4", "r0"]
    summ = s.summary()
    assert summ["n_items"] == 5 and summ["labels"] == {"N": 2, "A": 1, "O": 1, "~": 1}


def test_rhythmset_resample_changes_length_not_duration():
    s = _set()
    r = s.resample(50.0)
    assert r.fs == 50.0
    np.testing.assert_allclose(r.durations_s, s.durations_s)
    assert all(x.dtype == np.float32 and x.shape[0] == 1 for x in r.signals)
    assert s.resample(100.0) is s


def test_rhythm_set_files_round_trip(tmp_path):
    s = _set()
    s.info = {"note": "kept"}
    exact = load_rhythm_set(save_rhythm_set(s, tmp_path / "a.npz"))
    assert all(np.array_equal(a, b) for a, b in zip(exact.signals, s.signals))
    assert exact.records.tolist() == s.records.tolist() and exact.info == {"note": "kept"} and exact.fs == s.fs
    small = save_rhythm_set(s, tmp_path / "b.npz", dtype="float16", compress=True)
    assert small.stat().st_size < (tmp_path / "a.npz").stat().st_size
    half = load_rhythm_set(small)
    assert all(x.dtype == np.float32 and np.allclose(x, y, rtol=1e-3) for x, y in zip(half.signals, s.signals))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DatasetError, match="not a readable rhythm set"):
        load_rhythm_set(tmp_path / "bad.npz")
    assert not list(tmp_path.glob(".rhythm-*"))  # no temporary file left behind


def test_rhythmset_rejects_inconsistent_input():
    with pytest.raises(DatasetError, match="labels"):
        RhythmSet([np.zeros((1, 10))], 100, ["N", "A"], ["a"], ["a"])
    with pytest.raises(DatasetError, match="unique"):
        RhythmSet([np.zeros((1, 10))] * 2, 100, ["N", "A"], ["a", "a"], ["a", "a"])
    with pytest.raises(DatasetError, match="not in this RhythmSet"):
        _set().subset(["nope"])


def test_is_af_rhythm():
    assert is_af_rhythm("(AFIB") and is_af_rhythm("AFL") and is_af_rhythm("(AFIB\x00")
    assert not is_af_rhythm("(N") and not is_af_rhythm("(AB")


# ------------------------------------------------------------------ synthetic WFDB trees
def _write_mitdb(root, fs=360.0):
    """Record 900: 0-35 s N, 35-62 s AFIB, 62-80 s AFL; record 901 without lead II."""
    n = int(80 * fs)
    sig = _beats(fs, 80, n_leads=2)
    rhythm = Annotations(sample=np.array([10, int(35 * fs), int(62 * fs)]), symbol=["+", "+", "+"],
                         aux=["(N", "(AFIB", "(AFL"], annotator="atr")
    rec = Record(signal=sig, fs=fs, original_leads=["MLII", "V1"], annotations={"atr": rhythm},
                 metadata=Metadata(record_id="900"))
    write(rec, root / "mitdb" / "900")
    other = Record(signal=sig[:, : n // 4], fs=fs, original_leads=["V5", "V2"],
                   annotations={"atr": Annotations(sample=np.array([5]), symbol=["+"], aux=["(N"])},
                   metadata=Metadata(record_id="901"))
    write(other, root / "mitdb" / "901")


def test_mitdb_af_windows_synthetic(tmp_path):
    _write_mitdb(tmp_path)
    w = mitdb_af_windows(tmp_path, window_s=10.0)
    # N: 10 samples .. 35 s -> 3 windows; AFIB 35-62 s -> 2; AFL 62-80 s -> 1 (AFL counts as AF)
    assert w.labels.tolist() == ["non-AF"] * 3 + ["AF"] * 3
    np.testing.assert_allclose(w.starts_s, [10 / 360, 10 / 360 + 10, 10 / 360 + 20, 35, 45, 62], atol=1e-6)
    assert all(s.shape == (1, 3600) for s in w.signals)
    assert w.records[3] == "900:35.000" and set(w.patients) == {"900"}
    assert "901" in w.info["skipped"]
    # no window straddles a rhythm change
    for start, label in zip(w.starts_s, w.labels):
        end = start + 10
        assert (end <= 35 or start >= 35) and (end <= 62 or start >= 62)
    w100 = mitdb_af_windows(tmp_path, window_s=5.0, fs=100.0, records=["900"])
    assert w100.fs == 100.0 and all(s.shape == (1, 500) for s in w100.signals)
    assert (w100.labels == "AF").sum() == 5 + 3


def test_ludb_af_records_synthetic(tmp_path):
    fs = 500.0
    rhythms = (("1", "Sinus rhythm."), ("2", "Atrial fibrillation."), ("3", "Atrial flutter, typical."))
    for rid, rhythm in rhythms:
        rec = Record(signal=_beats(fs, 10, n_leads=3), fs=fs, original_leads=["i", "ii", "iii"],
                     metadata=Metadata(record_id=rid, diagnoses=[f"Rhythm: {rhythm}"]))
        write(rec, tmp_path / "ludb" / "data" / rid)
    data = ludb_af_records(tmp_path, fs=250.0)
    assert dict(zip(data.records, data.labels)) == {"1": "non-AF", "2": "AF", "3": "AF"}
    assert data.fs == 250.0 and all(s.shape == (1, 2500) for s in data.signals)
    assert data.info["rhythms"]["3"].startswith("Atrial flutter")


def test_load_cinc2017_synthetic_with_cache(tmp_path):
    fs = 300.0
    labels = {"A00001": "N", "A00002": "A", "A00003": "~", "A00004": "O"}
    for i, rid in enumerate(labels):
        rec = Record(signal=_beats(fs, 9 + 3 * i, seed=i), fs=fs, original_leads=["ECG"],
                     metadata=Metadata(record_id=rid))
        write(rec, tmp_path / "cinc2017" / rid)
    (tmp_path / "cinc2017" / "REFERENCE.csv").write_text("".join(f"{k},{v}\n" for k, v in labels.items()))
    cache = tmp_path / "cache"
    first = load_cinc2017(tmp_path, cache_dir=cache, progress=False)
    assert cinc2017_cache_file(tmp_path, cache_dir=cache).is_file()
    second = load_cinc2017(tmp_path, cache_dir=cache, progress=False)
    assert first.records.tolist() == list(labels) and first.labels.tolist() == list(labels.values())
    np.testing.assert_array_equal(first.patients, first.records)
    np.testing.assert_allclose(first.durations_s, [9, 12, 15, 18])
    for a, b in zip(first.signals, second.signals):
        np.testing.assert_array_equal(a, b)
    sub = load_cinc2017(tmp_path, records=["A00002"], cache=False, fs=100.0)
    assert sub.labels.tolist() == ["A"] and sub.signals[0].shape == (1, 1200)
    # a changed REFERENCE.csv is a cache miss
    (tmp_path / "cinc2017" / "REFERENCE.csv").write_text("A00001,O\nA00002,A\nA00003,~\nA00004,O\n")
    assert load_cinc2017(tmp_path, cache_dir=cache, progress=False).labels[0] == "O"


# ------------------------------------------------------------------ shared data
def test_ludb_shared(shared):
    root = shared("ludb").parent
    data = ludb_af_records(root)
    assert len(data) == 100 and data.fs == 500.0
    assert (data.labels == "AF").sum() == 8  # 7 atrial fibrillation + 1 atrial flutter


def test_mitdb_shared(shared):
    root = shared("mitdb").parent
    data = mitdb_af_windows(root, records=["201", "203", "101"])
    af = data.patients[data.labels == "AF"]
    assert set(af) == {"201", "203"} and "101" not in set(af)
    assert all(s.shape == (1, 3600) for s in data.signals)


@pytest.mark.slow
def test_cinc2017_shared(shared, tmp_path):
    root = shared("cinc2017").parent
    data = load_cinc2017(root, progress=False, cache_dir=tmp_path)
    assert len(data) == 6397 and data.summary()["labels"] == {"A": 554, "N": 3788, "O": 1842, "~": 213}
    assert data.durations_s.min() >= 9.0 and data.durations_s.max() <= 61.0
