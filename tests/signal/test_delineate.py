"""Wave delineation and intervals: synthetic beats, the simulator's truth, LUDB records."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecgscope.errors import SignalError
from ecgscope.signal import delineate, intervals
from ecgscope.signal.delineation import POINTS, Delineation, qtc

TRUTH_KEYS = {"p_onset": "p_on", "p_peak": "p_peak", "p_offset": "p_off", "qrs_onset": "qrs_on",
              "qrs_offset": "qrs_off", "t_onset": "t_on", "t_peak": "t_peak", "t_offset": "t_off"}


def _gauss(t, centre, width, amp):
    return amp * np.exp(-0.5 * ((t - centre) / width) ** 2)


def _synthetic(fs=500.0, rr=0.9, n_beats=12, t_amp=0.3):
    """Gaussian-wave beats with known peaks: P at -180 ms, R at 0, T at +280 ms."""
    n = int((n_beats + 1) * rr * fs)
    t = np.arange(n) / fs
    r = (np.arange(n_beats) + 0.7) * rr
    x = np.zeros(n)
    for c in r:
        x += _gauss(t, c - 0.18, 0.022, 0.15)          # P
        x += _gauss(t, c - 0.025, 0.008, -0.15)        # Q
        x += _gauss(t, c, 0.010, 1.2)                  # R
        x += _gauss(t, c + 0.028, 0.009, -0.3)         # S
        x += _gauss(t, c + 0.28, 0.045, t_amp)         # T
    return x.astype(np.float32), np.rint(r * fs).astype(np.int64), fs


def test_synthetic_beat_fiducials():
    x, r, fs = _synthetic()
    d = delineate(x, fs, r)
    assert isinstance(d, Delineation) and d["p_peak"].shape == (r.size, 1)
    inner = slice(1, -1)
    ms = lambda v: v[inner, 0] * 1000.0 / fs  # noqa: E731
    rr = r[inner] * 1000.0 / fs
    assert np.all(np.abs(ms(d["p_peak"]) - (rr - 180)) <= 8)
    assert np.all(np.abs(ms(d["t_peak"]) - (rr + 280)) <= 8)
    # boundaries: Gaussians reach ~10 % of their peak at ±2.1 SD
    assert np.all(np.abs(ms(d["p_onset"]) - (rr - 180 - 2.1 * 22)) <= 25)
    assert np.all(np.abs(ms(d["p_offset"]) - (rr - 180 + 2.1 * 22)) <= 25)
    assert np.all(np.abs(ms(d["qrs_onset"]) - (rr - 25 - 2.1 * 8)) <= 20)
    assert np.all(np.abs(ms(d["qrs_offset"]) - (rr + 28 + 2.1 * 9)) <= 20)
    assert np.all(np.abs(ms(d["t_offset"]) - (rr + 280 + 2.1 * 45)) <= 40)


def test_inverted_t_wave_is_found():
    x, r, fs = _synthetic(t_amp=-0.3)
    d = delineate(x, fs, r)
    assert np.all(np.abs((d["t_peak"][1:-1, 0] - r[1:-1]) * 1000 / fs - 280) <= 8)


@pytest.fixture(scope="module")
def simulated():
    from ecgscope.synthesis import simulate, truth_fiducials

    rec = simulate(duration=30, fs=500, leads=["II", "V1", "V5"], seed=11)
    return rec, truth_fiducials(rec)


def test_simulator_truth(simulated):
    rec, truth = simulated
    d = delineate(rec.signal, rec.fs, truth["r_peak"], leads=rec.leads)
    for name, key in TRUTH_KEYS.items():
        for lead in (0, 2):  # II and V5 carry every wave clearly
            det, ref = d[name][:, lead], truth[key]
            both = (det >= 0) & (ref >= 0)
            assert both.sum() >= 0.9 * (ref >= 0).sum(), name
            err = np.abs(det[both] - ref[both]) * 1000 / rec.fs
            assert np.median(err) <= 20 and err.max() <= 60, (name, np.median(err), err.max())


def test_no_p_waves_in_atrial_fibrillation():
    from ecgscope.synthesis import simulate, truth_fiducials

    rec = simulate(duration=30, fs=500, leads=["II", "V1", "V5"], af_episodes=[(0, 30)], seed=5)
    d = delineate(rec.signal, rec.fs, truth_fiducials(rec)["r_peak"])
    assert (d["p_peak"] >= 0).mean() < 0.1
    assert (d["qrs_onset"] >= 0).mean() > 0.95 and (d["t_offset"] >= 0).mean() > 0.9


def test_points_are_ordered_within_beats(simulated):
    rec, truth = simulated
    d = delineate(rec.signal, rec.fs, truth["r_peak"])
    order = [d[k].astype(float) for k in POINTS]
    for a, b in zip(order[:-1], order[1:]):
        ok = (a >= 0) & (b >= 0)
        assert np.all(a[ok] <= b[ok])
    found = d["qrs_onset"] >= 0
    assert np.all(d["qrs_onset"][found] <= np.repeat(d.rpeaks[:, None], 3, 1)[found])


def test_template_method_and_auto_rpeaks(simulated):
    rec, truth = simulated
    auto = delineate(rec.signal, rec.fs, leads=rec.leads)  # R peaks from find_rpeaks
    assert abs(auto.n_beats - truth["r_peak"].size) <= 1
    tmpl = delineate(rec.signal, rec.fs, truth["r_peak"], method="template")
    qrs = (tmpl["qrs_offset"] - tmpl["qrs_onset"])[:, 0]
    assert np.ptp(qrs[qrs > 0]) == 0  # the same offsets on every beat
    frame = auto.to_frame()
    assert len(frame) == auto.n_beats * 3 and set(POINTS) <= set(frame.columns)
    assert set(frame["lead"]) == {"II", "V1", "V5"}


def test_intervals_against_truth(simulated):
    rec, truth = simulated
    res = intervals(rec.signal, rec.fs, truth["r_peak"])
    ms = 1000.0 / rec.fs
    true_pr = np.median((truth["qrs_on"] - truth["p_on"])[truth["p_on"] >= 0]) * ms
    true_qrs = np.median(truth["qrs_off"] - truth["qrs_on"]) * ms
    true_qt = np.median(truth["t_off"] - truth["qrs_on"]) * ms
    s = res.summary
    assert s["PR"] == pytest.approx(true_pr, abs=25)
    assert s["QRS"] == pytest.approx(true_qrs, abs=25)
    assert s["QT"] == pytest.approx(true_qt, abs=30)
    assert s["QTc_Bazett"] == pytest.approx(s["QT"] / np.sqrt(s["RR"] / 1000), rel=1e-9)
    assert len(res.beats) == truth["r_peak"].size
    assert {"PR", "QRS", "QT", "QTc_Bazett", "QTc_Fridericia", "RR"} <= set(res.beats.columns)
    assert np.isnan(res.beats["RR"][0])
    js = res.to_dict()
    assert js["summary"]["QT"] == pytest.approx(s["QT"]) and js["beats"]["RR"][0] is None


def test_qtc_formulas():
    assert qtc(400.0, 1000.0, "bazett") == pytest.approx(400.0)
    assert qtc(400.0, 640.0, "bazett") == pytest.approx(500.0)
    assert qtc(400.0, 729.0, "fridericia") == pytest.approx(400.0 / 0.9)
    assert np.allclose(qtc([400.0, 360.0], [1000.0, 810.0], "bazett"), [400.0, 400.0])
    with pytest.raises(SignalError):
        qtc(400.0, 1000.0, "hodges")


def test_bad_input():
    x, r, fs = _synthetic(n_beats=4)
    with pytest.raises(SignalError):
        delineate(x, fs, r, method="dwt")
    y = x.copy()
    y[100] = np.nan
    with pytest.raises(SignalError):
        delineate(y, fs, r)
    d = delineate(x, fs, [])
    assert d.n_beats == 0 and d["t_peak"].shape == (0, 1)
    edge = delineate(x, fs, [3, r[1], x.size - 2])  # beats at the very edges do not crash
    assert edge["qrs_onset"].shape == (3, 1)


@settings(max_examples=8, deadline=None)
@given(st.sampled_from([250.0, 360.0, 500.0, 1000.0]), st.floats(0.6, 1.3))
def test_any_sampling_rate_and_rate(fs, rr):
    x, r, fs = _synthetic(fs=fs, rr=rr, n_beats=8)
    d = delineate(x, fs, r)
    err = np.abs((d["t_peak"][1:-1, 0] - r[1:-1]) * 1000 / fs - 280)
    assert np.all(err <= 10)
    err = np.abs((d["p_peak"][1:-1, 0] - r[1:-1]) * 1000 / fs + 180)
    assert np.all(err <= 10)


@pytest.mark.data
@pytest.mark.parametrize("rid", ["1", "9", "12"])
def test_ludb_records(shared, rid):
    from ecgscope.evaluation.delineation import ludb_reference, score_delineation, summarize_delineation
    from ecgscope.io import read

    rec = read(shared("ludb", "data", rid))
    d = delineate(rec.signal, rec.fs, leads=rec.leads)
    scores = [score_delineation(d.lead(i), ludb_reference(rec.annotations[lead.lower()]), rec.fs)
              for i, lead in enumerate(rec.leads)]
    s = summarize_delineation(scores).set_index("point")
    for point in ("qrs_onset", "qrs_offset", "t_peak", "t_offset"):
        assert s.loc[point, "se"] >= 85 and s.loc[point, "ppv"] >= 85, point
        assert abs(s.loc[point, "mean_ms"]) <= 25 and s.loc[point, "sd_ms"] <= 40, point
    assert s.loc["p_peak", "se"] >= 60 and abs(s.loc["p_peak", "mean_ms"]) <= 25


@pytest.mark.parametrize("leads", [1, 2, 3, 12])
def test_lead_combination_is_nanquantile_over_present_leads(leads):
    import warnings

    from ecgscope.signal.delineation import _combine_leads

    rng = np.random.default_rng(leads)
    points = rng.integers(-1, 5000, (400, leads))
    points[rng.random(points.shape) < 0.4] = -1  # absent in that lead
    present = np.where(points >= 0, points.astype(float), np.nan)
    for q in (0.25, 0.5, 0.75):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # rows where no lead has the point
            expected = np.nanquantile(present, q, axis=1)
        np.testing.assert_array_equal(_combine_leads(points, q), expected)


def test_time_blocks_keep_the_p_waves_of_sinus_stretches_in_a_record_of_mostly_af():
    from ecgscope.signal import find_rpeaks
    from ecgscope.signal.delineation import beat_intervals
    from ecgscope.synthesis.simulator import simulate

    rec = simulate(duration=90.0, fs=250.0, leads=("II",), af_episodes=[(30.0, 90.0, 110.0)], seed=5)
    x, r = rec.signal[0], find_rpeaks(rec.signal[0], 250.0)
    sinus = r < 30 * 250
    whole = np.isfinite(beat_intervals(delineate(x, 250.0, r))["PR"])
    blocks = np.isfinite(beat_intervals(delineate(x, 250.0, r, block_s=10.0))["PR"])
    assert whole[sinus].mean() < 0.2  # two thirds of the beats are AF: P waves judged absent everywhere
    assert blocks[sinus].mean() > 0.9 and blocks[~sinus].mean() < 0.3
    with pytest.raises(SignalError, match="block_s"):
        delineate(x, 250.0, r, block_s=0.0)


@pytest.mark.parametrize("block_s", [10.0, 7.0, None])
def test_an_executor_gives_the_same_points(block_s):
    from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

    from ecgscope.synthesis.simulator import simulate

    rec = simulate(duration=120.0, fs=360.0, leads=("II", "V1"), af_episodes=[(40.0, 80.0)], seed=9)
    serial = delineate(rec.signal, 360.0, block_s=block_s)
    with ThreadPoolExecutor(2) as pool:
        threaded = delineate(rec.signal, 360.0, block_s=block_s, executor=pool)
    for k in POINTS:
        np.testing.assert_array_equal(threaded.points[k], serial.points[k])
    if block_s == 10.0:  # processes: every job pickled, as analyse() spawns them
        import multiprocessing

        with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
            spawned = delineate(rec.signal, 360.0, block_s=block_s, executor=pool)
        for k in POINTS:
            np.testing.assert_array_equal(spawned.points[k], serial.points[k])
