"""``simulate()``: a deterministic multi-lead ECG with known beats, rhythms and waves."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..record import Metadata, Record
from .atrial import AtrialModel
from .morphology import KIND_A, KIND_V, beat_waves, fiducials, make_patient
from .noise import add_noise
from .params import (MAX_DURATION_S, MAX_SIM_FS, MIN_SIM_FS, NoiseSpec, as_noise_spec, check_int, check_range,
                     parse_episodes)
from .render import VCGRenderer
from .rhythm import schedule_beats
from .tachogram import rr_tachogram
from .truth import beat_annotations, beat_symbols, fiducial_table, truth_annotations
from .vcg import lead_matrix, resolve_leads

__all__ = ["simulate", "CHUNK_SAMPLES"]

#: Rendering and noise work in chunks of this many samples: memory stays bounded on long
#: records, and cache-sized chunks are faster than whole-record arrays.
CHUNK_SAMPLES = 2**14

_EPISODE_ARGS = (("bigeminy", "B", False), ("trigeminy", "T", False), ("af_episodes", "AFIB", True),
                 ("flutter_episodes", "AFL", True))


def simulate(
    duration: float = 60.0,
    fs: float = 360.0,
    heart_rate: float = 70.0,
    hrv: float = 0.05,
    leads: Sequence[str] | str | None = None,
    n_leads: int | None = None,
    pvc_rate: float = 0.0,
    apc_rate: float = 0.0,
    couplets: int = 0,
    bigeminy: Sequence[Sequence[float]] = (),
    trigeminy: Sequence[Sequence[float]] = (),
    af_episodes: Sequence[Sequence[float]] = (),
    flutter_episodes: Sequence[Sequence[float]] = (),
    noise: NoiseSpec | Mapping[str, Any] | float | None = None,
    amplitude: float = 1.0,
    respiration_rate: float | None = None,
    seed: int = 0,
) -> Record:
    """Simulate an ECG with known ground truth (ECGSYN/Sameni dynamical model, closed form).

    Beats are sums of Gaussians in cardiac phase (McSharry et al. 2003, IEEE
    TBME 50:289) for P, Q, R, S and T, each with a 3-D dipole amplitude
    (Sameni et al. 2007, EURASIP JASP 043407), projected to the standard
    leads with the Dower matrix, so all leads are mutually consistent. See
    ``docs/simulator.md`` for the model, the rhythm rules and the noise.

    Args:
        duration: length in seconds (1 s to 7 days).
        fs: sampling rate in Hz (100-10000).
        heart_rate: mean sinus rate in bpm (20-250).
        hrv: RR variability as a coefficient of variation (0-0.3), with
            ECGSYN's LF (0.1 Hz) and respiratory HF peaks.
        leads: lead names (default ``("II", "V1")``); ``"MLII"`` etc. accepted.
        n_leads: alternatively the number of leads (1-12); picks MIT-BIH's II,
            V1, then V5, I, III, aVF, ..., returned in standard order.
        pvc_rate, apc_rate: probability that a sinus beat is replaced by a PVC /
            APC (0-0.5).
        couplets: number of PVC couplets placed in plain sinus rhythm.
        bigeminy, trigeminy: ``[(start_s, end_s), ...]`` ventricular bigeminy /
            trigeminy windows (every 2nd / 3rd beat a PVC).
        af_episodes, flutter_episodes: ``[(start_s, end_s[, rate_bpm]), ...]``
            atrial fibrillation / flutter with their ventricular rate.
        noise: ``None`` (clean), an SNR in dB, a dict of :class:`NoiseSpec`
            fields, or a :class:`NoiseSpec`.
        amplitude: gain applied to the clean ECG.
        respiration_rate: breaths per minute (6-40); drawn in 12-20 when ``None``.
        seed: the same seed gives the same record; a different seed a different one.

    Returns:
        A :class:`~ecgscope.record.Record` (float32 mV) with annotators ``atr``
        (beats ``N``/``V``/``A`` at the true R peaks, rhythm ``+`` with aux) and
        ``truth`` (LUDB-style P/QRS/T boundaries), and metadata: record id
        ``sim-<seed>``, ``extra["parameters"]``, ``extra["episodes"]`` as
        ``[start_s, end_s, label]`` and ``extra["fiducials"]`` (see
        :func:`~ecgscope.synthesis.truth_fiducials`).

    Raises:
        SimulationParameterError: (a ``ValueError`` and an ``ECGScopeError``)
            for an argument out of range or inconsistent.
    """
    duration = check_range("duration", duration, 1.0, MAX_DURATION_S, " s")
    fs = check_range("fs", fs, MIN_SIM_FS, MAX_SIM_FS, " Hz")
    heart_rate = check_range("heart_rate", heart_rate, 20.0, 250.0, " bpm")
    hrv = check_range("hrv", hrv, 0.0, 0.3)
    pvc_rate = check_range("pvc_rate", pvc_rate, 0.0, 0.5)
    apc_rate = check_range("apc_rate", apc_rate, 0.0, 0.5)
    couplets = check_int("couplets", couplets, 0, 100_000)
    amplitude = check_range("amplitude", amplitude, 0.0, 100.0, lo_open=True)
    resp_hz = (None if respiration_rate is None
               else check_range("respiration_rate", respiration_rate, 6.0, 40.0) / 60)
    seed = check_int("seed", seed, 0, 2**63 - 1)
    lead_names = resolve_leads(leads, n_leads)
    spec = as_noise_spec(noise)
    requested = {"bigeminy": bigeminy, "trigeminy": trigeminy, "af_episodes": af_episodes,
                 "flutter_episodes": flutter_episodes}
    episodes = [e for name, label, with_rate in _EPISODE_ARGS
                for e in parse_episodes(name, requested[name], label, duration, with_rate)]

    rng_patient, rng_rhythm, rng_beats, rng_atrial, rng_noise = (
        np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(5))
    patient = make_patient(rng_patient, resp_hz)
    tacho = rr_tachogram(duration + 60.0, 60.0 / heart_rate, hrv, patient.resp_hz, rng_rhythm)
    schedule = schedule_beats(duration, heart_rate, tacho, episodes, pvc_rate, apc_rate, couplets, rng_rhythm)
    n = int(round(duration * fs))
    schedule = schedule.take(np.rint(schedule.time * fs) < n)
    waves = beat_waves(patient, schedule.time, schedule.kind, schedule.cycle, schedule.focus, rng_beats)
    atrial = AtrialModel(schedule.atrial, rng_atrial)
    signal = _render(waves, atrial, lead_matrix(lead_names) * amplitude, n, fs)
    noise_info = (None if spec is None
                  else add_noise(signal, fs, spec, patient.resp_hz, rng_noise, CHUNK_SAMPLES))

    r_sample = np.rint(schedule.time * fs).astype(np.int64)
    symbols = beat_symbols(schedule.kind)
    table = fiducial_table(fiducials(waves, schedule.time), fs, n)
    annotations = {"atr": beat_annotations(schedule, r_sample), "truth": truth_annotations(table, symbols)}
    episodes_out = schedule.episodes(duration)
    parameters = {
        "duration": duration, "fs": fs, "heart_rate": heart_rate, "hrv": hrv, "leads": list(lead_names),
        "pvc_rate": pvc_rate, "apc_rate": apc_rate, "couplets": couplets,
        **{name: [[e.start, e.end] + ([e.rate] if e.rate else []) for e in episodes if e.label == label]
           for name, label, _ in _EPISODE_ARGS},
        "noise": None if spec is None else spec.to_dict(), "amplitude": amplitude,
        "respiration_rate": respiration_rate, "seed": seed,
    }
    metadata = Metadata(
        record_id=f"sim-{seed}", patient_id=f"sim-{seed}", database="ecgscope-sim",
        diagnoses=_diagnoses(schedule.kind, episodes_out),
        comments=["synthetic ECG from ecgscope.synthesis.simulate (ECGSYN / Sameni 3-D dynamical model)"],
        units=["mV"] * len(lead_names),
        extra={
            "simulator": "ecgscope.synthesis.simulate/1",
            "parameters": parameters,
            "episodes": [list(e) for e in episodes_out],
            "atrial_episodes": atrial.summary(),
            "patient": patient.summary(),
            "noise": noise_info,
            "beat_counts": {s: int(np.sum(symbols == s)) for s in ("N", "V", "A")},
            "fiducials": {**{k: v.tolist() for k, v in table.items()}, "symbol": symbols.tolist()},
        },
    )
    return Record(signal=signal, fs=fs, leads=list(lead_names), original_leads=list(lead_names),
                  annotations=annotations, metadata=metadata)


def _render(waves, atrial: AtrialModel, projection: np.ndarray, n: int, fs: float) -> np.ndarray:
    """The clean ECG ``(leads, n)`` float32, rendered chunk by chunk."""
    signal = np.empty((projection.shape[0], n), dtype=np.float32)
    renderer = VCGRenderer(waves, fs)
    for s0 in range(0, n, CHUNK_SAMPLES):
        s1 = min(n, s0 + CHUNK_SAMPLES)
        vcg = renderer.render(s0, s1) + atrial.render(s0, s1, fs)
        signal[:, s0:s1] = np.einsum("lk,kn->ln", projection, vcg)  # not BLAS: slow for (L, 3) @ (3, n)
    return signal


_RHYTHM_NAMES = {"N": "sinus rhythm", "B": "ventricular bigeminy", "T": "ventricular trigeminy",
                 "AFIB": "atrial fibrillation", "AFL": "atrial flutter"}


def _diagnoses(kind: np.ndarray, episodes: list[tuple[float, float, str]]) -> list[str]:
    out = list(dict.fromkeys(_RHYTHM_NAMES[label] for _, _, label in episodes))
    if np.any(kind == KIND_V):
        out.append("premature ventricular contractions")
    if np.any(kind == KIND_A):
        out.append("premature atrial contractions")
    return out
