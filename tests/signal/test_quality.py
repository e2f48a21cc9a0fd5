"""Signal quality: every flag fires on its synthetic fault and stays quiet on clean signal."""

from __future__ import annotations

import time

import numpy as np
import pytest

from ecgscope.errors import SignalError
from ecgscope.signal import signal_quality
from ecgscope.signal.quality import DEFAULT_THRESHOLDS, quality_mask

FS = 360.0


@pytest.fixture(scope="module")
def clean():
    from ecgscope.synthesis import simulate

    rec = simulate(duration=60, fs=FS, leads=["II", "V1"], seed=7)
    return rec.signal.copy(), rec.annotations["atr"].sample


def _window(q, t_s):
    return int(np.searchsorted(q.start, int(t_s * FS), side="right") - 1)


def test_clean_signal_is_usable(clean):
    x, _ = clean
    q = signal_quality(x, FS)
    assert q.score.shape == (2, 6) and q.usable.all() and q.combined_usable.all()
    assert not any(f.any() for f in q.flags.values())
    assert np.all(q.metrics["agreement"] > 0.95)
    assert not quality_mask(q).any()


def test_flatline(clean):
    x, _ = clean
    y = x.copy()
    y[0, int(20 * FS):int(26 * FS)] = 0.37
    q = signal_quality(y, FS)
    w = _window(q, 22)
    assert q.flags["flatline"][0, w] and not q.flags["flatline"][1].any()
    assert q.metrics["flatline"][0, w] == pytest.approx(0.6, abs=0.1)
    assert q.combined_usable[w]  # lead V1 is still readable
    worst = signal_quality(y, FS, combine="worst")
    assert not worst.combined_usable[w] and worst.combined_usable.sum() == 5
    mask = quality_mask(q, lead=0)
    assert mask[int(22 * FS)] and not mask[int(5 * FS)] and mask.sum() == int(10 * FS)


def test_nan_counts_as_flat(clean):
    x, _ = clean
    y = x.copy()
    y[1, int(3 * FS):int(9 * FS)] = np.nan
    q = signal_quality(y, FS, agreement=None)
    assert q.flags["flatline"][1, 0] and not q.usable[1, 0]


def test_saturation(clean):
    x, _ = clean
    y = x.copy()
    y[0] = np.minimum(y[0], np.quantile(y[0], 0.995) * 0.6)  # an amplifier rail cuts every R peak
    q = signal_quality(y, FS, agreement=None)
    assert q.flags["saturation"][0].all() and not q.flags["saturation"][1].any()
    assert q.combined_usable.all() and not q.usable[0].any()
    given = signal_quality(x, FS, agreement=None, limits=(-5.0, float(x[0].max())))
    assert not given.flags["saturation"].any()  # one sample touching a rail is no clipping


def test_high_frequency_noise(clean, rng):
    x, _ = clean
    y = x.copy()
    seg = slice(int(40 * FS), int(50 * FS))
    y[1, seg] += (0.3 * rng.standard_normal(seg.stop - seg.start)).astype(np.float32)
    q = signal_quality(y, FS, agreement=None)
    w = _window(q, 45)
    assert q.flags["hf_noise"][1, w] and q.flags["hf_noise"].sum() == 1
    assert q.metrics["hf_noise"][1, w] > 10 * q.metrics["hf_noise"][1, 0]


def test_mains_hum_alone_is_not_hf_noise(clean):
    x, _ = clean
    t = np.arange(x.shape[1]) / FS
    q = signal_quality(x + 0.2 * np.sin(2 * np.pi * 50 * t).astype(np.float32), FS, agreement=None)
    assert not q.flags["hf_noise"].any()


def test_baseline_wander(clean):
    x, _ = clean
    t = np.arange(x.shape[1]) / FS
    y = x.copy()
    seg = (t >= 10) & (t < 20)
    y[0, seg] += (3.0 * np.sin(2 * np.pi * 0.2 * t[seg])).astype(np.float32)
    q = signal_quality(y, FS, agreement=None)
    w = _window(q, 15)
    assert q.flags["drift_mv"][0, w] or q.flags["baseline"][0, w]
    assert not q.usable[0, w] and q.usable[0, [0, 2, 3, 4, 5]].all()
    assert q.metrics["drift_mv"][0, w] > DEFAULT_THRESHOLDS["drift_mv"]


def test_detector_agreement_with_given_beats(clean):
    x, r = clean
    q = signal_quality(x, FS, rpeaks=r)
    assert np.all(q.metrics["agreement"] > 0.95)
    wrong = r[:-1] + np.diff(r) // 2  # half-way between beats
    q = signal_quality(x, FS, rpeaks=wrong)
    assert np.all(q.metrics["agreement"] < 0.2) and q.flags["agreement"].all()
    assert not q.combined_usable.any()


def test_agreement_across_leads():
    from ecgscope.synthesis import simulate

    rec = simulate(duration=30, fs=FS, n_leads=3, seed=2)
    y = rec.signal.copy()
    y[2] = np.random.default_rng(0).standard_normal(y.shape[1]).astype(np.float32) * 0.5
    q = signal_quality(y, FS, agreement="leads")
    assert np.all(q.metrics["agreement"][:2] > 0.9)
    assert np.all(q.metrics["agreement"][2] < 0.8)


def test_overlapping_windows_mask_and_frame(clean):
    x, _ = clean
    y = x.copy()
    y[:, int(20 * FS):int(24 * FS)] = 0.0
    q = signal_quality(y, FS, window=4.0, step=2.0, agreement=None, leads=["II", "V1"])
    assert q.stop[-1] == y.shape[1] and np.all(np.diff(q.start) > 0)
    mask = quality_mask(q)
    assert mask[int(21 * FS)] and not mask[int(10 * FS)]
    assert quality_mask(q, per_lead=True).shape == y.shape
    frame = q.to_frame()
    assert set(frame["lead"]) == {"II", "V1", "combined"}
    assert len(frame) == 3 * q.n_windows
    assert {"flatline", "hf_noise", "score", "usable", "start_s"} <= set(frame.columns)


def test_short_signal_and_bad_arguments():
    q = signal_quality(np.zeros(500, np.float32), FS, agreement=None)
    assert q.n_windows == 1 and q.flags["flatline"].all()
    with pytest.raises(SignalError):
        signal_quality(np.zeros(500), FS, combine="median")
    with pytest.raises(SignalError):
        signal_quality(np.zeros(0), FS)


@pytest.mark.slow
def test_fast_on_24_hours(rng):
    n = int(24 * 3600 * FS)
    x = (0.05 * rng.standard_normal((2, n))).astype(np.float32)
    t0 = time.perf_counter()
    q = signal_quality(x, FS, agreement=None)
    assert q.n_windows == 8640
    assert time.perf_counter() - t0 < 60
