"""Conditioning filters: frequency response, zero phase, notch, baseline removal, resampling."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.errors import ECGScopeError, SamplingRateError, SignalError
from ecgscope.record import resample_signal
from ecgscope.signal import bandpass, highpass, lowpass, notch, remove_baseline, resample

FS = 500.0


def _tone(freq: float, seconds: float = 20.0, fs: float = FS) -> np.ndarray:
    t = np.arange(int(seconds * fs)) / fs
    return np.sin(2 * np.pi * freq * t).astype(np.float32)


def _gain(filtered: np.ndarray, original: np.ndarray) -> float:
    """Amplitude ratio over the middle half (away from edge effects)."""
    n = original.size
    mid = slice(n // 4, 3 * n // 4)
    return float(np.std(filtered[mid]) / np.std(original[mid]))


@pytest.mark.parametrize(
    "func, kwargs, passed, stopped",
    [
        (bandpass, dict(low=0.5, high=40.0), [5.0, 15.0], [0.05, 120.0]),
        (highpass, dict(cutoff=0.5), [5.0, 40.0], [0.05]),
        (lowpass, dict(cutoff=40.0), [1.0, 10.0], [120.0, 200.0]),
    ],
)
def test_butterworth_passes_and_stops(func, kwargs, passed, stopped):
    for f in passed:
        x = _tone(f)
        assert _gain(func(x, FS, **kwargs), x) == pytest.approx(1.0, abs=0.05), f
    for f in stopped:
        x = _tone(f, seconds=120.0 if f < 0.1 else 20.0)
        assert _gain(func(x, FS, **kwargs), x) < 0.1, f


@pytest.mark.parametrize("func, cutoff", [(highpass, 0.5), (lowpass, 40.0)])
def test_zero_phase_gain_at_cutoff_is_half(func, cutoff):
    # A Butterworth filter is -3 dB at its cut-off; forward-backward squares it: 0.5.
    x = _tone(cutoff, seconds=120.0 if cutoff < 1 else 20.0)
    assert _gain(func(x, FS, cutoff=cutoff), x) == pytest.approx(0.5, abs=0.04)


@pytest.mark.parametrize("func, kwargs", [(bandpass, dict(low=1.0, high=30.0)), (highpass, dict(cutoff=1.0)),
                                          (lowpass, dict(cutoff=20.0)), (notch, dict(freq=50.0))])
def test_zero_phase_on_symmetric_pulse(func, kwargs):
    n, centre = 4001, 2000
    t = np.arange(n)
    pulse = np.exp(-0.5 * ((t - centre) / 15.0) ** 2)
    y = func(pulse, FS, **kwargs).astype(np.float64)
    assert int(np.argmax(np.abs(y))) == centre
    k = np.arange(1, 400)
    np.testing.assert_allclose(y[centre + k], y[centre - k], atol=1e-3 * np.abs(y).max())


def test_notch_removes_mains_and_harmonics_and_keeps_signal():
    base = _tone(7.0)
    hum = 0.5 * (_tone(50.0) + _tone(100.0) + _tone(150.0))
    y = notch(base + hum, FS, freq=50.0)
    mid = slice(2000, 8000)
    assert np.std(y[mid] - base[mid]) < 0.03
    only50 = notch(base + hum, FS, freq=50.0, harmonics=False)
    assert np.std(only50[mid] - base[mid]) > 0.3  # 100 and 150 Hz left in


def test_notch_auto_picks_the_stronger_line():
    base = _tone(7.0)
    y = notch(base + 0.5 * _tone(60.0), FS, freq="auto")
    assert np.std(y[2000:8000] - base[2000:8000]) < 0.03


def test_remove_baseline_methods_remove_wander_and_keep_qrs():
    fs = 250.0
    t = np.arange(int(30 * fs)) / fs
    beats = np.arange(0.5, 30, 0.8)
    ecg = np.zeros_like(t)
    for b in beats:
        ecg += np.exp(-0.5 * ((t - b) / 0.012) ** 2)
    wander = 0.8 * np.sin(2 * np.pi * 0.2 * t) + 0.3 * t / 30
    for method in ("highpass", "median"):
        y = remove_baseline((ecg + wander).astype(np.float32), fs, method=method)
        idx = np.rint(beats * fs).astype(int)[2:-2]
        amp = y[idx]
        assert np.all(np.abs(amp - 1.0) < 0.25), method
        between = np.rint((beats[2:-3] + 0.4) * fs).astype(int)
        assert np.all(np.abs(y[between]) < 0.15), method


def test_two_dimensional_equals_per_lead_and_keeps_dtype(rng):
    x = rng.standard_normal((3, 2000)).astype(np.float32)
    y = bandpass(x, FS, 1.0, 40.0)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y[1], bandpass(x[1], FS, 1.0, 40.0), rtol=1e-5, atol=1e-6)
    assert bandpass(x.astype(np.float64), FS).dtype == np.float64


def test_short_signals_do_not_crash():
    for n in (0, 1, 2, 5, 30):
        x = np.ones(n, np.float32)
        assert bandpass(x, FS).shape == (n,)
        assert notch(x, FS).shape == (n,)
        assert remove_baseline(x, FS, method="median").shape == (n,)


def test_resample_is_the_record_implementation(rng):
    x = rng.standard_normal((2, 3600)).astype(np.float32)
    np.testing.assert_array_equal(resample(x, 360, 250), resample_signal(x, 360, 250))
    assert resample(x, 360, 250).shape == (2, 2500)


def test_bad_arguments_raise_clear_errors():
    x = _tone(5.0, 2.0)
    with pytest.raises(SignalError, match="Nyquist"):
        lowpass(x, 100.0, cutoff=60.0)
    with pytest.raises(SignalError, match="low cut-off"):
        bandpass(x, FS, low=30.0, high=10.0)
    with pytest.raises(SignalError, match="baseline method"):
        remove_baseline(x, FS, method="spline")
    with pytest.raises(SamplingRateError):
        highpass(x, -1.0)
    with pytest.raises(SignalError, match="Nyquist"):
        notch(x, 80.0, freq=50.0)
    with pytest.raises(ECGScopeError):
        bandpass(np.zeros((2, 2, 2)), FS)
