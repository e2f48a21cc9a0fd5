"""Beat morphology: P, Q, R, S, T as Gaussians of the cardiac phase in 3-D.

Each beat is the sum of five waves ``i`` in ``P, Q, R, S, T``; every wave is a
Gaussian of the beat's phase with its own centre ``theta_i``, width ``b_i``
and a 3-D amplitude (the cardiac dipole in Frank X, Y, Z, in mV), which is the
vectorcardiographic extension (Sameni, Clifford, Jutten & Shamsollahi 2007,
"Multichannel ECG and noise modeling: application to maternal and fetal ECG
signals", EURASIP J Adv Signal Process 2007:043407) of the ECGSYN model
(McSharry, Clifford, Tarassenko & Smith 2003, "A dynamical model for
generating synthetic electrocardiogram signals", IEEE TBME 50:289).

Widths may differ on the two sides of a centre (a "bi-Gaussian"): the T wave
rises slower than it falls. Templates are written in seconds at RR = 1 s; the
beat's cycle length ``T`` rescales a wave's centre by ``T**OFFSET_EXP`` and
its width by ``T**WIDTH_EXP``. This generalises ECGSYN's ``sqrt(hr/60)``
scaling of the angles and widths; the exponent 1/3 of the T wave makes QT
follow Fridericia's law (QT ~ RR^(1/3)), while PR and QRS barely change with
rate. Phase and time are equivalent: ``theta_i = 2 pi offset_i(T) / T``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "WAVES",
    "KIND_N",
    "KIND_V",
    "KIND_A",
    "KIND_NP",
    "FIDUCIAL_K",
    "Patient",
    "BeatWaves",
    "make_patient",
    "beat_waves",
    "fiducials",
]

WAVES = ("P", "Q", "R", "S", "T")
P, Q, R, S, T = range(5)

#: Beat kinds: sinus (N), ventricular (V), atrial premature (A), conducted without a P wave (AF/flutter).
KIND_N, KIND_V, KIND_A, KIND_NP = 0, 1, 2, 3

#: A wave's onset/offset lies where its Gaussian falls to 10 % of its peak: ``sqrt(2 ln 10)`` widths.
FIDUCIAL_K = float(np.sqrt(2 * np.log(10)))

#: Rate exponents per wave (P, Q, R, S, T) for centres and widths.
OFFSET_EXP = np.array([0.25, 0.1, 0.0, 0.1, 1 / 3])
WIDTH_EXP = np.array([0.1, 0.1, 0.1, 0.1, 1 / 3])


@dataclass(frozen=True)
class _Template:
    offset: tuple  # (5,) s relative to the R peak at RR = 1 s
    sigma_left: tuple  # (5,) s
    sigma_right: tuple  # (5,) s
    amp: tuple  # (5, 3) mV, Frank X Y Z


_NORMAL = _Template(
    offset=(-0.165, -0.027, 0.0, 0.027, 0.27),
    sigma_left=(0.026, 0.009, 0.0105, 0.0095, 0.062),
    sigma_right=(0.022, 0.008, 0.0095, 0.0105, 0.042),
    amp=((0.10, 0.11, -0.02),      # P: left, inferior, slightly anterior
         (-0.10, -0.05, -0.12),    # Q: septal, rightward and anterior
         (1.00, 0.75, 0.70),       # R: left, inferior, posterior
         (-0.20, -0.12, 0.15),     # S: late, rightward-superior-posterior
         (0.35, 0.20, -0.10)),     # T: concordant with the QRS
)

#: Ectopic atrial foci for APCs: P wave vectors (X, Y, Z) in mV.
_APC_P = (
    (0.03, -0.11, -0.02),   # low atrial: inverted P in II, III, aVF
    (-0.06, 0.10, 0.05),    # left atrial: inverted P in I, upright in II
)
_APC_P_OFFSET = -0.145

#: Ventricular foci for PVCs: (initial, main, terminal) QRS vectors in mV.
_PVC_FOCI = (
    ((0.10, 0.25, 0.15), (0.55, 1.35, 0.90), (0.25, 0.30, 0.45)),      # RV outflow: LBBB-like, inferior axis
    ((-0.10, -0.25, -0.10), (0.30, -1.15, -1.00), (-0.30, -0.30, -0.30)),  # LV apex: RBBB-like, superior axis
    ((-0.10, 0.10, -0.15), (-0.75, 0.80, -0.90), (-0.20, 0.30, -0.25)),  # LV base: RBBB-like, inferior axis
)
#: Wide (~150 ms) but not smooth: a steep main deflection between slurred initial and terminal
#: forces, so the QRS slope energy (5-25 Hz) is 0.4-0.9x the sinus beat's, as in MIT-BIH PVCs
#: (median 0.42-1.01 over records 106, 109, 116, 119, 124, 201, 203, 207, 208, 215, 223).
_PVC_TIMING = dict(offset=(0.0, -0.05, 0.0, 0.055, 0.31),
                   sigma_left=(0.02, 0.015, 0.014, 0.018, 0.075),
                   sigma_right=(0.02, 0.013, 0.012, 0.022, 0.055))
_PVC_T_GAIN = -0.35  # T vector = gain * main QRS vector (discordant)


@dataclass
class Patient:
    """Per-record morphology: the template table and slow modulations.

    ``offset``, ``sigma_left``, ``sigma_right``: ``(n_templates, 5)`` seconds at
    RR = 1 s; ``amp``: ``(n_templates, 5, 3)`` mV. Template 0 is the sinus
    beat, 1 the same without P (AF/flutter), 2 the APC, 3.. the PVC foci.
    """

    offset: np.ndarray
    sigma_left: np.ndarray
    sigma_right: np.ndarray
    amp: np.ndarray
    n_pvc_foci: int
    apc_focus: int
    resp_hz: float
    resp_phase: float

    def summary(self) -> dict:
        """JSON-safe description for the record's metadata."""
        return {"pvc_foci": int(self.n_pvc_foci), "apc_focus": ["low atrial", "left atrial"][self.apc_focus],
                "respiration_hz": round(float(self.resp_hz), 4)}


