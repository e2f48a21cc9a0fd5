"""simulate(): record shape, determinism, annotations on the R peaks, rates, leads, sampling rates."""

from __future__ import annotations

import numpy as np
import pytest

from ecgscope.errors import ECGScopeError
from ecgscope.record import STANDARD_LEADS, Record
from ecgscope.synthesis import SimulationParameterError, simulate, truth_fiducials


def beats(record: Record, symbol: str | None = None) -> np.ndarray:
    atr = record.annotations["atr"]
    keep = atr.symbol != "+" if symbol is None else atr.symbol == symbol
    return atr.sample[keep]


def test_record_shape_dtype_and_metadata():
    rec = simulate(duration=12.5, fs=250.0, seed=7)
    assert isinstance(rec, Record)
    assert rec.signal.dtype == np.float32
    assert rec.signal.shape == (2, round(12.5 * 250))
    assert rec.fs == 250.0
    assert rec.leads == ["II", "V1"]
    assert np.isfinite(rec.signal).all()
    assert rec.metadata.record_id == "sim-7"
    extra = rec.metadata.extra
    assert extra["parameters"]["seed"] == 7 and extra["parameters"]["heart_rate"] == 70.0
    assert extra["episodes"] == [[0.0, 12.5, "N"]]
    atr = rec.annotations["atr"]
    assert atr.sample.dtype == np.int64
    assert np.all(np.diff(atr.sample) >= 0)
    assert atr.sample.min() >= 0 and atr.sample.max() < rec.n_samples
    assert atr.symbol[0] == "+" and atr.aux[0] == "(N"


def test_same_seed_same_record_other_seed_differs():
    kw = dict(duration=40, pvc_rate=0.1, apc_rate=0.1, af_episodes=[(20, 35)], noise=12)
    a, b = simulate(seed=3, **kw), simulate(seed=3, **kw)
    assert np.array_equal(a.signal, b.signal)
    assert a.annotations["atr"] == b.annotations["atr"]
    assert a.annotations["truth"] == b.annotations["truth"]
    assert a.metadata.to_dict() == b.metadata.to_dict()
    c = simulate(seed=4, **kw)
    assert not np.array_equal(a.signal, c.signal)
    assert not np.array_equal(beats(a), beats(c))


def test_noise_does_not_change_the_clean_ecg_or_the_beats():
    clean = simulate(duration=20, seed=5)
    noisy = simulate(duration=20, seed=5, noise=10)
    assert clean.annotations["atr"] == noisy.annotations["atr"]
    assert not np.allclose(clean.signal, noisy.signal)


def test_n_annotations_sit_on_the_lead_ii_r_peak():
    rec = simulate(duration=60, heart_rate=75, seed=11)
    ii = rec.lead("II")
    half = int(0.05 * rec.fs)
    tol = int(np.ceil(0.004 * rec.fs))  # 4 ms
    for s in beats(rec, "N")[1:-1]:
        local = int(np.argmax(ii[s - half:s + half + 1])) - half
        assert abs(local) <= tol


@pytest.mark.parametrize("hr", [40.0, 72.0, 130.0, 190.0])
def test_mean_heart_rate_matches_request(hr):
    rec = simulate(duration=90, heart_rate=hr, hrv=0.06, seed=int(hr))
    rr = np.diff(beats(rec)) / rec.fs
    assert abs(60.0 / rr.mean() - hr) / hr < 0.03


def test_hrv_zero_is_a_metronome_and_hrv_sets_the_rr_spread():
    flat = np.diff(beats(simulate(duration=60, hrv=0.0, seed=2))) / 360.0
    assert flat.std() < 1.5 / 360.0  # only rounding to samples
    varied = np.diff(beats(simulate(duration=300, hrv=0.08, seed=2))) / 360.0
    assert 0.04 < varied.std() / varied.mean() < 0.12


def test_single_and_twelve_leads_are_consistent():
    one = simulate(duration=10, leads="MLII", seed=1)
    assert one.leads == ["II"] and one.signal.shape[0] == 1
    twelve = simulate(duration=10, n_leads=12, seed=1)
    assert twelve.leads == list(STANDARD_LEADS)
    sig = {name: twelve.lead(name).astype(np.float64) for name in twelve.leads}
    np.testing.assert_allclose(sig["III"], sig["II"] - sig["I"], atol=1e-5)
    np.testing.assert_allclose(sig["aVR"] + sig["aVL"] + sig["aVF"], 0.0, atol=1e-5)
    # The same lead is identical whichever set it comes with.
    np.testing.assert_allclose(one.lead("II"), twelve.lead("II"), atol=1e-6)


def test_n_leads_picks_the_usual_leads():
    assert simulate(duration=5, n_leads=1).leads == ["II"]
    assert simulate(duration=5, n_leads=2).leads == ["II", "V1"]
    assert simulate(duration=5, n_leads=3).leads == ["II", "V1", "V5"]


