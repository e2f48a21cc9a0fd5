"""MATLAB reader: v4, v5, v7.3; signal, fs, lead names, orientation, variable hints."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
import scipy.io

import ecgscope
from ecgscope.errors import FormatError, SamplingRateError
from ecgscope.io import detect_format

X = np.round(np.random.default_rng(3).normal(size=(3, 2000)), 4)


@pytest.mark.parametrize("version", ["4", "5"])
def test_scipy_versions(tmp_path, version):
    path = tmp_path / "rec.mat"
    variables = {"ecg": X.T, "Fs": np.array([[500.0]])}
    if version == "5":
        variables["leads"] = np.array(["I", "II", "V2"], dtype=object)
    scipy.io.savemat(path, variables, format=version)
    assert detect_format(path) == "mat"
    rec = ecgscope.read(path)
    np.testing.assert_allclose(rec.signal, X, atol=1e-6)
    assert rec.fs == 500
    if version == "5":
        assert rec.leads == ["I", "II", "V2"]


def test_struct_fields_char_matrix_and_orientation(tmp_path):
    path = tmp_path / "s.mat"
    scipy.io.savemat(path, {"data": {"signal": X, "sampling_rate": 250}, "labels": np.array(["I  ", "II ", "V2 "])})
    rec = ecgscope.read(path)
    assert rec.fs == 250 and rec.leads == ["I", "II", "V2"] and rec.metadata.extra["mat_variable"] == "data.signal"
    square = tmp_path / "sq.mat"
    scipy.io.savemat(square, {"val": X[:, :3]})
    assert ecgscope.read(square, fs=100, orientation="samples_first").n_samples == 3
    np.testing.assert_allclose(ecgscope.read(square, fs=100, orientation="samples_first").signal, X[:, :3].T)


def test_v73_hdf5(tmp_path):
    path = tmp_path / "v73.mat"
    with h5py.File(path, "w") as f:
        f.create_dataset("ecg", data=X.T)  # MATLAB's 3 x 2000 matrix, as HDF5 stores it
        f.create_dataset("fs", data=np.array([[1000.0]]))
        names = f.create_group("#refs#")
        refs = []
        for i, name in enumerate(["I", "II", "V2"]):
            ds = names.create_dataset(f"n{i}", data=np.array([[ord(c)] for c in name], dtype=np.uint16))
            ds.attrs["MATLAB_class"] = np.bytes_("char")
            refs.append(ds.ref)
        cell = f.create_dataset("leads", data=np.array([refs], dtype=h5py.ref_dtype).T)
        cell.attrs["MATLAB_class"] = np.bytes_("cell")
    rec = ecgscope.read(path)
    np.testing.assert_allclose(rec.signal, X, atol=1e-6)
    assert rec.fs == 1000 and rec.leads == ["I", "II", "V2"]


def test_fs_and_variable_errors(tmp_path):
    path = tmp_path / "nofs.mat"
    scipy.io.savemat(path, {"a": X, "b": np.arange(5.0)})
    with pytest.raises(SamplingRateError, match="fs="):
        ecgscope.read(path)
    assert ecgscope.read(path, fs=360, variable="a").n_leads == 3
    with pytest.raises(FormatError, match="no variable"):
        ecgscope.read(path, fs=360, variable="zzz")
    text_only = tmp_path / "text.mat"
    scipy.io.savemat(text_only, {"note": "hello"})
    with pytest.raises(FormatError, match="no numeric"):
        ecgscope.read(text_only, fs=100)