def _rotation(axis: np.ndarray, angle: float) -> np.ndarray:
    """Rodrigues rotation matrix about a unit ``axis`` by ``angle`` radians."""
    a = axis / np.linalg.norm(axis)
    k = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])
    return np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * (k @ k)


def make_patient(rng: np.random.Generator, resp_hz: float | None = None) -> Patient:
    """Draw one simulated patient: axis, amplitudes, intervals, ectopic foci.

    The variation is modest (axis within ~15 degrees, amplitudes and intervals
    within ~15 %) so every patient keeps a physiological sinus beat.
    """
    keys = ("offset", "sigma_left", "sigma_right", "amp")
    normal = {k: np.array(getattr(_NORMAL, k), dtype=np.float64) for k in keys}
    # Intervals: PR, QRS width and QT vary a little between patients.
    pr, qrs, qt = rng.uniform(0.9, 1.1), rng.uniform(0.9, 1.1), rng.uniform(0.95, 1.05)
    normal["offset"][P] *= pr
    normal["sigma_left"][[Q, R, S]] *= qrs
    normal["sigma_right"][[Q, R, S]] *= qrs
    normal["offset"][[Q, S]] *= qrs
    normal["offset"][T] *= qt
    normal["sigma_left"][T] *= qt
    normal["sigma_right"][T] *= qt
    normal["amp"][P] *= rng.uniform(0.8, 1.2)
    normal["amp"][T] *= rng.uniform(0.8, 1.2)

    # APC template: the sinus beat with an ectopic P wave and a shorter PR.
    apc_focus = int(rng.integers(len(_APC_P)))
    apc = {k: v.copy() for k, v in normal.items()}
    apc["offset"][P] = _APC_P_OFFSET * pr
    apc["amp"][P] = np.asarray(_APC_P[apc_focus]) * rng.uniform(0.85, 1.15)

    no_p = {k: v.copy() for k, v in normal.items()}
    no_p["amp"][P] = 0.0

    # PVC foci: one (70 %) or two (multiform) archetypes, each tilted a little.
    n_foci = 1 if rng.random() < 0.7 else 2
    foci_idx = rng.choice(len(_PVC_FOCI), size=n_foci, replace=False)
    pvcs = []
    for f in foci_idx:
        initial, main, terminal = (np.asarray(v, dtype=np.float64) for v in _PVC_FOCI[f])
        tilt = _rotation(rng.normal(size=3), np.deg2rad(rng.uniform(0, 12)))
        amp = np.zeros((5, 3))
        amp[Q], amp[R], amp[S] = tilt @ initial, tilt @ main, tilt @ terminal
        amp[T] = _PVC_T_GAIN * amp[R]
        amp *= rng.uniform(0.85, 1.2)
        pvcs.append({**{k: np.array(v) for k, v in _PVC_TIMING.items()}, "amp": amp})

    table = [normal, no_p, apc, *pvcs]
    stacked = {k: np.stack([t[k] for t in table]) for k in normal}
    # Whole-heart orientation and size: a small random rotation and gain.
    axis_rot = _rotation(rng.normal(size=3), np.deg2rad(float(np.clip(rng.normal(0, 7), -15, 15))))
    stacked["amp"] = stacked["amp"] @ axis_rot.T * rng.uniform(0.85, 1.15)
    return Patient(
        offset=stacked["offset"], sigma_left=stacked["sigma_left"], sigma_right=stacked["sigma_right"],
        amp=stacked["amp"], n_pvc_foci=n_foci, apc_focus=apc_focus,
        resp_hz=float(rng.uniform(0.2, 0.33)) if resp_hz is None else float(resp_hz),
        resp_phase=float(rng.uniform(0, 2 * np.pi)),
    )


