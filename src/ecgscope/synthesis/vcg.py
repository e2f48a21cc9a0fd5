"""Projection of the cardiac dipole (Frank VCG, X Y Z) to the standard leads.

The eight independent leads I, II, V1-V6 use the Dower transform (Dower,
Machado & Osborne 1980, "On deriving the electrocardiogram from
vectorcardiographic leads", Clin Cardiol 3:87); III, aVR, aVL and aVF follow
from Einthoven's and Goldberger's relations, so every lead set the simulator
returns is mutually consistent (``III == II - I`` exactly).

Frank axes: X points to the patient's left, Y to the feet, Z to the back.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from ..record import STANDARD_LEADS, canonical_lead_name
from .params import SimulationParameterError, check_int

__all__ = ["DOWER", "lead_matrix", "resolve_leads", "LEAD_PREFERENCE"]

#: Dower matrix: rows I, II, V1..V6; columns X, Y, Z.
DOWER: dict[str, tuple[float, float, float]] = {
    "I": (0.632, -0.235, 0.059),
    "II": (0.235, 1.066, -0.132),
    "V1": (-0.515, 0.157, -0.917),
    "V2": (0.044, 0.164, -1.387),
    "V3": (0.882, 0.098, -1.277),
    "V4": (1.213, 0.127, -0.601),
    "V5": (1.125, 0.127, -0.086),
    "V6": (0.831, 0.076, 0.230),
}

#: Which leads ``n_leads=k`` picks (the first k, returned in standard order):
#: MIT-BIH's MLII + V1, then the usual Holter and monitoring leads.
LEAD_PREFERENCE: tuple[str, ...] = ("II", "V1", "V5", "I", "III", "aVF", "V2", "V3", "V4", "V6", "aVL", "aVR")


def _row(name: str) -> np.ndarray:
    d = {k: np.asarray(v) for k, v in DOWER.items()}
    derived = {
        "III": d["II"] - d["I"],
        "aVR": -(d["I"] + d["II"]) / 2,
        "aVL": d["I"] - d["II"] / 2,
        "aVF": d["II"] - d["I"] / 2,
    }
    return d[name] if name in d else derived[name]


def lead_matrix(leads: Sequence[str]) -> np.ndarray:
    """``(len(leads), 3)`` float64 matrix mapping a Frank VCG (X, Y, Z) to ``leads``."""
    return np.stack([_row(name) for name in leads]).astype(np.float64)


def resolve_leads(leads: Sequence[str] | str | None, n_leads: int | None) -> list[str]:
    """Canonical lead names from ``leads`` or ``n_leads`` (default ``["II", "V1"]``)."""
    if leads is not None and n_leads is not None:
        if isinstance(leads, str) or len(leads) != n_leads:
            raise SimulationParameterError(
                f"leads={leads!r} and n_leads={n_leads} disagree", path="leads",
                fix="pass either leads=(...) or n_leads=k, not both")
    if leads is None:
        k = 2 if n_leads is None else check_int("n_leads", n_leads, 1, 12)
        chosen = set(LEAD_PREFERENCE[:k])
        return [name for name in STANDARD_LEADS if name in chosen]
    if isinstance(leads, str):
        leads = [leads]
    out: list[str] = []
    for name in leads:
        canon = canonical_lead_name(str(name))
        if canon not in STANDARD_LEADS:
            raise SimulationParameterError(
                f"{name!r} is not a standard lead", path="leads",
                fix=f"use names from {', '.join(STANDARD_LEADS)} (MLII is accepted for II)")
        if canon in out:
            raise SimulationParameterError(f"lead {canon!r} is requested twice", path="leads",
                                           fix="list each lead once")
        out.append(canon)
    if not out:
        raise SimulationParameterError("no leads requested", path="leads", fix="pass at least one lead")
    return out
