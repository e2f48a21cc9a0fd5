"""The hard check that held-out patients never reach any fitted step.

A :class:`LeakGuard` knows the test patients of a fold; every stage that fits
something (training beats, normalisation statistics, oversampling, the
validation set used for early stopping) calls :meth:`LeakGuard.check` with the
patients of the beats it is about to use, and a test patient among them raises
:class:`DataLeakError`.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

from ..errors import ECGScopeError

__all__ = ["DataLeakError", "LeakGuard"]


class DataLeakError(ECGScopeError):
    """Beats of a held-out (test) patient reached a training step."""

    default_fix = "split by patient: every record of a patient must be in the same fold"


class LeakGuard:
    """Raises :class:`DataLeakError` when a stage sees a test patient; records what it checked."""

    def __init__(self, test_patients: Iterable[str], name: str = "test fold") -> None:
        self.test_patients = frozenset(str(p) for p in test_patients)
        self.name = name
        self.checked: dict[str, int] = {}

    def check(self, stage: str, patient_ids) -> None:
        """Assert that none of ``patient_ids`` (one per beat) is a test patient."""
        ids = np.asarray(patient_ids, dtype=str).reshape(-1)
        if self.test_patients and ids.size:
            leaked = sorted(set(np.unique(ids).tolist()) & self.test_patients)
            if leaked:
                n = int(np.isin(ids, leaked).sum())
                raise DataLeakError(f"{n} beats of {self.name} patient(s) {leaked} reached {stage}")
        self.checked[stage] = self.checked.get(stage, 0) + int(ids.size)

    def report(self) -> dict:
        """JSON-safe summary: the test patients and the beats checked per stage."""
        return {"test_patients": sorted(self.test_patients), "checked_beats": dict(self.checked)}
