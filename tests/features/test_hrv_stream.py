"""HRV stream: masks, irregularity ordering, agreement with the signal layer, RR statistics."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.features.hrv_stream import (
    HRV_FEATURE_NAMES,
    MIN_INTERVALS,
    RR_STAT_NAMES,
    detect_rpeaks,
    hrv_features,
    hrv_vector,
    rr_statistics,
)
from ecgscope.signal import hrv_frequency, hrv_nonlinear, hrv_time
from ecgscope.signal.heart_rate_variability import nn_series

FS = 250.0


def _train(rr_s: np.ndarray) -> np.ndarray:
    return np.round(np.cumsum(np.r_[0.5, rr_s]) * FS).astype(np.int64)


@pytest.fixture
def regular():
    rng = np.random.default_rng(0)
    return _train(0.8 + 0.005 * rng.standard_normal(60))


@pytest.fixture
def irregular():
    rng = np.random.default_rng(1)
    return _train(rng.uniform(0.4, 1.2, 60))


def _get(v, name):
    return float(v[HRV_FEATURE_NAMES.index(name)])


def test_vector_shape_and_irregularity_ordering(regular, irregular):
    v_reg, m_reg = hrv_vector(regular, FS, duration_s=50.0)
    v_irr, m_irr = hrv_vector(irregular, FS, duration_s=50.0)
    assert v_reg.dtype == np.float32 and m_reg.dtype == bool and v_reg.shape == (len(HRV_FEATURE_NAMES),)
    for name in ("RMSSD", "SDNN", "pNN50", "SD1", "CVNN"):
        assert m_reg[HRV_FEATURE_NAMES.index(name)] and m_irr[HRV_FEATURE_NAMES.index(name)]
        assert _get(v_irr, name) > 5 * max(_get(v_reg, name), 1e-3), name
    assert _get(v_reg, "BeatRate") == pytest.approx(61 / 50 * 60)


def test_too_few_beats_masks_everything():
    v, m = hrv_vector(np.array([0, 200, 400]), FS, duration_s=2.0)
    assert MIN_INTERVALS == 3 and not m.any() and not v.any()
    v, m = hrv_vector(np.zeros(0, np.int64), FS)
    assert not m.any()


def test_short_window_masks_frequency_bands(regular):
    lf, hf = HRV_FEATURE_NAMES.index("LF"), HRV_FEATURE_NAMES.index("HF")
    r10 = regular[regular < 10 * FS]
    v, m = hrv_vector(r10, FS, duration_s=10.0)
    assert m[hf] and not m[lf] and v[lf] == 0  # HF needs 6.3 s, LF 23.75 s
    assert m[HRV_FEATURE_NAMES.index("RMSSD")]
    _, m_long = hrv_vector(regular, FS, duration_s=50.0)
    assert m_long[lf] and m_long[hf]
    # the same peaks declared as a 5-s window lose the HF band too
    _, m5 = hrv_vector(r10, FS, duration_s=5.0)
    assert not m5[hf]


def test_values_equal_signal_layer(irregular):
    v, m = hrv_vector(irregular, FS, duration_s=50.0)
    series = nn_series(irregular, FS, clean=None)
    ref = hrv_time(series) | hrv_nonlinear(series) | hrv_frequency(series)
    compared = 0
    for i, name in enumerate(HRV_FEATURE_NAMES):
        if name in ref and np.isfinite(ref[name]):
            assert m[i]
            assert v[i] == pytest.approx(ref[name], rel=1e-5, abs=1e-5), name
            compared += 1
    assert compared >= 25


def test_rr_statistics(regular, irregular):
    s_reg, s_irr = rr_statistics(regular, FS), rr_statistics(irregular, FS)
    assert s_reg.dtype == np.float32 and s_reg.shape == (len(RR_STAT_NAMES),) == (8,)
    stat = dict(zip(RR_STAT_NAMES, s_irr))
    reg = dict(zip(RR_STAT_NAMES, s_reg))
    assert reg["mean_rr"] == pytest.approx(0.8, abs=0.01)
    assert stat["rmssd"] > 10 * reg["rmssd"] and stat["pnn50"] > 0.5 > reg["pnn50"]
    assert stat["cv_rr"] > 0.2 > reg["cv_rr"]
    assert 0.55 < stat["turning_point_ratio"] < 0.8  # i.i.d. series: 2/3 expected
    assert 0 <= reg["shannon_entropy"] <= 1 and stat["shannon_entropy"] > 0.8
    series = nn_series(irregular, FS, clean=None)
    t = hrv_time(series)
    assert stat["sdnn"] == pytest.approx(t["SDNN"] / 1000, rel=1e-5)
    assert stat["pnn50"] == pytest.approx(t["pNN50"] / 100, rel=1e-5)
    assert np.isnan(rr_statistics(np.array([0, 200]), FS)).all()


def test_hrv_features_detects_peaks_on_signals(irregular):
    t = np.arange(int(52 * FS)) / FS
    sig = np.zeros((1, t.size), np.float32)
    for b in irregular / FS:
        sig[0] += np.exp(-((t - b) ** 2) / (2 * 0.01**2)).astype(np.float32)
    flat = np.zeros((1, int(10 * FS)), np.float32)
    peaks = detect_rpeaks([sig, flat], FS)
    assert abs(peaks[0].size - irregular.size) <= 2 and peaks[1].size == 0
    x, m = hrv_features([sig, flat], FS)
    assert x.shape == (2, len(HRV_FEATURE_NAMES)) and m[0].sum() > 25 and not m[1].any()
    x2, _ = hrv_features([sig, flat], FS, rpeaks=[irregular, np.zeros(0, np.int64)])
    assert _get(x2[0], "RMSSD") == pytest.approx(_get(x[0], "RMSSD"), rel=0.1)


def test_noise_detected_as_beats_is_unmeasured_not_an_error():
    too_fast = np.arange(0, 2500, 20)  # 80-ms "RR intervals": all outside the physiological limits
    _, m = hrv_vector(too_fast, FS, duration_s=10.0)
    assert not m[HRV_FEATURE_NAMES.index("RMSSD")]
    assert np.isnan(rr_statistics(too_fast, FS)).all()


def test_af_features_are_appended_and_robust_to_isolated_ectopy(regular, irregular):
    from ecgscope.features.hrv_stream import AF_FEATURES, hrv_feature_names

    assert hrv_feature_names() == HRV_FEATURE_NAMES
    assert hrv_feature_names(af=True) == HRV_FEATURE_NAMES + AF_FEATURES
    base, base_mask = hrv_vector(regular, FS, duration_s=50.0)
    v, m = hrv_vector(regular, FS, duration_s=50.0, af=True)
    n = len(HRV_FEATURE_NAMES)
    assert v.shape == (n + len(AF_FEATURES),) and np.array_equal(v[:n], base) and np.array_equal(m[:n], base_mask)
    assert m[n:].all()
    # the first three are the RR statistics of the same peaks
    assert np.allclose(v[n:n + 3], rr_statistics(regular, FS)[5:8])
    share = AF_FEATURES.index("IrregularShare")
    v_irr, _ = hrv_vector(irregular, FS, duration_s=50.0, af=True)
    assert v[n + share] == 0.0 and v_irr[n + share] > 0.5
    # one premature beat (early, then a compensatory pause) in sinus rhythm: RMSSD jumps, the AF share barely moves
    rr = np.full(60, 0.8)
    rr[30], rr[31] = 0.5, 1.1
    ectopic, _ = hrv_vector(_train(rr), FS, duration_s=50.0, af=True)
    assert _get(ectopic, "RMSSD") > 10 * _get(base, "RMSSD")
    assert ectopic[n + share] <= 3 / 59 and v_irr[n + share] > 10 * ectopic[n + share]
    v, m = hrv_vector(np.array([0, 200, 400]), FS, duration_s=2.0, af=True)
    assert v.shape == (n + len(AF_FEATURES),) and not m.any()
