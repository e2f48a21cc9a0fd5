"""Ectopic beats and rhythms: PVCs, APCs, couplets, bigeminy, AF, flutter, rhythm annotations."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from ecgscope.synthesis import simulate, simulate_demo, truth_fiducials


def beat_table(rec):
    atr = rec.annotations["atr"]
    keep = atr.symbol != "+"
    return atr.sample[keep], atr.symbol[keep]


def qrs_width_ms(signal: np.ndarray, fs: float, r: int) -> float:
    """Time the beat's |deviation from its pre-QRS level| stays above 20 % of its peak, around r."""
    lo, hi = r - int(0.15 * fs), r + int(0.2 * fs)
    seg = signal[lo:hi] - signal[lo:lo + int(0.03 * fs)].mean()
    mag = np.abs(seg)
    above = mag > 0.2 * mag[int(0.15 * fs) - int(0.06 * fs):int(0.15 * fs) + int(0.06 * fs)].max()
    centre = int(0.15 * fs)
    left = centre
    while left > 0 and above[left - 1]:
        left -= 1
    right = centre
    while right < above.size - 1 and above[right + 1]:
        right += 1
    return (right - left) / fs * 1000


@pytest.fixture(scope="module")
def ectopic():
    return simulate(duration=240, heart_rate=55, hrv=0.02, pvc_rate=0.08, apc_rate=0.08, seed=21)


def test_pvcs_and_apcs_are_present_at_the_requested_rate(ectopic):
    _, sym = beat_table(ectopic)
    n = sym.size
    assert 0.04 * n < np.sum(sym == "V") < 0.12 * n
    assert 0.04 * n < np.sum(sym == "A") < 0.12 * n
    assert ectopic.metadata.extra["beat_counts"]["V"] == np.sum(sym == "V")


def test_pvcs_have_wider_qrs_than_normal_beats(ectopic):
    samples, sym = beat_table(ectopic)
    ii = ectopic.lead("II").astype(np.float64)
    inner = slice(2, -2)
    wide_n = [qrs_width_ms(ii, ectopic.fs, s) for s in samples[inner][sym[inner] == "N"]]
    wide_v = [qrs_width_ms(ii, ectopic.fs, s) for s in samples[inner][sym[inner] == "V"]]
    assert np.median(wide_v) > 1.8 * np.median(wide_n)
    fid = truth_fiducials(ectopic)
    dur = fid["qrs_off"] - fid["qrs_on"]
    assert np.min(dur[fid["symbol"] == "V"]) > np.max(dur[fid["symbol"] == "N"])
    assert np.median(dur[fid["symbol"] == "V"]) / ectopic.fs >= 0.12


def test_no_p_wave_before_pvcs(ectopic):
    fid = truth_fiducials(ectopic)
    is_v = fid["symbol"] == "V"
    assert np.all(fid["p_peak"][is_v] == -1)
    assert np.all(fid["p_peak"][~is_v][1:] >= 0)
    # On the signal: the P-wave window before a PVC is flat, before a sinus beat it is not.
    samples, sym = beat_table(ectopic)
    ii = ectopic.lead("II").astype(np.float64)
    fs = ectopic.fs

    def p_window(s):
        return np.ptp(ii[s - int(0.24 * fs):s - int(0.10 * fs)])

    v = [p_window(s) for s, y in zip(samples[2:], sym[2:]) if y == "V"]
    n = [p_window(s) for s, y in zip(samples[2:], sym[2:]) if y == "N"]
    assert np.max(v) < 0.05
    assert np.median(n) > 0.08


def test_pvcs_are_early_with_a_compensatory_pause_apcs_are_not(ectopic):
    samples, sym = beat_table(ectopic)
    t = samples / ectopic.fs
    rr = np.diff(t)
    normal = np.median(rr[(sym[:-1] == "N") & (sym[1:] == "N")])
    inner = np.arange(1, sym.size - 1)
    for label, lo, hi in (("V", 1.9, 2.1), ("A", 1.5, 1.95)):
        idx = inner[(sym[inner] == label) & (sym[inner - 1] == "N") & (sym[inner + 1] == "N")]
        assert idx.size >= 5
        pre, post = t[idx] - t[idx - 1], t[idx + 1] - t[idx]
        assert np.all(pre < 0.85 * normal)  # premature
        ratio = (pre + post) / normal
        assert lo < np.median(ratio) < hi, (label, np.median(ratio))


