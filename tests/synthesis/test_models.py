"""The building blocks: tachogram spectrum, lead projection, morphology, rendering."""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

from ecgscope.synthesis import lead_matrix
from ecgscope.synthesis.morphology import FIDUCIAL_K, KIND_A, KIND_N, KIND_NP, KIND_V, beat_waves, make_patient
from ecgscope.synthesis.render import VCGRenderer
from ecgscope.synthesis.tachogram import rr_tachogram


def test_tachogram_has_ecgsyn_lf_and_hf_peaks():
    rng = np.random.default_rng(0)
    tacho = rr_tachogram(4000, 0.8, 0.05, 0.27, rng)
    t = np.arange(0, 4000, 0.5)
    rr = tacho(t)
    assert abs(rr.mean() - 0.8) < 0.01
    assert abs(rr.std() / rr.mean() - 0.05) < 0.01
    f, p = welch(rr - rr.mean(), 2.0, nperseg=2048)
    lf = p[(f > 0.07) & (f < 0.13)].sum()
    hf = p[(f > 0.24) & (f < 0.30)].sum()
    assert 0.3 < lf / hf < 0.8  # ECGSYN's LF/HF = 0.5
    assert (lf + hf) / p.sum() > 0.8
    flat = rr_tachogram(100, 0.8, 0.0, 0.25, rng)
    assert np.all(flat(t[:100]) == 0.8)


def test_lead_matrix_follows_einthoven_and_goldberger():
    m = lead_matrix(["I", "II", "III", "aVR", "aVL", "aVF"])
    np.testing.assert_allclose(m[2], m[1] - m[0])
    np.testing.assert_allclose(m[3], -(m[0] + m[1]) / 2)
    np.testing.assert_allclose(m[4], m[0] - m[1] / 2)
    np.testing.assert_allclose(m[5], m[1] - m[0] / 2)


def test_beat_kinds_get_their_morphology():
    rng = np.random.default_rng(1)
    patient = make_patient(rng)
    kinds = np.array([KIND_N, KIND_V, KIND_A, KIND_NP])
    r_time = np.array([1.0, 2.0, 3.0, 4.0])
    waves = beat_waves(patient, r_time, kinds, np.full(4, 0.9), np.zeros(4, np.int64), rng)
    p_mag = np.linalg.norm(waves.amp[:, 0], axis=1)
    assert p_mag[0] > 0.05 and p_mag[2] > 0.05  # sinus and ectopic P
    assert p_mag[1] == 0 and p_mag[3] == 0  # no P in PVCs and AF beats
    assert not np.allclose(waves.amp[0, 0] / p_mag[0], waves.amp[2, 0] / p_mag[2], atol=0.1)
    k = FIDUCIAL_K  # wide ventricular QRS: Q onset to S offset
    qrs = (waves.center[:, 3] + k * waves.sigma_right[:, 3]) - (waves.center[:, 1] - k * waves.sigma_left[:, 1])
    assert qrs[1] >= 0.12 and qrs[1] > 1.4 * qrs[0] and qrs[0] < 0.11
    # Discordant T: the PVC's T opposes its main QRS deflection.
    assert np.dot(waves.amp[1, 4], waves.amp[1, 2]) < 0
    np.testing.assert_allclose(waves.center[:, 2], r_time)  # R sits on the beat time


def test_renderer_matches_the_closed_form_gaussians():
    rng = np.random.default_rng(2)
    patient = make_patient(rng)
    fs = 500.0
    r_time = np.array([0.6, 1.5])
    kinds = np.array([KIND_N, KIND_N])
    waves = beat_waves(patient, r_time, kinds, np.full(2, 0.9), np.zeros(2, np.int64), rng)
    vcg = VCGRenderer(waves, fs).render(0, int(2.5 * fs))
    t = np.arange(vcg.shape[1]) / fs
    expected = np.zeros_like(vcg)
    for k in range(2):
        for w in range(5):
            d = t - waves.center[k, w]
            s = np.where(d < 0, waves.sigma_left[k, w], waves.sigma_right[k, w])
            expected += waves.amp[k, w][:, None] * np.exp(-0.5 * (d / s) ** 2)
    np.testing.assert_allclose(vcg, expected, atol=1e-4)
    # Any window gives the same samples.
    part = VCGRenderer(waves, fs).render(300, 700)
    np.testing.assert_allclose(part, vcg[:, 300:700], atol=1e-12)
