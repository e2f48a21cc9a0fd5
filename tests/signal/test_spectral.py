"""welch_psd: SciPy's Welch estimate for the settings the feature code uses, computed segment-parallel."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from ecgscope.errors import SignalError
from ecgscope.signal.spectral import welch_psd


@pytest.mark.parametrize("detrend", ["constant", "linear"])
@pytest.mark.parametrize(("n", "nperseg", "nfft", "fs"), [(2500, 1000, None, 250.0), (1001, 1001, None, 300.0),
                                                         (93, 40, 128, 4.0), (777, 100, 101, 250.0)])
def test_equals_scipy_welch(detrend, n, nperseg, nfft, fs):
    x = np.random.default_rng(n).normal(size=n).cumsum()
    f, p = welch(x, fs, window="hann", nperseg=nperseg, noverlap=nperseg // 2, nfft=nfft, detrend=detrend)
    g, q = welch_psd(x, fs, nperseg, nfft=nfft, detrend=detrend)
    np.testing.assert_allclose(g, f, atol=1e-12)
    np.testing.assert_allclose(q, p, rtol=1e-9, atol=1e-12 * p.max())


def test_a_sinusoid_peaks_at_its_frequency_and_integrates_to_its_variance():
    fs = 250.0
    t = np.arange(int(60 * fs)) / fs
    f, p = welch_psd(2.0 * np.sin(2 * np.pi * 7.0 * t), fs, int(4 * fs))
    assert f[np.argmax(p)] == pytest.approx(7.0, abs=0.25)
    assert np.trapezoid(p, f) == pytest.approx(2.0, rel=0.05)  # variance of 2 sin = 2


def test_nperseg_longer_than_the_series_takes_the_whole_series_and_bad_settings_are_refused():
    x = np.random.default_rng(1).normal(size=300)
    assert welch_psd(x, 100.0, 1000)[0].size == 151
    with pytest.raises(SignalError, match="detrend"):
        welch_psd(x, 100.0, 100, detrend="quadratic")
    with pytest.raises(SignalError, match="nfft"):
        welch_psd(x, 100.0, 100, nfft=50)
