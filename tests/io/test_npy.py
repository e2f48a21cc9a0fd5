"""NPY/NPZ reader: fs required for .npy, archive members, orientation, no pickles."""

from __future__ import annotations

import numpy as np
import pytest

import ecgscope
from ecgscope.errors import CorruptFileError, FormatError, SamplingRateError
from ecgscope.io import detect_format


def test_npy_needs_fs_and_orients_by_smaller_dimension(tmp_path):
    x = np.random.default_rng(0).normal(size=(1000, 3)).astype(np.float32)  # samples x leads
    path = tmp_path / "sig.npy"
    np.save(path, x)
    with pytest.raises(SamplingRateError, match="fs="):
        ecgscope.read(path)
    rec = ecgscope.read(path, fs=500, leads=["I", "II", "III"])
    np.testing.assert_array_equal(rec.signal, x.T)
    assert rec.leads == ["I", "II", "III"]
    assert ecgscope.read(path, fs=500, orientation="leads_first").n_leads == 1000
    renamed = tmp_path / "sig.bin"
    renamed.write_bytes(path.read_bytes())
    assert detect_format(renamed) == "npy"


def test_npz_members_and_hints(tmp_path):
    x = np.random.default_rng(1).integers(-500, 500, size=(2, 800)).astype(np.int16)
    path = tmp_path / "a.npz"
    np.savez(path, ecg=x, fs=np.array(360.0), other=np.arange(3))
    rec = ecgscope.read(path, gain=200)
    np.testing.assert_allclose(rec.signal, x / 200)
    assert rec.fs == 360 and rec.metadata.extra["npz_member"] == "ecg"
    with pytest.raises(FormatError, match="no member"):
        ecgscope.read(path, variable="nope")
    with pytest.raises(SamplingRateError, match="360"):
        ecgscope.read(path, fs=250, gain=200)


def test_pickled_objects_are_refused(tmp_path):
    path = tmp_path / "obj.npy"
    np.save(path, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(CorruptFileError, match="pickled"):
        ecgscope.read(path, fs=100)


def test_npy_writer_stores_the_signal(tmp_path, small_record):
    files = ecgscope.write(small_record, tmp_path / "s.npy")
    np.testing.assert_array_equal(np.load(files[0]), small_record.signal)
