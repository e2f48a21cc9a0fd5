"""Beat segmentation and RR features."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecgscope.errors import SignalError
from ecgscope.signal import rr_features, segment_beats


def _impulses(fs: float, n: int, positions) -> np.ndarray:
    x = np.zeros((2, n), np.float32)
    x[0, positions] = 1.0
    x[1, positions] = -2.0
    return x


def test_shapes_and_alignment():
    fs = 250.0
    r = np.array([100, 300, 500, 700])
    x = _impulses(fs, 1000, r)
    beats, valid = segment_beats(x, fs, r, window=(0.2, 0.4))
    assert beats.shape == (4, 2, 150) and beats.dtype == np.float32
    assert valid.all()
    # the R peak sits `before` seconds into every window, on both leads
    assert np.all(beats[:, 0, 50] == 1.0) and np.all(beats[:, 1, 50] == -2.0)
    assert np.count_nonzero(beats[:, 0]) == 4


def test_one_dimensional_input_gives_one_lead(small_record):
    lead = small_record.signal[0]
    r = small_record.annotations["atr"].sample
    beats, valid = segment_beats(lead, small_record.fs, r)
    assert beats.shape[:2] == (r.size, 1)
    assert valid.sum() >= r.size - 2


@pytest.mark.parametrize("pad", ["edge", "zero", "nan"])
def test_edges_marked_invalid_and_padded(pad):
    fs = 100.0
    x = np.arange(300, dtype=np.float32)[None, :]
    r = [5, 150, 295]
    beats, valid = segment_beats(x, fs, r, window=(0.1, 0.1), pad=pad)
    assert valid.tolist() == [False, True, False]
    assert np.array_equal(beats[1, 0], np.arange(140, 160, dtype=np.float32))
    first = beats[0, 0, :5]  # samples -5..-1
    expected = {"edge": 0.0, "zero": 0.0}.get(pad)
    if pad == "nan":
        assert np.isnan(first).all()
    else:
        assert np.all(first == expected)
    last = beats[2, 0, -5:]  # samples 300..304
    assert np.isnan(last).all() if pad == "nan" else np.all(last == (299.0 if pad == "edge" else 0.0))


def test_resampled_windows_follow_the_waveform():
    fs, target = 500.0, 125.0
    t = np.arange(5000) / fs
    x = np.sin(2 * np.pi * 1.0 * t).astype(np.float32)
    r = np.array([1000, 2000, 3000])
    beats, valid = segment_beats(x, fs, r, window=(0.2, 0.3), target_fs=target)
    assert beats.shape == (3, 1, round(0.5 * target)) and valid.all()
    tt = r[:, None] / fs + (np.arange(beats.shape[2])[None, :] - round(0.2 * target)) / target
    assert np.allclose(beats[:, 0], np.sin(2 * np.pi * tt), atol=0.02)


def test_upsampling_works_too():
    fs = 100.0
    x = np.sin(2 * np.pi * 2 * np.arange(1000) / fs).astype(np.float32)
    beats, valid = segment_beats(x, fs, [500], window=(0.1, 0.1), target_fs=400.0)
    assert beats.shape == (1, 1, 80) and valid.all()
    tt = 5.0 + (np.arange(80) - 40) / 400.0
    assert np.allclose(beats[0, 0], np.sin(2 * np.pi * 2 * tt), atol=0.02)


def test_normalisations(rng):
    fs = 250.0
    x = (rng.standard_normal((2, 5000)) * [[1.0], [5.0]] + [[2.0], [-3.0]]).astype(np.float32)
    r = np.arange(200, 4800, 200)
    z, _ = segment_beats(x, fs, r, normalize="zscore")
    assert np.allclose(z.mean(axis=2), 0, atol=1e-4) and np.allclose(z.std(axis=2), 1, atol=1e-3)
    rec, _ = segment_beats(x, fs, r, normalize="record")
    assert abs(float(rec[:, 1].std()) - 1.0) < 0.2 and abs(float(np.median(rec[:, 1]))) < 0.2
    med, valid = segment_beats(x, fs, r, normalize="median")
    ptp = med.max(axis=2) - med.min(axis=2)
    assert np.allclose(np.median(ptp[valid], axis=0), 1.0, atol=1e-5)


def test_bad_arguments():
    x = np.zeros(100, np.float32)
    with pytest.raises(SignalError):
        segment_beats(x, 100.0, [50], normalize="bogus")
    with pytest.raises(SignalError):
        segment_beats(x, 100.0, [50], window=(-0.1, 0.2))
    with pytest.raises(SignalError):
        segment_beats(np.zeros((2, 2, 2)), 100.0, [1])
    empty, valid = segment_beats(x, 100.0, [])
    assert empty.shape == (0, 1, 70) and valid.shape == (0,)


def test_rr_features_on_hand_built_positions():
    fs = 100.0
    r = np.array([0, 100, 200, 250, 400, 500])  # RR: 1.0 1.0 0.5 1.5 1.0 s
    f = rr_features(r, fs, local=1)
    assert np.isnan(f.pre_rr[0]) and np.isnan(f.post_rr[5])
    assert f.pre_rr.tolist()[1:] == [1.0, 1.0, 0.5, 1.5, 1.0]
    assert f.post_rr.tolist()[:5] == [1.0, 1.0, 0.5, 1.5, 1.0]
    # local over ±1 beat: intervals between beats i-1 and i+1
    assert f.local_rr[3] == pytest.approx((0.5 + 1.5) / 2)
    assert f.local_rr[0] == pytest.approx(1.0)
    assert np.allclose(f.record_rr, 1.0)
    assert f.pre_local[3] == pytest.approx(0.5 / 1.0)
    assert f.post_pre[3] == pytest.approx(3.0)
    assert f.pre_record[4] == pytest.approx(1.5)
    g = rr_features(r, fs, local=1, edge="nearest")
    assert g.pre_rr[0] == 1.0 and g.post_rr[5] == 1.0
    # per-beat relative change |post - pre| / mean: beat 2: 0.5 vs 1.0 -> 2/3; beat 3: 1.5 vs 0.5 -> 1.0
    # beat 1: 0; beat 4: 1.0 vs 1.5 -> 0.4; the ends have no change (NaN) and take the median of the rest
    assert f.irregularity.tolist() == pytest.approx([0.0, 1 / 3, 2 / 3, 2 / 3, 0.7, 0.4])


def test_irregularity_separates_af_from_sinus_with_ectopy(rng):
    sinus = np.full(200, 0.8) * (1 + 0.02 * rng.standard_normal(200))
    sinus[::7] *= 0.6  # an early beat every 7th beat ...
    sinus[1::7] *= 1.35  # ... with its compensatory pause
    af = rng.uniform(0.4, 1.1, 200)
    f = rr_features(np.cumsum(np.r_[0.0, sinus, af]) * 250, 250.0)
    assert np.nanmedian(f.irregularity[20:180]) < 0.1 < 0.2 < np.nanmedian(f.irregularity[230:380])


def test_rr_features_normalisation_and_errors():
    r = np.cumsum(np.r_[0, np.full(20, 80), 40, 120, np.full(10, 80)])
    f = rr_features(r, 100.0, normalize="record")
    assert np.allclose(f.record_rr, 1.0)
    z = rr_features(r, 100.0, normalize="zscore")
    assert abs(np.nanmean(z.pre_rr)) < 1e-9
    with pytest.raises(SignalError):
        rr_features(r, 100.0, local=0)
    assert len(rr_features([], 100.0)) == 0
    assert len(rr_features([5], 100.0)) == 1


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(20, 400), min_size=2, max_size=40), st.integers(1, 6))
def test_rr_ratios_are_consistent(intervals, local):
    r = np.concatenate([[0], np.cumsum(intervals)])
    f = rr_features(r, 200.0, local=local)
    rr = np.asarray(intervals) / 200.0
    assert np.allclose(f.pre_rr[1:], rr) and np.allclose(f.post_rr[:-1], rr)
    assert np.all((f.local_rr >= rr.min() - 1e-12) & (f.local_rr <= rr.max() + 1e-12))
    assert np.allclose(f.pre_local[1:], f.pre_rr[1:] / f.local_rr[1:])


def _gauss(t, centre, width, height):
    return height * np.exp(-((t - centre) ** 2) / (2 * width ** 2))


def test_beat_morphology_tells_wide_and_p_less_beats_from_the_dominant_one():
    from ecgscope.signal import beat_morphology
    from ecgscope.signal.beats import MORPHOLOGY_COLUMNS

    fs, before = 360.0, 0.25
    t = np.arange(int(0.7 * fs)) / fs - before  # seconds from the R peak
    normal = _gauss(t, -0.16, 0.02, 0.15) + _gauss(t, 0, 0.012, 1.0) + _gauss(t, 0.25, 0.04, 0.3)
    wide = _gauss(t, 0, 0.045, -1.4) + _gauss(t, 0.25, 0.05, 0.5)       # ventricular: no P, wide QRS
    no_p = _gauss(t, 0, 0.012, 1.0) + _gauss(t, 0.25, 0.04, 0.3)         # same QRS, P missing
    beats = np.vstack([normal] * 20 + [wide, no_p, 2 * normal])
    frame = beat_morphology(beats, fs, before)
    assert tuple(frame.columns) == MORPHOLOGY_COLUMNS and len(frame) == 23
    assert np.isfinite(frame.to_numpy()).all()
    n, v, s, big = (frame.iloc[i] for i in (0, 20, 21, 22))
    assert n["qrs_rms"] == pytest.approx(0) and n["qrs_corr"] == pytest.approx(1)
    assert n["qrs_amplitude"] == pytest.approx(1) and n["qrs_length"] == pytest.approx(1)
    assert n["qrs_width"] == pytest.approx(1) and s["qrs_width"] == pytest.approx(1, abs=0.1)
    assert v["qrs_rms"] > 0.5 and v["qrs_corr"] < 0.8 and v["qrs_amplitude"] > 1.2 and v["qrs_width"] > 2.5
    assert s["p_rms"] > 0.05 and s["qrs_rms"] < 1e-3 and s["qrs_corr"] > 0.99
    # correlation is scale-free; the amplitude and line-length ratios see the doubling
    assert big["qrs_corr"] == pytest.approx(1) and big["qrs_amplitude"] == pytest.approx(2)
    assert big["qrs_width"] == pytest.approx(1)
    # an explicit template gives the same as the median of these beats
    same = beat_morphology(beats, fs, before, template=normal)
    np.testing.assert_allclose(same.to_numpy(), frame.to_numpy())
    # one template per beat: each beat is measured against its own (here the doubled beat against its double)
    own = np.vstack([normal] * 22 + [2 * normal])
    per_beat = beat_morphology(beats, fs, before, template=own)
    np.testing.assert_allclose(per_beat.to_numpy()[:22], frame.to_numpy()[:22])
    assert per_beat.iloc[22]["qrs_amplitude"] == pytest.approx(1) and per_beat.iloc[22]["qrs_rms"] == pytest.approx(0)


def test_beat_morphology_flat_input_and_errors():
    from ecgscope.signal import beat_morphology

    flat = beat_morphology(np.zeros((3, 200)), 360.0, 0.25)
    assert np.isfinite(flat.to_numpy()).all() and (flat["qrs_corr"] == 0).all()
    with pytest.raises(SignalError, match="beats must be"):
        beat_morphology(np.zeros(200), 360.0, 0.25)
    with pytest.raises(SignalError, match="template has"):
        beat_morphology(np.zeros((3, 200)), 360.0, 0.25, template=np.zeros(100))
    with pytest.raises(SignalError, match="template has"):
        beat_morphology(np.zeros((3, 200)), 360.0, 0.25, template=np.zeros((2, 200)))  # neither one nor 3