@dataclass
class BeatWaves:
    """Per-beat wave parameters, ready to render.

    ``center``: ``(K, 5)`` absolute wave centres in seconds; ``sigma_left``,
    ``sigma_right``: ``(K, 5)`` seconds; ``amp``: ``(K, 5, 3)`` mV (Frank VCG).
    """

    center: np.ndarray
    sigma_left: np.ndarray
    sigma_right: np.ndarray
    amp: np.ndarray

    def __len__(self) -> int:
        return int(self.center.shape[0])

    def take(self, index) -> "BeatWaves":
        """The waves of the beats selected by ``index`` (mask, slice or indices)."""
        return BeatWaves(self.center[index], self.sigma_left[index], self.sigma_right[index], self.amp[index])


def template_index(kind: np.ndarray, focus: np.ndarray) -> np.ndarray:
    """Row of :class:`Patient`'s template table for each beat."""
    idx = np.where(kind == KIND_NP, 1, np.where(kind == KIND_A, 2, 0))
    return np.where(kind == KIND_V, 3 + focus, idx).astype(np.int64)


def beat_waves(patient: Patient, r_time: np.ndarray, kind: np.ndarray, cycle: np.ndarray,
               focus: np.ndarray, rng: np.random.Generator) -> BeatWaves:
    """Wave parameters of every beat (vectorised over beats).

    Args:
        patient: the template table from :func:`make_patient`.
        r_time: R-peak times in seconds, ``(K,)``.
        kind: beat kinds (``KIND_*``), ``(K,)``.
        cycle: cycle length in seconds that sets the phase rate (the underlying
            sinus RR for sinus and ectopic beats), ``(K,)``.
        focus: PVC focus index per beat (ignored for other kinds).
        rng: draws small beat-to-beat amplitude and timing jitter.
    """
    tpl = template_index(kind, np.minimum(focus, patient.n_pvc_foci - 1))
    cyc = np.clip(cycle, 0.25, 2.5)[:, None]
    offset = patient.offset[tpl] * cyc ** OFFSET_EXP
    sl = patient.sigma_left[tpl] * cyc ** WIDTH_EXP
    sr = patient.sigma_right[tpl] * cyc ** WIDTH_EXP
    k = r_time.size
    # Beat-to-beat jitter of the P and T positions (+-3 ms); R stays on its annotation.
    jitter = rng.normal(0.0, 0.0015, size=(k, 5)).clip(-0.003, 0.003)
    jitter[:, [Q, R, S]] = 0.0
    # Respiration rotates the heart in the frontal plane (about Z) and changes its gain.
    phase = 2 * np.pi * patient.resp_hz * r_time + patient.resp_phase
    angle, gain = 0.05 * np.sin(phase), 1 + 0.04 * np.sin(phase) + rng.normal(0, 0.01, size=k)
    c, s = np.cos(angle), np.sin(angle)
    rot = np.zeros((k, 3, 3))
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1.0
    amp = np.einsum("kij,kwj->kwi", rot, patient.amp[tpl]) * gain[:, None, None]
    return BeatWaves(center=r_time[:, None] + offset + jitter, sigma_left=sl, sigma_right=sr, amp=amp)


def fiducials(waves: BeatWaves, r_time: np.ndarray) -> dict[str, np.ndarray]:
    """Wave boundaries in seconds per beat; NaN where a wave is absent.

    Onset/offset of a wave: its centre -/+ :data:`FIDUCIAL_K` widths (10 % of
    its peak). The QRS spans its Q, R and S components that reach at least
    10 % of the largest of them.
    """
    mag = np.linalg.norm(waves.amp, axis=2)  # (K, 5)
    on = waves.center - FIDUCIAL_K * waves.sigma_left
    off = waves.center + FIDUCIAL_K * waves.sigma_right
    qrs = [Q, R, S]
    big = mag[:, qrs] >= 0.1 * mag[:, qrs].max(axis=1, keepdims=True)
    qrs_on = np.where(big, on[:, qrs], np.inf).min(axis=1)
    qrs_off = np.where(big, off[:, qrs], -np.inf).max(axis=1)
    has_p = mag[:, P] > 1e-9
    nan = np.full(r_time.shape, np.nan)
    return {
        "p_on": np.where(has_p, on[:, P], nan),
        "p_peak": np.where(has_p, waves.center[:, P], nan),
        "p_off": np.where(has_p, off[:, P], nan),
        "qrs_on": qrs_on,
        "r_peak": r_time.astype(np.float64),
        "qrs_off": qrs_off,
        "t_on": on[:, T],
        "t_peak": waves.center[:, T],
        "t_off": off[:, T],
    }
