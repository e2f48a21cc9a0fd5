"""``simulate_demo()``: the few-minute mixed-arrhythmia record behind ``ecgscope demo``."""

from __future__ import annotations

from typing import Any, Mapping

from ..record import Record
from .params import NoiseSpec
from .simulator import simulate

__all__ = ["simulate_demo", "DEMO_DURATION_S"]

#: Length of the demo record in seconds.
DEMO_DURATION_S = 300.0


def simulate_demo(seed: int = 0, fs: float = 360.0,
                  noise: NoiseSpec | Mapping[str, Any] | float | None = 24.0) -> Record:
    """Five minutes of 2-lead (II, V1) ECG showing the common arrhythmias.

    Layout: sinus rhythm at 72 bpm with isolated PVCs and APCs (about 3 % of
    beats each) and two PVC couplets; ventricular bigeminy from 100 to 130 s;
    atrial fibrillation (ventricular rate ~105 bpm) from 170 to 235 s; sinus
    rhythm again to the end. Mild noise (24 dB SNR) by default.
    """
    record = simulate(
        duration=DEMO_DURATION_S, fs=fs, heart_rate=72.0, hrv=0.05, leads=("II", "V1"),
        pvc_rate=0.03, apc_rate=0.03, couplets=2, bigeminy=[(100.0, 130.0)],
        af_episodes=[(170.0, 235.0, 105.0)], noise=noise, seed=seed,
    )
    record.metadata.record_id = f"sim-demo-{seed}"
    record.metadata.extra["demo"] = True
    return record
