import json

import numpy as np
import pytest

from ecgscope.record import Annotations, Metadata, Record, canonical_lead_name, canonical_lead_names


@pytest.mark.parametrize(
    "raw, canon",
    [("MLII", "II"), ("mlii", "II"), ("ML II", "II"), ("V1", "V1"), ("v5", "V5"), ("AVR", "aVR"),
     ("avf", "aVF"), ("Lead I", "I"), ("i", "I"), ("DII", "II"), ("ECG1", "ECG1"), ("CM5", "CM5")],
)
def test_canonical_lead_name(raw, canon):
    assert canonical_lead_name(raw) == canon


def test_duplicate_names_are_made_unique():
    assert canonical_lead_names(["MLII", "II", "V1"]) == ["II", "II#2", "V1"]


def test_record_builds_canonical_leads_and_keeps_originals(small_record):
    rec = small_record
    assert rec.leads == ["II", "V1", "III"]
    assert rec.original_leads == ["MLII", "V1", "lead III"]
    assert rec.signal.dtype == np.float32 and rec.signal.shape == (3, 2500)
    assert rec.duration == pytest.approx(10.0)
    assert rec.lead("MLII") is not None and rec.lead_index("mlii") == 0


def test_record_rejects_bad_shapes_and_fs():
    with pytest.raises(ValueError):
        Record(signal=np.zeros((2, 3, 4)), fs=100)
    with pytest.raises(ValueError):
        Record(signal=np.zeros((2, 10)), fs=0)
    with pytest.raises(ValueError):
        Record(signal=np.zeros((2, 10)), fs=100, leads=["I"])


def test_slice_by_time_is_a_view_and_shifts_annotations(small_record):
    part = small_record.slice(2.0, 4.0)
    assert part.n_samples == 500
    assert np.shares_memory(part.signal, small_record.signal)
    ann = part.annotations["atr"]
    full = small_record.annotations["atr"].sample
    expected = full[(full >= 500) & (full < 1000)] - 500
    np.testing.assert_array_equal(ann.sample, expected)
    assert small_record.slice(9.5, duration=5).n_samples == 125


def test_select_leads(small_record):
    sub = small_record.select_leads(["V1", 0])
    assert sub.leads == ["V1", "II"]
    np.testing.assert_array_equal(sub.signal[1], small_record.signal[0])
    with pytest.raises(KeyError):
        small_record.select_leads(["V6"])


def test_resample_moves_annotations(small_record):
    up = small_record.resample(500)
    assert up.fs == 500 and up.n_samples == 5000
    np.testing.assert_array_equal(up.annotations["atr"].sample, small_record.annotations["atr"].sample * 2)
    # The R-peaks stay at the annotated positions after resampling.
    peaks = up.signal[0][up.annotations["atr"].sample]
    assert np.all(peaks > 0.9)


def test_to_dict_is_json_safe(small_record):
    d = small_record.to_dict()
    text = json.dumps(d)
    assert '"II"' in text and d["annotations"]["atr"]["count"] == 12
    assert d["metadata"]["sex"] == "F"
    full = small_record.to_dict(include_signal=True)
    assert len(full["signal"]) == 3


def test_annotations_sorted_and_counted():
    ann = Annotations(sample=[30, 10, 20], symbol=["V", "N", "N"])
    np.testing.assert_array_equal(ann.sample, [10, 20, 30])
    assert list(ann.symbol) == ["N", "N", "V"]
    assert ann.counts() == {"N": 2, "V": 1}
    assert Annotations.from_dict(ann.to_dict()) == ann


def test_metadata_roundtrip_keeps_unknown_keys():
    m = Metadata.from_dict({"record_id": "x", "age": 40, "bmi": 22})
    assert m.extra == {"bmi": 22}
    assert Metadata.from_dict(m.to_dict()) == m


def test_metadata_copy_is_deep_and_keeps_values():
    m = Metadata(record_id="x", diagnoses=["AF"], extra={"fiducials": {"r": [1, 2, 3]}, "nested": [[1, 2], (3, 4)],
                                                        "array": np.arange(3)})
    c = m.copy()
    assert c.record_id == "x" and c.extra["nested"] == [[1, 2], (3, 4)]
    np.testing.assert_array_equal(c.extra["array"], np.arange(3))
    c.diagnoses.append("PVC")
    c.extra["fiducials"]["r"].append(4)
    c.extra["nested"][0].append(9)
    c.extra["array"][0] = 7
    assert m.diagnoses == ["AF"] and m.extra["fiducials"]["r"] == [1, 2, 3]
    assert m.extra["nested"][0] == [1, 2] and m.extra["array"][0] == 0
