"""Patient-wise, class-stratified validation split drawn from the training patients only."""

from __future__ import annotations

import numpy as np

from ..datasets.beats import BeatSet
from ..errors import DatasetError

__all__ = ["validation_split", "choose_validation_patients"]


def choose_validation_patients(patient_ids, y, n_classes: int, n_patients: int, seed: int = 0) -> list[str]:
    """Pick ``n_patients`` patients for validation, covering as many classes as possible.

    Greedy in a seeded random order: each pick is the patient that adds the
    most not-yet-covered classes (rarer classes count more), never taking the
    last training patient of a class. Deterministic for a seed.
    """
    pids = np.asarray(patient_ids, dtype=str)
    y = np.asarray(y)
    patients = sorted(set(pids.tolist()))
    if n_patients <= 0:
        return []
    if n_patients >= len(patients):
        raise DatasetError(f"cannot hold out {n_patients} validation patients "
                           f"from {len(patients)} training patients",
                           fix="lower train.val_patients or train on more records")
    counts = np.zeros((len(patients), n_classes), np.int64)
    index = {p: i for i, p in enumerate(patients)}
    rows = np.array([index[p] for p in pids.tolist()], dtype=np.int64)
    labelled = (y >= 0) & (y < n_classes)
    np.add.at(counts, (rows[labelled], y[labelled]), 1)
    total = counts.sum(axis=0)
    rarity = np.where(total > 0, 1.0 / np.maximum(total, 1), 0.0)
    rarity = rarity / rarity.max() if rarity.max() > 0 else rarity
    order = np.random.default_rng(seed).permutation(len(patients))
    remaining = counts > 0  # (patients, classes) still in training
    covered = np.zeros(n_classes, bool)
    chosen: list[int] = []
    for _ in range(n_patients):
        best, best_score = None, -np.inf
        for i in order:
            if i in chosen:
                continue
            has = counts[i] > 0
            holders = remaining.sum(axis=0)
            if np.any(has & (holders <= 1)):  # would remove a class from training
                continue
            score = float((has & ~covered) @ (1.0 + rarity))
            if score > best_score:
                best, best_score = i, score
        if best is None:  # every candidate is the last holder of some class: take the first in order
            best = next(i for i in order if i not in chosen)
        chosen.append(int(best))
        covered |= counts[best] > 0
        remaining[best] = False
    return [patients[i] for i in chosen]


def validation_split(beats: BeatSet, n_patients: int, seed: int = 0) -> tuple[BeatSet, BeatSet | None, list[str]]:
    """``(fit set, validation set or None, validation patients)`` of a training set, split by patient."""
    chosen = choose_validation_patients(beats.patient_id, beats.y, len(beats.classes), n_patients, seed)
    if not chosen:
        return beats, None, []
    is_val = np.isin(beats.patient_id, chosen)
    return beats.subset(~is_val), beats.subset(is_val), chosen