def test_apcs_have_a_normal_qrs_and_an_abnormal_p(ectopic):
    fid = truth_fiducials(ectopic)
    dur = (fid["qrs_off"] - fid["qrs_on"]) / ectopic.fs
    is_a, is_n = fid["symbol"] == "A", fid["symbol"] == "N"
    assert abs(np.median(dur[is_a]) - np.median(dur[is_n])) < 0.005
    assert np.all(fid["p_peak"][is_a] >= 0)
    # The ectopic P has another shape: compare the mean P-wave waveforms.
    ii, v1 = ectopic.lead("II"), ectopic.lead("V1")
    half = int(0.04 * ectopic.fs)

    def mean_p(mask):
        peaks = fid["p_peak"][mask & (fid["p_peak"] > half)]
        return np.concatenate([np.mean([ii[p - half:p + half] for p in peaks], axis=0),
                               np.mean([v1[p - half:p + half] for p in peaks], axis=0)])

    pn, pa = mean_p(is_n), mean_p(is_a)
    assert np.corrcoef(pn, pa)[0, 1] < 0.9 or np.linalg.norm(pa - pn) > 0.5 * np.linalg.norm(pn)


def test_couplets_and_bigeminy_and_trigeminy():
    rec = simulate(duration=150, couplets=3, bigeminy=[(40, 70)], trigeminy=[(90, 120)], seed=8)
    samples, sym = beat_table(rec)
    t = samples / rec.fs
    text = "".join(sym)
    plain = (t < 38) | ((t > 72) & (t < 88)) | (t > 122)
    assert sum(1 for i in range(1, len(sym)) if plain[i] and sym[i] == "V" and sym[i - 1] == "V") == 3
    assert "VVV" not in text
    big = "".join(sym[(t > 42) & (t < 68)])
    assert "NN" not in big and "VV" not in big and big.count("V") >= 10
    tri = "".join(sym[(t > 92) & (t < 118)])
    assert "VV" not in tri and "NNN" not in tri and tri.count("V") >= 8
    labels = [e[2] for e in rec.metadata.extra["episodes"]]
    assert labels == ["N", "B", "N", "T", "N"]
    atr = rec.annotations["atr"]
    assert list(atr.aux[atr.symbol == "+"]) == ["(N", "(B", "(N", "(T", "(N"]


def test_af_is_irregular_without_p_waves_and_with_f_waves():
    rec = simulate(duration=200, heart_rate=70, hrv=0.05, af_episodes=[(60, 160)], leads=("II", "V1"), seed=5)
    samples, sym = beat_table(rec)
    t = samples / rec.fs
    ep = {label: (a, b) for a, b, label in rec.metadata.extra["episodes"]}
    a, b = ep["AFIB"]
    assert abs(a - 60) < 2.5 and abs(b - 160) < 2.5
    in_af = (t > a + 1) & (t < b - 1)
    in_sinus = t < 58
    rr_af = np.diff(t[in_af])
    rr_sinus = np.diff(t[in_sinus])
    cv = lambda x: x.std() / x.mean()  # noqa: E731
    assert cv(rr_af) > 3 * cv(rr_sinus)
    assert cv(rr_af) > 0.15
    # Irregularly irregular: successive AF intervals are uncorrelated.
    assert abs(np.corrcoef(rr_af[:-1], rr_af[1:])[0, 1]) < 0.35
    fid = truth_fiducials(rec)
    assert np.all(fid["p_peak"][in_af] == -1)
    assert np.all(sym[in_af] == "N")
    # f-waves: a 4-9 Hz spectral peak in V1 during AF, a flat T-P segment in sinus rhythm.
    v1 = rec.lead("V1").astype(np.float64)
    f, p = welch(v1[int((a + 2) * rec.fs):int((b - 2) * rec.fs)], rec.fs, nperseg=int(4 * rec.fs))
    band = (f >= 3) & (f <= 12)
    assert 4 <= f[band][np.argmax(p[band])] <= 9

    def tq_spread(mask):  # peak-to-peak between a T offset and the next P onset (or QRS onset)
        idx = np.flatnonzero(mask)[:-1]
        nxt = np.where(fid["p_on"] >= 0, fid["p_on"], fid["qrs_on"])
        return np.median([np.ptp(v1[fid["t_off"][i] + 5:nxt[i + 1] - 5]) for i in idx
                          if nxt[i + 1] - fid["t_off"][i] > 20 and fid["t_off"][i] > 0])

    assert tq_spread(in_sinus) < 0.01
    assert tq_spread(in_af) > 0.05
    atr = rec.annotations["atr"]
    assert list(atr.aux[atr.symbol == "+"]) == ["(N", "(AFIB", "(N"]


