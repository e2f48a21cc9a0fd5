"""R-peak detection on synthetic signals: morphologies, artefacts, sampling rates, edge inputs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecgscope.errors import EmptySignalError, NonFiniteSignalError, SamplingRateError, SignalError
from ecgscope.evaluation import score_detection
from ecgscope.signal import RPEAK_METHODS, find_rpeaks, find_rpeaks_with_confidence

ALL = sorted(RPEAK_METHODS)


def _gauss(t, centre, width, amp):
    return amp * np.exp(-0.5 * ((t - centre) / width) ** 2)


def synthetic(fs=360.0, seconds=30.0, rr=0.8, qrs_amp=1.0, qrs_width=0.012, t_amp=0.3, p_amp=0.12,
              jitter=0.05, seed=0, polarity=1.0):
    """A spike-train ECG: Gaussian P, QRS (R with small Q/S) and T around each beat.

    Returns ``(signal, beat_samples)``.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * fs)
    t = np.arange(n) / fs
    beats = []
    b = 0.6
    while b < seconds - 0.6:
        beats.append(b)
        b += rr * (1 + jitter * rng.standard_normal())
    beats = np.asarray(beats)
    x = np.zeros(n)
    for c in beats:
        lo, hi = int((c - 0.4) * fs), int((c + 0.6) * fs)
        seg = t[max(lo, 0):hi]
        x[max(lo, 0):hi] += (
            _gauss(seg, c - 0.17, 0.02, p_amp)
            + _gauss(seg, c - 0.025, 0.008, -0.1 * qrs_amp)
            + _gauss(seg, c, qrs_width, polarity * qrs_amp)
            + _gauss(seg, c + 0.03, 0.01, -0.2 * qrs_amp)
            + _gauss(seg, c + 0.28, 0.05, t_amp)
        )
    x += 0.01 * rng.standard_normal(n)
    return x.astype(np.float32), np.rint(beats * fs).astype(np.int64)


def _score(ref, det, fs):
    return score_detection(ref, det, fs, tolerance=0.1)


@pytest.mark.parametrize("method", ALL)
def test_clean_synthetic_all_methods(method):
    x, ref = synthetic()
    det = find_rpeaks(x, 360.0, method=method)
    s = _score(ref, det, 360.0)
    assert s.se == 100.0 and s.ppv == 100.0
    assert s.median_abs_error_ms <= 3.0  # on the R peak, not the S wave
    assert det.dtype == np.int64 and np.all(np.diff(det) > 0)


@pytest.mark.parametrize("fs", [100, 128, 200, 250, 300, 360, 500, 1000, 1024, 2000])
def test_every_sampling_rate(fs):
    x, ref = synthetic(fs=fs, seconds=20)
    det = find_rpeaks(x, fs)
    s = _score(ref, det, fs)
    assert s.se == 100.0 and s.ppv == 100.0
    assert s.median_abs_error_ms <= 1000.0 / fs + 1.0


@pytest.mark.parametrize("fs", [100, 250, 2000])
@pytest.mark.parametrize("method", [m for m in ALL if m != "ecgscope"])
def test_classic_methods_at_other_rates(method, fs):
    x, ref = synthetic(fs=fs, seconds=20)
    s = _score(ref, find_rpeaks(x, fs, method=method), fs)
    assert s.se == 100.0 and s.ppv == 100.0


def test_tall_t_waves_are_not_beats():
    x, ref = synthetic(t_amp=1.3, qrs_amp=1.0)  # T taller than R
    s = _score(ref, find_rpeaks(x, 360.0), 360.0)
    assert s.se == 100.0 and s.ppv == 100.0


def test_inverted_qrs_is_located_on_its_negative_peak():
    x, ref = synthetic(polarity=-1.0, t_amp=-0.3)
    det = find_rpeaks(x, 360.0)
    s = _score(ref, det, 360.0)
    assert s.se == 100.0 and s.ppv == 100.0 and s.median_abs_error_ms <= 3.0
    assert np.all(x[det] < -0.5)


def test_wide_qrs_and_pvcs():
    fs = 360.0
    x, ref = synthetic(qrs_width=0.03, qrs_amp=1.5, seed=2)  # bundle-branch-block-like width
    assert _score(ref, find_rpeaks(x, fs), fs).se == 100.0
    # Every fourth beat a premature, wide, inverted, tall PVC.
    x, ref = synthetic(seed=3)
    t = np.arange(x.size) / fs
    pvc = []
    for k in range(3, ref.size - 1, 4):
        c = (ref[k] + ref[k - 1]) / 2 / fs + 0.1
        x += _gauss(t, c, 0.035, -2.0).astype(np.float32) + _gauss(t, c + 0.25, 0.06, 0.6).astype(np.float32)
        pvc.append(c)
    ref_all = np.sort(np.concatenate([ref, np.rint(np.asarray(pvc) * fs).astype(np.int64)]))
    s = _score(ref_all, find_rpeaks(x, fs), fs)
    assert s.se == 100.0 and s.ppv == 100.0


