"""Property tests: any valid parameter set gives a well-formed record."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ecgscope.synthesis import SimulationParameterError, simulate, truth_fiducials


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    duration=st.floats(1.0, 40.0),
    fs=st.sampled_from([100.0, 128.0, 250.0, 360.0, 500.0, 1000.0]),
    heart_rate=st.floats(30.0, 200.0),
    hrv=st.floats(0.0, 0.15),
    pvc_rate=st.floats(0.0, 0.3),
    apc_rate=st.floats(0.0, 0.3),
    n_leads=st.integers(1, 12),
    noise=st.one_of(st.none(), st.floats(-5.0, 40.0)),
    seed=st.integers(0, 2**32),
)
def test_any_valid_parameters_give_a_well_formed_record(duration, fs, heart_rate, hrv, pvc_rate, apc_rate,
                                                        n_leads, noise, seed):
    try:
        rec = simulate(duration=duration, fs=fs, heart_rate=heart_rate, hrv=hrv, pvc_rate=pvc_rate,
                       apc_rate=apc_rate, n_leads=n_leads, noise=noise, seed=seed)
    except SimulationParameterError as err:  # an SNR needs some ECG: only refused for sub-beat records
        assert noise is not None and "no ECG activity" in str(err)
        assert duration < 1.6 * 1.6 * 60 / heart_rate
        return
    assert rec.signal.shape == (n_leads, round(duration * fs))
    assert rec.signal.dtype == np.float32 and np.isfinite(rec.signal).all()
    assert np.abs(rec.signal).max() < 20
    atr = rec.annotations["atr"]
    assert np.all(np.diff(atr.sample) >= 0)
    assert atr.sample.size == 0 or (atr.sample.min() >= 0 and atr.sample.max() < rec.n_samples)
    beats = atr.sample[atr.symbol != "+"]
    # Ectopic beats shorten some intervals, so allow a wide band around the expected count.
    expected = duration * heart_rate / 60
    assert expected * 0.5 - 2 <= beats.size <= expected * 1.6 + 2
    # No beat comes sooner than the refractory limit (300 ms, or 0.9 of the shortest sinus RR).
    shortest = min(0.3, 0.9 * 0.6 * 60 / heart_rate)
    assert np.all(np.diff(beats) >= shortest * fs - 1)
    assert set(atr.symbol[atr.symbol != "+"]) <= {"N", "V", "A"}
    fid = truth_fiducials(rec)
    for key, val in fid.items():
        if key != "symbol":
            assert np.all((val == -1) | ((val >= 0) & (val < rec.n_samples)))
    if noise is not None:
        assert np.allclose(rec.metadata.extra["noise"]["achieved_snr_db"], noise, atol=0.05)


@pytest.mark.slow
def test_a_24_hour_record_works():
    rec = simulate(duration=24 * 3600, fs=360.0, pvc_rate=0.01, apc_rate=0.01, af_episodes=[(3600, 7200)],
                   noise=20, seed=1)
    assert rec.signal.shape == (2, 24 * 3600 * 360)
    atr = rec.annotations["atr"]
    n_beats = int(np.sum(atr.symbol != "+"))
    assert 0.9 * 24 * 60 * 70 < n_beats < 1.15 * 24 * 60 * 70
    assert np.isfinite(rec.signal).all()
