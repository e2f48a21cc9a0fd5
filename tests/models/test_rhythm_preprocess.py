"""Rhythm windows: the optional context HRV vector next to each window's own."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.errors import ConfigError
from ecgscope.features.hrv_stream import HRV_FEATURE_NAMES, hrv_vector
from ecgscope.models.rhythm.preprocess import WindowSpec, context_spans, window_table


def test_context_spans_are_centred_and_stay_inside_the_record():
    spec = WindowSpec(fs=100.0, window_s=10.0, hop_s=10.0, hrv_context_s=60.0)
    starts = np.array([0, 1000, 3000, 6000, 9000])
    spans = context_spans(starts, 10_000, spec)
    assert (spans[:, 1] - spans[:, 0] == 6000).all()
    assert spans[:, 0].min() == 0 and spans[:, 1].max() == 10_000
    assert spans[2].tolist() == [500, 6500]  # the window [3000, 4000) sits in the middle
    short = context_spans(np.array([0, 1000]), 2500, spec)  # a 25-s record: its whole length
    assert short.tolist() == [[0, 2500], [0, 2500]]


def test_context_spec_validates_and_names_its_columns():
    with pytest.raises(ConfigError):
        WindowSpec(hrv_context_s=-1.0)
    spec = WindowSpec(hrv_context_s=60.0)
    n = len(HRV_FEATURE_NAMES)
    assert spec.hrv_names[:n] == HRV_FEATURE_NAMES and spec.hrv_names[n] == "MeanNN@60s"
    assert WindowSpec().hrv_names == HRV_FEATURE_NAMES and WindowSpec(hrv=False).hrv_names == ()


def test_context_hrv_is_the_hrv_of_the_span_around_each_window():
    from ecgscope.signal.rpeaks import find_rpeaks
    from ecgscope.synthesis.simulator import simulate

    rec = simulate(duration=40.0, fs=100.0, heart_rate=70, leads=("II",), af_episodes=[(20.0, 40.0, 110.0)],
                   seed=3)
    plain = WindowSpec(fs=100.0, window_s=10.0, hop_s=10.0, bandpass=None)
    spec = WindowSpec(fs=100.0, window_s=10.0, hop_s=10.0, bandpass=None, hrv_context_s=20.0)
    t0, t1 = (window_table([rec.signal], 100.0, s, memo=False) for s in (plain, spec))
    n = len(HRV_FEATURE_NAMES)
    assert t1.hrv.shape == (4, 2 * n) and np.array_equal(t1.hrv[:, :n], t0.hrv)
    rpeaks = find_rpeaks(rec.signal.astype(np.float32), 100.0, nan_policy="mask")
    for i, (a, b) in enumerate(context_spans(np.array([0, 1000, 2000, 3000]), 4000, spec)):
        values, mask = hrv_vector(rpeaks[(rpeaks >= a) & (rpeaks < b)] - a, 100.0, duration_s=(b - a) / 100.0)
        assert np.array_equal(t1.hrv_mask[i, n:], mask)
        assert np.allclose(t1.hrv[i, n:][mask], np.asarray(values, np.float32)[mask])
    # the sinus-only context of the first window is more regular than the one straddling the AF onset
    sdnn = HRV_FEATURE_NAMES.index("SDNN") + n
    assert t1.hrv[0, sdnn] < t1.hrv[1, sdnn]


def test_windows_of_a_record_shorter_than_the_context_share_the_whole_record_hrv():
    from ecgscope.signal.rpeaks import find_rpeaks
    from ecgscope.synthesis.simulator import simulate

    rec = simulate(duration=25.0, fs=100.0, heart_rate=80, leads=("II",), af_episodes=[(0.0, 25.0, 120.0)], seed=5)
    spec = WindowSpec(fs=100.0, window_s=10.0, hop_s=10.0, bandpass=None, hrv_context_s=60.0)
    table = window_table([rec.signal], 100.0, spec, memo=False)
    n = len(HRV_FEATURE_NAMES)
    rpeaks = find_rpeaks(rec.signal.astype(np.float32), 100.0, nan_policy="mask")
    values, mask = hrv_vector(rpeaks, 100.0, duration_s=25.0)
    assert len(table) == 3
    for i in range(3):
        assert np.array_equal(table.hrv_mask[i, n:], mask) and np.allclose(table.hrv[i, n:], values)


def test_summary_spec_reads_the_rhythm_summary_of_each_window_and_context():
    from ecgscope.features.rhythm_summary import SUMMARY_FEATURES, rhythm_summaries
    from ecgscope.signal.rpeaks import find_rpeaks
    from ecgscope.synthesis.simulator import simulate

    with pytest.raises(ConfigError, match="already holds"):
        WindowSpec(hrv_summary=True, hrv_ectopy=True)
    spec = WindowSpec(fs=100.0, window_s=10.0, hop_s=10.0, bandpass=None, hrv_summary=True, hrv_context_s=20.0)
    n = len(SUMMARY_FEATURES)
    assert spec.hrv_names[:n] == SUMMARY_FEATURES and spec.hrv_names[n] == SUMMARY_FEATURES[0] + "@20s"
    rec = simulate(duration=30.0, fs=100.0, heart_rate=70, leads=("II",), af_episodes=[(15.0, 30.0, 110.0)],
                   seed=3)
    table = window_table([rec.signal], 100.0, spec, memo=False)
    assert table.hrv.shape == (3, 2 * n)
    x = rec.signal.astype(np.float32)
    rpeaks = find_rpeaks(x, 100.0, nan_policy="mask")
    expected = rhythm_summaries(x, 100.0, [[1000, 2000]], rpeaks, block_s=10.0, quality_step_s=10.0)[0]
    assert np.array_equal(table.hrv_mask[1, :n], np.isfinite(expected))
    assert np.allclose(table.hrv[1, :n], np.nan_to_num(expected), rtol=1e-5, atol=1e-6)
    irr = SUMMARY_FEATURES.index("win_irr_max")
    assert table.hrv[0, irr] < table.hrv[2, irr]  # sinus window against an AF window


def test_workers_give_the_same_window_table(monkeypatch):
    import ecgscope.models.rhythm.preprocess as pre
    from ecgscope.synthesis.simulator import simulate

    monkeypatch.setattr(pre, "PARALLEL_MIN_SPANS", 4)  # a short record still goes to two processes
    rec = simulate(duration=120.0, fs=100.0, leads=("II",), af_episodes=[(40.0, 80.0, 110.0)], seed=2)
    spec = WindowSpec(fs=100.0, window_s=10.0, hop_s=10.0, hrv_summary=True, hrv_context_s=30.0)
    one = window_table([rec.signal], 100.0, spec, memo=False)
    two = window_table([rec.signal], 100.0, spec, memo=False, workers=2)
    np.testing.assert_array_equal(one.hrv_mask, two.hrv_mask)
    np.testing.assert_array_equal(one.hrv, two.hrv)
    np.testing.assert_array_equal(one.x, two.x)