def test_pacing_spikes_do_not_move_or_add_beats():
    fs = 1000.0
    x, ref = synthetic(fs=fs, qrs_width=0.025)
    spikes = ref - int(0.04 * fs)
    for s0 in spikes:
        x[s0: s0 + 2] += 3.0  # 2 ms pacemaker spikes, taller than the QRS
    det = find_rpeaks(x, fs)
    s = _score(ref, det, fs)
    assert s.se == 100.0 and s.ppv == 100.0


def test_baseline_jumps_and_noise_burst():
    fs = 360.0
    x, ref = synthetic(seconds=60, seed=4)
    rng = np.random.default_rng(5)
    jumps = (20.0, 40.0)
    x[int(jumps[0] * fs):] += 2.0  # baseline jumps twice the QRS height
    x[int(jumps[1] * fs):] -= 3.0
    burst = slice(int(30 * fs), int(32 * fs))
    x[burst] += (0.6 * rng.standard_normal(burst.stop - burst.start)).astype(np.float32)
    det = find_rpeaks(x, fs)
    far = (det < burst.start - fs) | (det > burst.stop + fs)
    outside = (ref < burst.start - fs) | (ref > burst.stop + fs)
    s = _score(ref[outside], det[far], fs)
    # Every beat is found; a single lead cannot tell a jump from a monophasic beat,
    # so each jump may add at most one detection.
    assert s.se == 100.0 and s.fp <= len(jumps)
    assert np.sum((det >= burst.start) & (det < burst.stop)) <= 5  # a 2 s burst holds ~2-3 beats
    # With a second lead that has no jump, the fusion gives no false beat at all.
    y, _ = synthetic(seconds=60, seed=4, qrs_amp=0.7)
    s2 = _score(ref[outside], (d := find_rpeaks(np.vstack([x, y]), fs))[(d < burst.start - fs) | (d > burst.stop + fs)], fs)
    assert s2.se == 100.0 and s2.ppv == 100.0


def test_asystole_gives_no_beats_in_the_flat_part():
    fs = 250.0
    x, ref = synthetic(fs=fs, seconds=60, seed=6)
    flat = slice(int(20 * fs), int(35 * fs))
    x[flat] = 0.0
    det = find_rpeaks(x, fs)
    assert not np.any((det > flat.start + 0.1 * fs) & (det < flat.stop - 0.1 * fs))
    keep = (ref < flat.start) | (ref >= flat.stop)
    s = _score(ref[keep], det, fs)
    assert s.se == 100.0 and s.ppv == 100.0


