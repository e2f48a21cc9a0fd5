"""ecgscope-json reader: both layouts, inference from ``leads``, bare arrays, nulls, errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

import ecgscope
from ecgscope.errors import CorruptFileError, FormatError, SamplingRateError
from ecgscope.io import detect_format


def _doc(**fields) -> dict:
    return {"format": "ecgscope-json", "version": 1, **fields}


@pytest.mark.parametrize("layout", [None, "leads_x_samples", "samples_x_leads"])
def test_layouts(tmp_path, layout):
    x = np.round(np.random.default_rng(0).normal(size=(3, 50)), 3)
    signal = x.T.tolist() if layout == "samples_x_leads" else x.tolist()
    fields = {"fs": 250, "leads": ["I", "II", "V1"], "signal": signal}
    if layout:
        fields["layout"] = layout
    path = tmp_path / "rec.json"
    path.write_text(json.dumps(_doc(**fields)))
    rec = ecgscope.read(path)
    np.testing.assert_allclose(rec.signal, x, atol=1e-6)
    assert rec.leads == ["I", "II", "V1"] and rec.fs == 250


def test_orientation_follows_leads_when_no_layout(tmp_path):
    x = np.arange(8.0).reshape(2, 4) / 10  # 2 leads x 4 samples, written samples-first
    path = tmp_path / "t.json"
    path.write_text(json.dumps({"fs": 100, "leads": ["I", "II"], "signal": x.T.tolist()}))
    np.testing.assert_allclose(ecgscope.read(path).signal, x)


def test_bare_array_units_gain_and_nulls(tmp_path):
    path = tmp_path / "bare.json"
    path.write_text("[[100, 200, null, 400]]")
    assert detect_format(path) == "json"
    rec = ecgscope.read(path, fs=100, gain=200, nonfinite="keep")
    np.testing.assert_allclose(rec.signal[0], [0.5, 1.0, np.nan, 2.0])
    with pytest.raises(SamplingRateError, match="fs="):
        ecgscope.read(path)
    micro = tmp_path / "uv.json"
    micro.write_text(json.dumps({"fs": 100, "units": "uV", "signal": [100, 200, 300]}))
    np.testing.assert_allclose(ecgscope.read(micro).signal[0], [0.1, 0.2, 0.3], atol=1e-7)


def test_annotations_and_metadata_are_read(tmp_path):
    doc = _doc(fs=100, signal=[[0.0] * 10], leads=["II"],
               annotations={"atr": {"sample": [2, 5], "symbol": ["N", "V"]}},
               metadata={"record_id": "x1", "age": 40, "sex": "F", "site": "lab"})
    path = tmp_path / "a.json"
    path.write_text(json.dumps(doc))
    rec = ecgscope.read(path, check_units=False)
    assert rec.annotations["atr"].symbol.tolist() == ["N", "V"]
    assert rec.metadata.record_id == "x1" and rec.metadata.age == 40 and rec.metadata.extra == {"site": "lab"}


@pytest.mark.parametrize(("text", "error", "match"), [
    ('{"fs": 100, "signal": [[1, 2], [3]]}', CorruptFileError, "rectangular"),
    ('{"fs": 100, "signal": [["a", "b"]]}', CorruptFileError, "rectangular"),
    ('{"fs": 100}', FormatError, "'signal'"),
    ('{"fs": 100, "signal": [1, 2', CorruptFileError, "not valid JSON"),
    ('{"format": "other", "signal": [1]}', FormatError, "unknown JSON format"),
    ('{"fs": 100, "signal": [1, 2], "leads": ["I", "II", "III"]}', ecgscope.errors.LeadCountError, "3 names"),
    ('{"fs": 100, "signal": [1, 2], "annotations": {"atr": {"symbol": ["N"]}}}', FormatError, "sample"),
])
def test_errors(tmp_path, text, error, match):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(error, match=match):
        ecgscope.read(path)
