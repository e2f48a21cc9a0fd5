"""Heart-rate variability: cleaning, time, frequency and non-linear indices."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecgscope.errors import SignalError
from ecgscope.signal import clean_nn, hrv, hrv_frequency, hrv_nonlinear, hrv_time
from ecgscope.signal.heart_rate_variability import dfa, sample_entropy


def _modulated_rr(freq_hz: float, amp_ms: float = 40.0, mean_ms: float = 800.0, duration_s: float = 300.0):
    """RR intervals whose value follows ``mean + amp sin(2 pi f t)`` at each beat time."""
    t, out = 0.0, []
    while t < duration_s:
        v = mean_ms + amp_ms * np.sin(2 * np.pi * freq_hz * t)
        out.append(v)
        t += v / 1000.0
    return np.asarray(out)


def test_time_domain_on_known_series():
    rr = np.tile([800.0, 860.0, 800.0, 900.0], 50)  # diffs: 60, -60, 100, -100
    out = hrv_time(rr=rr, clean="none")
    d = np.diff(rr)
    assert out["MeanNN"] == pytest.approx(rr.mean())
    assert out["SDNN"] == pytest.approx(rr.std(ddof=1))
    assert out["RMSSD"] == pytest.approx(np.sqrt(np.mean(d**2)))
    assert out["pNN50"] == pytest.approx(100.0 * np.sum(np.abs(d) > 50) / rr.size)
    assert out["pNN20"] == pytest.approx(100.0 * (rr.size - 1) / rr.size)
    assert out["MeanHR"] == pytest.approx(np.mean(60000.0 / rr))
    assert out["HTI"] == pytest.approx(rr.size / 100)  # 100 intervals share the 800-ms bin
    assert np.isnan(out["SDANN"])  # under two 5-minute segments


def test_rpeaks_and_rr_inputs_agree():
    fs = 250.0
    rr = _modulated_rr(0.25, 30)
    rpeaks = np.concatenate([[0], np.cumsum(np.rint(rr * fs / 1000))]).astype(np.int64)
    a = hrv(rpeaks, fs)
    b = hrv(rr=np.diff(rpeaks) * 1000 / fs)
    for key in ("HRV_SDNN", "HRV_RMSSD", "HRV_HF", "HRV_SD1", "HRV_SampEn"):
        assert a[key] == pytest.approx(b[key], rel=1e-3)


def test_all_indices_in_one_row():
    out = hrv(rr=_modulated_rr(0.25, 30, duration_s=700))
    for key in ("HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_pNN50", "HRV_pNN20", "HRV_MeanHR", "HRV_HTI",
                "HRV_TINN", "HRV_VLF", "HRV_LF", "HRV_HF", "HRV_LFHF", "HRV_LFnu", "HRV_HFnu", "HRV_SD1",
                "HRV_SD2", "HRV_SampEn", "HRV_DFA_alpha1", "HRV_DFA_alpha2", "HRV_SDANN"):
        assert key in out
    assert np.isfinite(out["HRV_SDANN"]) and np.isfinite(out["HRV_VLF"])


@pytest.mark.parametrize("method", ["welch", "lomb"])
def test_respiratory_modulation_lands_in_hf(method):
    rr = _modulated_rr(0.25, amp_ms=40)
    out = hrv_frequency(rr=rr, method=method, clean="none")
    assert out["HF"] > 20 * out["LF"]
    assert out["HFnu"] > 95
    assert out["HFpeak"] == pytest.approx(0.25, abs=0.01)
    assert out["HF"] == pytest.approx(40.0**2 / 2, rel=0.15)  # a sinusoid's variance


@pytest.mark.parametrize("method", ["welch", "lomb"])
def test_slow_modulation_lands_in_lf(method):
    out = hrv_frequency(rr=_modulated_rr(0.1, amp_ms=30), method=method, clean="none")
    assert out["LF"] > 10 * out["HF"] and out["LFHF"] > 10
    assert out["LFpeak"] == pytest.approx(0.1, abs=0.01)


def test_short_series_leave_vlf_undefined():
    out = hrv_frequency(rr=_modulated_rr(0.25, duration_s=120), clean="none")
    assert np.isnan(out["VLF"]) and np.isfinite(out["HF"])


def test_dfa_white_noise_and_random_walk(rng):
    noise = rng.standard_normal(8000)
    assert dfa(noise, range(16, 65)) == pytest.approx(0.5, abs=0.1)
    assert dfa(noise, range(4, 17)) == pytest.approx(0.5, abs=0.15)  # small-scale bias of DFA1
    walk = np.cumsum(rng.standard_normal(8000))
    assert dfa(walk, range(16, 65)) == pytest.approx(1.5, abs=0.1)
    assert dfa(np.diff(walk), range(16, 65)) == pytest.approx(0.5, abs=0.1)  # its increments are white
    out = hrv_nonlinear(rr=800 + 20 * noise[:3000], clean="none")
    assert out["DFA_alpha2"] == pytest.approx(0.5, abs=0.1)


def test_sample_entropy_bounds(rng):
    white = sample_entropy(rng.standard_normal(1500))
    regular = sample_entropy(np.sin(np.arange(1500) * 0.3))
    assert 0 < regular < white < np.log(1500)
    assert white == pytest.approx(2.2, abs=0.25)  # -ln P(match) for Gaussian noise, r = 0.2 SD
    assert np.isnan(sample_entropy(np.ones(100)))
    assert np.isnan(sample_entropy([1.0, 2.0]))
    assert sample_entropy(np.tile([0.0, 1.0], 100), r=0.1) == pytest.approx(0.0, abs=1e-9)


def test_poincare_matches_variance_identities(rng):
    rr = 800 + np.cumsum(rng.standard_normal(2000)) * 0.5 + 10 * rng.standard_normal(2000)
    out = hrv_nonlinear(rr=rr, clean="none")
    t = hrv_time(rr=rr, clean="none")
    assert out["SD1"] == pytest.approx(t["SDSD"] / np.sqrt(2), rel=0.01)
    assert out["SD2"] ** 2 == pytest.approx(2 * t["SDNN"] ** 2 - out["SD1"] ** 2, rel=0.02)


def test_clean_nn_corrects_ectopics_missed_and_extra(rng):
    rr = 800 + 10 * rng.standard_normal(400)
    rr[100], rr[101] = 520.0, 1080.0  # premature beat + compensatory pause
    rr[200] = 1600.0  # missed beat
    rr[300], rr[301] = 300.0, 500.0  # extra (false) beat
    s = clean_nn(rr)
    assert s.counts["ectopic"] >= 2 and s.counts["missed"] == 1 and s.counts["extra"] == 1
    assert s.nn.size == rr.size  # one interval split, two merged
    assert np.all(np.abs(s.nn - 800) < 80)
    assert s.corrected.sum() >= 4
    removed = clean_nn(rr, correction="remove")
    assert removed.nn.size < rr.size and not removed.successive.all()
    assert np.all(np.abs(removed.nn - 800) < 80)


def test_median_rule_and_labels(rng):
    rr = 800 + 10 * rng.standard_normal(100)
    rr[50] = 1200.0
    s = clean_nn(rr, method="median", correction="remove")
    assert s.counts["median"] == 1 and s.nn.size == 99
    labels = ["N"] * 101
    labels[30] = "V"
    s = clean_nn(rr, labels, method="none", correction="remove")
    assert s.counts["label"] == 2 and s.nn.size == 98  # both intervals touching the PVC
    assert s.successive_diff.size == 96  # no difference across the gap
    assert 1200.0 in s.nn  # method="none" keeps plausible intervals


def test_hrv_rejects_bad_input():
    with pytest.raises(SignalError, match="milliseconds"):
        hrv(rr=np.full(100, 0.8))  # seconds, not ms
    with pytest.raises(SignalError, match="NN intervals"):
        hrv(rr=np.full(5, 800.0))
    with pytest.raises(SignalError, match="NN intervals"):
        hrv(rr=[])
    assert clean_nn([]).nn.size == 0 and np.isnan(hrv_time(rr=[800.0])["SDNN"])
    with pytest.raises(SignalError):
        hrv(np.arange(0, 10000, 250))  # positions without fs
    with pytest.raises(SignalError):
        clean_nn(np.full(10, 800.0), method="bogus")
    with pytest.raises(SignalError):
        hrv_frequency(rr=np.full(100, 800.0), method="fft")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(500, 1200), min_size=20, max_size=120), st.floats(-200, 200), st.floats(0.5, 1.5))
def test_time_indices_transform_as_expected(values, shift, scale):
    rr = np.asarray(values)
    base = hrv_time(rr=rr, clean="none", tinn=False)
    shifted = hrv_time(rr=rr + shift, clean="none", tinn=False)
    scaled = hrv_time(rr=np.clip(rr * scale, 251, 2499), clean="none", tinn=False)
    assert shifted["SDNN"] == pytest.approx(base["SDNN"], rel=1e-6, abs=1e-6)
    assert shifted["RMSSD"] == pytest.approx(base["RMSSD"], rel=1e-6, abs=1e-6)
    assert 0 <= base["pNN50"] <= base["pNN20"] <= 100
    if np.all((rr * scale > 251) & (rr * scale < 2499)):
        assert scaled["SDNN"] == pytest.approx(scale * base["SDNN"], rel=1e-6, abs=1e-6)


def _tinn_brute_force(nn: np.ndarray) -> tuple[float, float]:
    """(width, margin): the best triangle by trying every pair of feet, and how much worse the runner-up is."""
    from ecgscope.signal._hrv.time_domain import HISTOGRAM_BIN_MS

    counts, edges = np.histogram(nn, bins=np.arange(nn.min(), nn.max() + HISTOGRAM_BIN_MS, HISTOGRAM_BIN_MS))
    centres = (edges[:-1] + edges[1:]) / 2
    x, pos = int(np.argmax(counts)), np.arange(counts.size)
    y = float(counts[x])
    fits = []
    for n in range(x + 1):
        for m in range(x, counts.size):
            rise = y if n == x else (pos - n) / (x - n) * y
            fall = y if m == x else (m - pos) / (m - x) * y
            tri = np.where((pos < n) | (pos > m), 0.0, np.where(pos <= x, rise, fall))
            fits.append((float(((counts - tri) ** 2).sum()), centres[m] - centres[n]))
    fits.sort()
    return fits[0][1], fits[1][0] - fits[0][0]


def test_tinn_is_the_least_squares_triangle_of_every_pair_of_feet():
    from ecgscope.signal._hrv.time_domain import _tinn, HISTOGRAM_BIN_MS

    rng = np.random.default_rng(0)
    checked = 0
    for n in range(20, 120, 4):
        nn = np.r_[rng.normal(800, 40, n), rng.normal(1000, 30, n // 4)]
        width, margin = _tinn_brute_force(nn)
        if margin > 1e-6:  # a unique best triangle (ties may take either)
            assert _tinn(nn, HISTOGRAM_BIN_MS) == pytest.approx(width)
            checked += 1
    assert checked >= 15