def test_multi_lead_fusion_survives_a_bad_lead():
    fs = 360.0
    a, ref = synthetic(seed=7)
    b, _ = synthetic(seed=7, qrs_amp=0.6, t_amp=0.2)
    rng = np.random.default_rng(8)
    bad = np.zeros_like(a)
    bad[: a.size // 2] = 5.0  # lead disconnected and saturated for half the record
    bad[a.size // 2:] = 0.8 * rng.standard_normal(a.size - a.size // 2)  # then pure noise
    x = np.vstack([a, b, bad])
    det = find_rpeaks(x, fs)
    s = _score(ref, det, fs)
    assert s.se == 100.0 and s.ppv == 100.0
    # leads= selects rows; a single good lead gives the same beats.
    assert _score(ref, find_rpeaks(x, fs, leads=[1]), fs).se == 100.0


def test_confidence_is_in_unit_interval_and_aligned():
    x, _ = synthetic()
    pos, conf = find_rpeaks_with_confidence(x, 360.0)
    assert pos.shape == conf.shape and np.all((conf >= 0) & (conf <= 1))
    assert np.median(conf) > 0.5
    for method in ALL:
        pos, conf = find_rpeaks_with_confidence(x, 360.0, method=method)
        assert pos.shape == conf.shape and np.all((conf >= 0) & (conf <= 1))


def test_simulator_records_if_available():
    synthesis = pytest.importorskip("ecgscope.synthesis")
    from ecgscope.evaluation import reference_beats

    for kwargs in (dict(fs=250.0, pvc_rate=0.15, apc_rate=0.1), dict(fs=500.0, af_episodes=[(5, 25)], n_leads=3),
                   dict(fs=128.0, heart_rate=150.0), dict(fs=1000.0, heart_rate=40.0, noise=12.0)):
        rec = synthesis.simulate(duration=30.0, seed=11, **kwargs)
        ref = reference_beats(rec.annotations["atr"])
        s = score_detection(ref, find_rpeaks(rec.signal, rec.fs), rec.fs)
        assert s.se >= 99.0 and s.ppv >= 99.0, kwargs


# --------------------------------------------------------------------------- edge inputs
@pytest.mark.parametrize("method", ALL)
def test_flat_zero_short_and_empty_inputs_give_nothing(method):
    for x in (np.zeros(3600), np.full((2, 3600), 7.5), np.zeros(360), np.zeros(5), np.zeros(0), np.zeros((2, 0))):
        pos, conf = find_rpeaks_with_confidence(x, 360.0, method=method)
        assert pos.size == 0 and conf.size == 0 and pos.dtype == np.int64


@pytest.mark.parametrize("method", ALL)
def test_one_second_input(method):
    x, _ = synthetic(seconds=1.0, rr=0.4, seed=9)
    pos = find_rpeaks(x, 360.0, method=method)
    assert np.all((pos >= 0) & (pos < x.size))


def test_nan_raises_or_is_masked():
    x, ref = synthetic(seconds=30)
    x[3600:4000] = np.nan
    with pytest.raises(NonFiniteSignalError, match="nan_policy"):
        find_rpeaks(x, 360.0)
    det = find_rpeaks(x, 360.0, nan_policy="mask")
    assert not np.any((det >= 3600) & (det < 4000))
    keep = (ref < 3600 - 36) | (ref >= 4000 + 36)
    assert _score(ref[keep], det, 360.0).se == 100.0
    assert find_rpeaks(np.full(1000, np.nan), 360.0, nan_policy="mask").size == 0


def test_invalid_arguments():
    x, _ = synthetic(seconds=5)
    with pytest.raises(SignalError, match="unknown R-peak method"):
        find_rpeaks(x, 360.0, method="magic")
    with pytest.raises(SamplingRateError):
        find_rpeaks(x, 10.0)
    with pytest.raises(SamplingRateError):
        find_rpeaks(x, float("nan"))
    with pytest.raises(SignalError, match="out of range"):
        find_rpeaks(np.vstack([x, x]), 360.0, leads=[2])
    with pytest.raises(SignalError, match="shape"):
        find_rpeaks(np.zeros((2, 2, 100)), 360.0)
    with pytest.raises(EmptySignalError):
        find_rpeaks(np.zeros((0, 100)), 360.0)
    with pytest.raises(SignalError, match="nan_policy"):
        find_rpeaks(x, 360.0, nan_policy="zero")
    with pytest.raises(SignalError, match="not numeric"):
        find_rpeaks(np.array(["a", "b"]), 360.0)


def test_day_long_input_is_fast_enough():
    fs = 128.0
    x, ref = synthetic(fs=fs, seconds=600.0, seed=10)
    day = np.tile(x, 144)  # 24 h
    pos = find_rpeaks(day, fs)
    expected = ref.size * 144
    assert abs(pos.size - expected) <= 144  # at most one beat lost or gained per tile seam


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(min_value=0, max_value=6000),
    fs=st.sampled_from([100.0, 128.0, 250.0, 360.0, 500.0, 1000.0, 2000.0]),
    scale=st.sampled_from([0.0, 1e-30, 1e-6, 1.0, 1e6, 1e30, 1e300]),
    offset=st.sampled_from([0.0, -5.0, 1e4]),
    method=st.sampled_from(ALL),
    seed=st.integers(0, 2**16),
)
def test_property_any_input_gives_valid_positions(n, fs, scale, offset, method, seed):
    rng = np.random.default_rng(seed)
    x = (scale * rng.standard_normal(n) + offset).astype(np.float64)
    pos, conf = find_rpeaks_with_confidence(x, fs, method=method)
    assert pos.dtype == np.int64 and pos.shape == conf.shape
    assert np.all((pos >= 0) & (pos < max(n, 1)))
    assert np.all(np.diff(pos) > 0)
    assert np.all(np.isfinite(conf)) and np.all((conf >= 0) & (conf <= 1))


@settings(max_examples=15, deadline=None)
@given(exponent=st.integers(-60, 60), seed=st.integers(0, 1000), fs=st.sampled_from([128.0, 360.0, 1000.0]))
def test_property_amplitude_scale_does_not_change_beats(exponent, seed, fs):
    x, _ = synthetic(fs=fs, seconds=12, seed=seed)
    x = x.astype(np.float64)
    np.testing.assert_array_equal(find_rpeaks(x, fs), find_rpeaks(x * 2.0**exponent, fs))
