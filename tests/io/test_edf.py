"""EDF reader: lead selection by unit and rate, resampling, annotations, patient fields."""

from __future__ import annotations

import datetime as dt

import edfio
import numpy as np
import pytest

import ecgscope
from ecgscope.errors import UnitsError
from ecgscope.io import detect_format


def _mixed_edf(path, *, ecg_unit="uV", annotations=()):
    t = np.arange(2560) / 256
    ecg = np.sin(2 * np.pi * 1.2 * t) * 800  # µV
    signals = [
        edfio.EdfSignal(ecg, 256, label="ECG II", physical_dimension=ecg_unit, physical_range=(-1000, 1000)),
        edfio.EdfSignal(-ecg, 256, label="ECG V1", physical_dimension=ecg_unit, physical_range=(-1000, 1000)),
        edfio.EdfSignal(ecg[::2] / 2, 128, label="EEG", physical_dimension="uV", physical_range=(-1000, 1000)),
        edfio.EdfSignal(np.full(10, 97.0), 1, label="SpO2", physical_dimension="%", physical_range=(0, 100)),
    ]
    edf = edfio.Edf(signals, patient=edfio.Patient(code="P-7", sex="M", birthdate=dt.date(1950, 6, 1)),
                    recording=edfio.Recording(startdate=dt.date(2020, 5, 1)), starttime=dt.time(8, 30),
                    annotations=list(annotations))
    edf.write(path)
    return ecg / 1000.0


def test_ecg_signals_chosen_by_unit_and_rate(tmp_path):
    path = tmp_path / "m.edf"
    expected = _mixed_edf(path, annotations=[edfio.EdfAnnotation(1.0, None, "N"),
                                             edfio.EdfAnnotation(2.5, 0.5, "Arousal"),
                                             edfio.EdfAnnotation(3.0, None, "+\t(AFIB")])
    assert detect_format(path) == "edf"
    rec = ecgscope.read(path)
    assert rec.fs == 256 and rec.original_leads == ["ECG II", "ECG V1"] and rec.leads == ["II", "V1"]
    np.testing.assert_allclose(rec.signal[0], expected, atol=2000 / 65535 / 1000 + 1e-6)
    assert rec.metadata.extra["skipped_signals"] == ["SpO2 (%, 1 Hz)", "EEG (128 Hz)"]
    ann = rec.annotations["edf"]
    assert ann.sample.tolist() == [256, 640, 768]
    assert ann.symbol.tolist() == ["N", '"', "+"] and ann.aux.tolist() == ["", "Arousal", "(AFIB"]
    assert rec.metadata.patient_id == "P-7" and rec.metadata.sex == "M" and rec.metadata.age == 69
    assert rec.metadata.start_time == "2020-05-01T08:30:00"


def test_resample_other_rates(tmp_path):
    path = tmp_path / "m.edf"
    _mixed_edf(path)
    rec = ecgscope.read(path, resample=True)
    assert rec.leads == ["II", "V1", "EEG"] and rec.n_samples == 2560


def test_missing_units(tmp_path):
    path = tmp_path / "nounit.edf"
    _mixed_edf(path, ecg_unit="")
    assert ecgscope.read(path).leads == ["EEG"]  # the only voltage signal left
    assert ecgscope.read(path, units="uV").leads == ["II", "V1"]
    only = tmp_path / "only.edf"
    edfio.Edf([edfio.EdfSignal(np.zeros(100), 100, label="X", physical_range=(-1, 1))]).write(only)
    with pytest.raises(UnitsError, match="units="):
        ecgscope.read(only)


def test_writer_refuses_nan_and_keeps_length(tmp_path, small_record):
    odd = small_record.crop(0, 2501 - 7)  # not a whole number of 1-s records
    ecgscope.write(odd, tmp_path / "odd.edf")
    assert ecgscope.read(tmp_path / "odd.edf").n_samples == odd.n_samples
    bad = small_record.crop(0, 100)
    bad.signal = bad.signal.copy()
    bad.signal[0, 3] = np.nan
    with pytest.raises(ecgscope.errors.FormatError, match="NaN"):
        ecgscope.write(bad, tmp_path / "nan.edf")