def test_af_ventricular_rate_can_be_set():
    rec = simulate(duration=120, af_episodes=[(10, 110, 130)], seed=2)
    samples, _ = beat_table(rec)
    t = samples / rec.fs
    rr = np.diff(t[(t > 12) & (t < 108)])
    assert abs(60 / rr.mean() - 130) / 130 < 0.1


def test_flutter_conducts_regularly_on_the_flutter_cycle():
    rec = simulate(duration=60, flutter_episodes=[(10, 50)], seed=3)
    samples, _ = beat_table(rec)
    t = samples / rec.fs
    rr = np.diff(t[(t > 11) & (t < 49)])
    freq = rec.metadata.extra["atrial_episodes"][0][3]
    ratio = rr * freq
    assert np.allclose(ratio, np.rint(ratio), atol=0.02)
    assert set(np.rint(ratio).astype(int)) <= {2, 3, 4, 5}
    assert [e[2] for e in rec.metadata.extra["episodes"]] == ["N", "AFL", "N"]


def test_episodes_tile_the_record():
    rec = simulate(duration=100, af_episodes=[(20, 40)], bigeminy=[(60, 80)], seed=1)
    eps = rec.metadata.extra["episodes"]
    assert eps[0][0] == 0.0 and eps[-1][1] == 100.0
    assert all(eps[i][1] == eps[i + 1][0] for i in range(len(eps) - 1))
    assert all(isinstance(e, list) and len(e) == 3 for e in eps)


def test_truth_annotator_is_ludb_style():
    rec = simulate(duration=30, pvc_rate=0.1, seed=6)
    truth = rec.annotations["truth"]
    sym = truth.symbol
    assert np.sum(sym == "(") == np.sum(sym == ")") > 0
    fid = truth_fiducials(rec)
    assert np.sum(sym == "p") == np.sum((fid["p_on"] >= 0) & (fid["p_off"] >= 0) & (fid["p_peak"] >= 0))
    assert np.sum(sym == "t") == np.sum((fid["t_on"] >= 0) & (fid["t_off"] >= 0) & (fid["t_peak"] >= 0))
    # The table is ordered within each beat and R matches atr.
    ok = (fid["p_on"] >= 0) & (fid["t_off"] >= 0)
    order = np.stack([fid[k][ok] for k in ("p_on", "p_peak", "p_off", "qrs_on", "r_peak", "qrs_off",
                                           "t_on", "t_peak", "t_off")])
    assert np.all(np.diff(order, axis=0) > 0)
    samples, beat_sym = beat_table(rec)
    assert np.array_equal(fid["r_peak"], samples) and np.array_equal(fid["symbol"], beat_sym)


def test_demo_record():
    rec = simulate_demo(seed=0)
    assert rec.leads == ["II", "V1"] and 120 <= rec.duration <= 600
    samples, sym = beat_table(rec)
    text = "".join(sym)
    assert {"N", "V", "A"} <= set(text)
    assert "VV" in text  # a couplet
    labels = [e[2] for e in rec.metadata.extra["episodes"]]
    assert "B" in labels and labels.count("AFIB") == 1
    a, b = next((e[0], e[1]) for e in rec.metadata.extra["episodes"] if e[2] == "AFIB")
    assert 45 <= b - a <= 80
    assert rec.metadata.extra["noise"]["snr_db"] == 24.0
    assert np.array_equal(rec.signal, simulate_demo(seed=0).signal)
