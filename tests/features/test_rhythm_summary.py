"""Record-level rhythm summary: each family answers to the rhythm it is meant to see, at any sampling rate."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.features.rhythm_summary import SUMMARY_FEATURES, rhythm_summary


def _summary(seed: int, fs: float = 300.0, noise_mv: float = 0.0, **rhythm) -> dict[str, float]:
    from ecgscope.synthesis.simulator import simulate

    rec = simulate(duration=30.0, fs=fs, leads=("II",), noise=24.0, seed=seed, **rhythm)
    x = rec.signal + np.random.default_rng(seed).normal(0.0, noise_mv, rec.signal.shape)
    values = rhythm_summary(x, fs)
    assert values.dtype == np.float32 and values.shape == (len(SUMMARY_FEATURES),)
    return dict(zip(SUMMARY_FEATURES, values.tolist()))


def test_names_are_unique_and_grouped_by_family():
    assert len(set(SUMMARY_FEATURES)) == len(SUMMARY_FEATURES)
    families = {n.split("_")[0] for n in SUMMARY_FEATURES}
    assert {"rr", "hrv", "ectopy", "win", "int", "tpl", "corr", "aa", "sq", "duration"} == families


@pytest.mark.parametrize("seed", [0, 1])
def test_each_family_sees_its_rhythm(seed):
    sinus = _summary(seed)
    af = _summary(seed, af_episodes=[(0.0, 30.0, 110.0)])
    pvc = _summary(seed, pvc_rate=0.2)
    flutter = _summary(seed, flutter_episodes=[(0.0, 30.0, 75.0)])
    noisy = _summary(seed, noise_mv=1.0)
    # AF: irregular in every window, no P waves found
    assert af["win_irr_max"] > 3 * sinus["win_irr_max"]
    assert sinus["int_p_share"] > 0.9 and af["int_p_share"] < 0.2
    # PVCs: premature deviant beats, and the worst beats correlate poorly with the median beat
    assert pvc["ectopy_PrematureDeviantShare"] > 0 == sinus["ectopy_PrematureDeviantShare"]
    assert pvc["corr_p10"] < sinus["corr_p10"] - 0.3
    # flutter: regular, but the residual after QRST cancellation carries the flutter waves
    assert flutter["win_irr_max"] < 0.05 and flutter["aa_rms"] > 1.5 * sinus["aa_rms"]
    # noise: the quality score falls
    assert sinus["sq_score_mean"] > 0.9 and noisy["sq_score_mean"] < 0.5
    assert sinus["duration_s"] == pytest.approx(30.0)


def test_the_same_heart_at_another_rate_gives_the_same_rhythm_values():
    a, b = _summary(2, fs=250.0), _summary(2, fs=500.0)
    for name in ("rr_mean_rr", "hrv_MeanHR", "win_hr_min", "int_p_share"):
        assert a[name] == pytest.approx(b[name], rel=0.02), name
    assert a["int_qrs"] == pytest.approx(b["int_qrs"], abs=12.0)
    assert a["tpl_qrs_mv"] == pytest.approx(b["tpl_qrs_mv"], rel=0.1)


def test_given_rpeaks_are_used_and_unmeasurable_values_are_nan():
    from ecgscope.synthesis.simulator import simulate

    rec = simulate(duration=20.0, fs=250.0, leads=("II",), seed=4)
    atr = rec.annotations["atr"]
    r = atr.sample[atr.symbol == "N"]
    found, given = rhythm_summary(rec.signal, 250.0), rhythm_summary(rec.signal, 250.0, r)
    i = SUMMARY_FEATURES.index("hrv_MeanHR")
    assert given[i] == pytest.approx(found[i], rel=0.02)
    fewer = rhythm_summary(rec.signal, 250.0, r[::2])  # half the beats given: half the rate
    assert fewer[i] == pytest.approx(found[i] / 2, rel=0.1)
    flat = rhythm_summary(np.zeros(2500), 250.0, rpeaks=[])
    names = np.array(SUMMARY_FEATURES)
    nan = dict(zip(names, np.isnan(flat)))
    assert nan["rr_mean_rr"] and nan["hrv_MeanHR"] and nan["tpl_qrs_mv"] and nan["aa_rms"] and nan["int_qrs"]
    assert not nan["duration_s"] and not nan["sq_score_mean"]


def test_short_or_unmeasurable_spans_give_nan_not_errors(monkeypatch):
    import ecgscope.features.rhythm_summary as mod
    from ecgscope.errors import SignalError

    short = rhythm_summary(np.ones(100), 250.0)
    assert short[-1] == pytest.approx(0.4) and np.isnan(short[:-1]).all()

    def refuse(*args, **kwargs):
        raise SignalError("every interval is an artefact")

    monkeypatch.setattr(mod, "hrv_vector", refuse)
    from ecgscope.synthesis.simulator import simulate

    values = dict(zip(SUMMARY_FEATURES, rhythm_summary(simulate(duration=20.0, fs=250.0, seed=1).signal, 250.0)))
    assert np.isnan(values["hrv_MeanHR"]) and np.isfinite(values["rr_mean_rr"]) and np.isfinite(values["int_qrs"])


def _record_with_noise_burst():
    from ecgscope.synthesis.simulator import simulate

    rec = simulate(duration=90.0, fs=250.0, leads=("II",), af_episodes=[(60.0, 90.0, 110.0)], seed=5)
    x = rec.signal[0].copy()
    x[7500:10000] += np.random.default_rng(0).normal(0.0, 1.0, 2500)  # 30-40 s unreadable
    return x


def test_spans_of_a_record_share_its_delineation_and_quality_but_not_their_rhythm():
    from ecgscope.features.rhythm_summary import record_parts, rhythm_summaries, span_summaries
    from ecgscope.signal import find_rpeaks

    x, fs = _record_with_noise_burst(), 250.0
    r = find_rpeaks(x, fs)
    spans = np.array([[0, 2500], [7500, 10000], [15000, 17500], [17500, 22500], [0, x.size]])
    rows = rhythm_summaries(x, fs, spans, r, block_s=10.0)
    assert rows.shape == (5, len(SUMMARY_FEATURES)) and rows.dtype == np.float32
    v = [dict(zip(SUMMARY_FEATURES, row)) for row in rows]
    # the whole record as one span, P waves judged over all its beats, is rhythm_summary
    np.testing.assert_array_equal(rhythm_summaries(x, fs, None, r)[0], rhythm_summary(x, fs, r))
    # values of the R peaks alone equal those of the span cut out on its own
    for (lo, hi), row in zip(spans[:4], rows[:4]):
        alone = dict(zip(SUMMARY_FEATURES, rhythm_summary(x[lo:hi], fs, r[(r >= lo) & (r < hi)] - lo)))
        got = dict(zip(SUMMARY_FEATURES, row))
        for name in ("rr_mean_rr", "hrv_RMSSD", "win_irr_max", "rr_max_s", "duration_s"):
            assert got[name] == pytest.approx(alone[name], nan_ok=True), name
    # quality: the noisy 30-40 s span scores low, the clean ones high; AF (60-90 s) has no P waves
    assert v[0]["sq_score_mean"] > 0.9 and v[1]["sq_score_mean"] < 0.5
    assert v[0]["int_p_share"] > 0.9 and v[2]["int_p_share"] < 0.3
    assert v[3]["win_irr_max"] > 3 * v[0]["win_irr_max"]
    # a span's summary only reads the record inside it: a crop gives the same rows
    parts = record_parts(x, fs, r, block_s=10.0)
    np.testing.assert_array_equal(span_summaries(parts.crop(7000, 23000), spans[1:4] - 7000), rows[1:4])


def test_quality_windows_on_another_grid_are_read_by_their_centres():
    from ecgscope.features.rhythm_summary import record_parts

    parts = record_parts(_record_with_noise_burst(), 250.0, quality_step_s=5.0)
    assert parts.centre.size == 17  # 10-s windows every 5 s over 90 s
    inside = parts.quality(7500, 10000)  # windows centred at 30 and 35 s
    assert inside[0] == pytest.approx(parts.score[[5, 6]].mean())
    nearest = parts.quality(0, 500)  # a 2-s span: the window nearest its centre (centred at 5 s)
    assert nearest[0] == pytest.approx(parts.score[0])


def test_long_records_score_quality_an_hour_at_a_time_on_the_same_window_grid(monkeypatch):
    import ecgscope.features.rhythm_summary as mod

    x = _record_with_noise_burst()
    whole = mod.record_parts(x, 250.0)
    monkeypatch.setattr(mod, "_QUALITY_CHUNK_S", 20.0)  # 90 s in pieces of 20, 20, 20 and the last 30 s
    pieces = mod.record_parts(x, 250.0)
    np.testing.assert_array_equal(pieces.centre, whole.centre)
    assert int(np.argmin(pieces.score)) == int(np.argmin(whole.score)) == 3  # the noisy 30-40 s window
    assert np.abs(pieces.score - whole.score).max() < 0.2


def test_an_executor_gives_the_same_parts(monkeypatch):
    from concurrent.futures import ThreadPoolExecutor

    import ecgscope.features.rhythm_summary as mod

    x = _record_with_noise_burst()
    monkeypatch.setattr(mod, "_QUALITY_CHUNK_S", 20.0)  # four quality pieces to share out
    serial = mod.record_parts(x, 250.0, block_s=10.0, quality_step_s=5.0)
    with ThreadPoolExecutor(2) as pool:
        shared = mod.record_parts(x, 250.0, block_s=10.0, quality_step_s=5.0, executor=pool)
    for name in ("xb", "r", "centre", "score", "metrics"):
        np.testing.assert_array_equal(getattr(shared, name), getattr(serial, name))
    assert serial.beats is not None and set(shared.beats) == set(serial.beats)
    for k, v in serial.beats.items():
        np.testing.assert_array_equal(shared.beats[k], v)
