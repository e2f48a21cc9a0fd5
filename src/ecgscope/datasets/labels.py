"""Beat labels as data: AAMI EC57 classes, paced records, the de Chazal DS1/DS2 split.

AAMI EC57 groups the MIT-BIH beat codes into five classes (ANSI/AAMI EC57:2012,
as used by de Chazal P, O'Dwyer M, Reilly RB. Automatic classification of
heartbeats using ECG morphology and heartbeat interval features. IEEE Trans
Biomed Eng 51(7):1196-1206, 2004):

====  =====================================  ====================
AAMI  meaning                                MIT-BIH codes
====  =====================================  ====================
N     normal and bundle-branch-block beats   N L R e j
S     supraventricular ectopic beats         A a J S
V     ventricular ectopic beats              V E
F     fusion of ventricular and normal       F
Q     paced, fusion of paced, unclassifiable / f Q
====  =====================================  ====================

Every other annotation code (``+`` rhythm change, ``~`` noise, ``|``, ``x``,
``[``, ``!``, ``]``, ``"`` ...) is not a beat and is filtered out. EC57
excludes the records with paced beats (102, 104, 107, 217) from evaluation.
"""

from __future__ import annotations

from typing import Iterable

import numpy as np

__all__ = [
    "AAMI_CLASSES",
    "AAMI_MAP",
    "aami_labels",
    "aami_counts",
    "beat_mask",
    "MITDB_PACED_RECORDS",
    "is_paced_record",
    "exclude_paced",
    "DS1",
    "DS2",
    "MITDB_SAME_PATIENT",
    "mitdb_patient",
    "rhythm_episodes",
]

#: The five AAMI EC57 classes in their conventional order.
AAMI_CLASSES: tuple[str, ...] = ("N", "S", "V", "F", "Q")

#: MIT-BIH beat code -> AAMI EC57 class.
AAMI_MAP: dict[str, str] = {
    **dict.fromkeys(("N", "L", "R", "e", "j"), "N"),
    **dict.fromkeys(("A", "a", "J", "S"), "S"),
    **dict.fromkeys(("V", "E"), "V"),
    "F": "F",
    **dict.fromkeys(("/", "f", "Q"), "Q"),
}

#: MIT-BIH records whose beats are (mostly) paced; EC57 excludes them.
MITDB_PACED_RECORDS: tuple[str, ...] = ("102", "104", "107", "217")

#: de Chazal et al. (2004) training set DS1 (22 records, paced excluded).
DS1: tuple[str, ...] = (
    "101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122",
    "124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230",
)

#: de Chazal et al. (2004) test set DS2 (22 records): the blind inter-patient test set.
DS2: tuple[str, ...] = (
    "100", "103", "105", "111", "113", "117", "121", "123", "200", "202", "210",
    "212", "213", "214", "219", "221", "222", "228", "231", "232", "233", "234",
)

#: MIT-BIH records that come from the same patient (record -> patient record).
#: The MIT-BIH directory states that 201 and 202 are from the same subject.
MITDB_SAME_PATIENT: dict[str, str] = {"202": "201"}


def aami_labels(symbols, *, non_beat: str = "") -> np.ndarray:
    """AAMI class of every annotation code, ``non_beat`` (default ``""``) for non-beats.

    Vectorised: each distinct code is looked up once. Returns a ``<U1`` array
    (or wider if ``non_beat`` is longer) of the same length as ``symbols``;
    combine with :func:`beat_mask` to drop the non-beat annotations.
    """
    codes = np.asarray(symbols, dtype=object).reshape(-1).astype(str)
    if codes.size == 0:
        return np.array([], dtype="<U1")
    unique, inverse = np.unique(codes, return_inverse=True)
    mapped = np.array([AAMI_MAP.get(u, non_beat) for u in unique.tolist()])
    return mapped[inverse]


def beat_mask(symbols) -> np.ndarray:
    """Boolean mask of the annotations that are beats (have an AAMI class)."""
    return aami_labels(symbols) != ""


def aami_counts(symbols) -> dict[str, int]:
    """Number of beats per AAMI class (all five keys, zeros included)."""
    labels = aami_labels(symbols)
    return {c: int(np.count_nonzero(labels == c)) for c in AAMI_CLASSES}


def _record_name(record) -> str:
    """``"mitdb/102"`` or ``Path("…/102.hea")`` or ``102`` -> ``"102"``."""
    text = str(record).replace("\\", "/").rstrip("/").rsplit("/", 1)[-1]
    return text[:-4] if text.endswith(".hea") else text


def is_paced_record(record) -> bool:
    """True for the MIT-BIH paced records (102, 104, 107, 217)."""
    return _record_name(record) in MITDB_PACED_RECORDS


def exclude_paced(records: Iterable) -> list:
    """``records`` without the MIT-BIH paced records, order kept (EC57 practice)."""
    return [r for r in records if not is_paced_record(r)]


def mitdb_patient(record) -> str:
    """Patient identifier of a MIT-BIH record (``"202"`` -> ``"201"``)."""
    name = _record_name(record)
    return MITDB_SAME_PATIENT.get(name, name)


def rhythm_episodes(sample, aux, n_samples: int) -> list[tuple[int, int, str]]:
    """Rhythm episodes ``(start, stop, label)`` from rhythm-change annotations.

    A rhythm change is an annotation whose aux text starts with ``"("``
    (``"(AFIB"``, ``"(N"``); each lasts until the next change or ``n_samples``.
    Labels lose the ``"("`` and any trailing NUL; episodes are sorted by start.
    """
    sample = np.asarray(sample, dtype=np.int64).reshape(-1)
    text = np.asarray(aux, dtype=object).reshape(-1).astype(str)
    is_change = np.char.startswith(text, "(")
    starts = sample[is_change]
    labels = [t[1:].rstrip("\x00").strip() for t in text[is_change].tolist()]
    order = np.argsort(starts, kind="stable")
    starts = starts[order]
    stops = np.append(starts[1:], max(int(n_samples), int(starts[-1]) if starts.size else 0))
    return [(int(a), int(b), labels[i]) for a, b, i in zip(starts, stops, order) if b > a]