@pytest.mark.parametrize("fs", [100.0, 128.0, 2000.0])
def test_any_sampling_rate_gives_the_same_beats(fs):
    ref = simulate(duration=20, fs=360.0, seed=9)
    rec = simulate(duration=20, fs=fs, seed=9)
    assert rec.signal.shape == (2, round(20 * fs))
    t_ref, t = beats(ref) / ref.fs, beats(rec) / fs
    assert t.size == t_ref.size
    assert np.max(np.abs(t - t_ref)) <= 0.5 / fs + 0.5 / 360.0 + 1e-9  # both rounded to samples
    # The R wave keeps its amplitude (within sampling of a ~10 ms wide peak).
    peak = rec.lead("II")[beats(rec)].mean()
    assert 0.6 * ref.lead("II")[beats(ref)].mean() < peak < 1.1 * ref.lead("II")[beats(ref)].mean()


def test_amplitude_scales_the_clean_signal():
    a = simulate(duration=10, seed=1)
    b = simulate(duration=10, seed=1, amplitude=2.0)
    np.testing.assert_allclose(b.signal, 2 * a.signal, rtol=1e-5, atol=1e-6)


def test_rendering_does_not_depend_on_the_chunk_size(monkeypatch):
    import ecgscope.synthesis.simulator as simulator

    ref = simulate(duration=30, pvc_rate=0.1, af_episodes=[(10, 20)], seed=4)
    monkeypatch.setattr(simulator, "CHUNK_SAMPLES", 997)
    small = simulate(duration=30, pvc_rate=0.1, af_episodes=[(10, 20)], seed=4)
    np.testing.assert_allclose(small.signal, ref.signal, atol=1e-6)


def test_waves_are_physiological_in_lead_ii():
    for seed in range(4):
        rec = simulate(duration=30, heart_rate=70, hrv=0.02, seed=seed)
        fid = truth_fiducials(rec)
        ii = rec.lead("II")
        ok = (fid["symbol"] == "N") & (fid["p_on"] >= 0) & (fid["t_off"] >= 0)
        p = np.median(ii[fid["p_peak"][ok]])
        r = np.median(ii[fid["r_peak"][ok]])
        t = np.median(ii[fid["t_peak"][ok]])
        assert 0.08 <= p <= 0.3, p
        assert 0.6 <= r <= 1.6, r
        assert 0.12 <= t <= 0.5, t
        ms = 1000 / rec.fs
        pr = np.median(fid["qrs_on"][ok] - fid["p_on"][ok]) * ms
        qrs = np.median(fid["qrs_off"][ok] - fid["qrs_on"][ok]) * ms
        qt = np.median(fid["t_off"][ok] - fid["qrs_on"][ok]) * ms
        assert 120 <= pr <= 200, pr
        assert 75 <= qrs <= 110, qrs
        qtc = qt / (60 / 70) ** (1 / 3)  # Fridericia
        assert 350 <= qtc <= 450, qtc


def test_qt_shortens_with_rate():
    def qt(hr):
        rec = simulate(duration=20, heart_rate=hr, hrv=0.0, seed=1)
        fid = truth_fiducials(rec)
        ok = fid["t_off"] >= 0
        return np.median(fid["t_off"][ok] - fid["qrs_on"][ok]) / rec.fs

    slow, fast = qt(50), qt(120)
    assert fast < slow
    assert 0.8 * (50 / 120) ** (1 / 3) < fast / slow < 1.2 * (50 / 120) ** (1 / 3)


@pytest.mark.parametrize("kwargs, name", [
    (dict(duration=0), "duration"),
    (dict(duration=float("nan")), "duration"),
    (dict(fs=50), "fs"),
    (dict(fs=20000), "fs"),
    (dict(heart_rate=400), "heart_rate"),
    (dict(heart_rate="fast"), "heart_rate"),
    (dict(hrv=-0.1), "hrv"),
    (dict(pvc_rate=0.9), "pvc_rate"),
    (dict(apc_rate=-1), "apc_rate"),
    (dict(couplets=1.5), "couplets"),
    (dict(couplets=-1), "couplets"),
    (dict(leads=("II", "V7")), "leads"),
    (dict(leads=("II", "II")), "leads"),
    (dict(leads=()), "leads"),
    (dict(n_leads=13), "n_leads"),
    (dict(leads=("II",), n_leads=2), "leads"),
    (dict(af_episodes=[(50, 70)]), "af_episodes"),
    (dict(af_episodes=[(30, 20)]), "af_episodes"),
    (dict(af_episodes=[(10, 11)]), "af_episodes"),
    (dict(af_episodes=[(10, 30, 500)]), "af_episodes"),
    (dict(bigeminy=[(10, 30, 80)]), "bigeminy"),
    (dict(af_episodes=[(10, 30)], bigeminy=[(20, 40)]), "episodes"),
    (dict(couplets=50), "couplets"),
    (dict(noise=100), "noise"),
    (dict(noise={"snr": 10}), "noise"),
    (dict(noise={"baseline": 0, "muscle": 0, "powerline": 0, "motion": 0}), "noise"),
    (dict(noise={"mains_hz": 55}), "noise"),
    (dict(noise="loud"), "noise"),
    (dict(amplitude=0), "amplitude"),
    (dict(respiration_rate=100), "respiration_rate"),
    (dict(seed=-1), "seed"),
    (dict(seed=1.5), "seed"),
])
def test_bad_arguments_raise_clear_errors(kwargs, name):
    args = dict(duration=60)
    args.update(kwargs)
    with pytest.raises(SimulationParameterError) as info:
        simulate(**args)
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, ECGScopeError)
    assert name in str(err) and "Fix:" in str(err)
