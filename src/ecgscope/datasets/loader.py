"""Iterate the records of a local database copy with patients and labels attached.

:func:`load` reads each record with :func:`ecgscope.read` and fills
``metadata.database``, ``metadata.patient_id`` and the database's labels
(see each registry entry's ``labels`` and ``patients``):

- MIT-BIH databases: beat annotations stay in ``annotations["atr"]``; mitdb
  202 gets patient ``"201"`` (same patient); ``extra["paced"]`` marks 102,
  104, 107, 217; ``extra["rhythms"]`` lists the rhythms annotated.
- LUDB: age, sex, diagnoses from the header; ``extra["rhythm"]``.
- CinC 2017: the REFERENCE.csv label in ``extra["label"]`` (``N A O ~``) and
  its meaning in ``diagnoses``; patients are not published, so one per record.
- PTB-XL: ``ptbxl_database.csv`` (patient, age, sex, SCP codes, strat_fold).
- Chapman (ecg-arrhythmia): SNOMED CT codes from ``#Dx`` in ``diagnoses``.
- CPSC 2021: class from the header in ``extra["label"]`` (``N``, ``AFf``,
  ``AFp``), AF episodes in ``extra["af_episodes"]``, patient from the name.
"""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path
from typing import Callable, Iterator

from ..errors import DatasetError
from ..record import Record
from .labels import is_paced_record, mitdb_patient, rhythm_episodes
from .paths import data_root, local_records, select_records
from .registry import Database, get_database

__all__ = [
    "load", "local_path", "record_paths", "ludb_rhythm", "read_reference_csv", "CINC2017_LABELS", "CPSC2021_LABELS",
]

#: CinC 2017 REFERENCE.csv codes.
CINC2017_LABELS = {"N": "Normal sinus rhythm", "A": "Atrial fibrillation", "O": "Other rhythm", "~": "Noisy"}
#: CPSC 2021 header classes -> short code.
CPSC2021_LABELS = {
    "non atrial fibrillation": "N",
    "persistent atrial fibrillation": "AFf",
    "paroxysmal atrial fibrillation": "AFp",
}


def local_path(name: str, root=None) -> Path:
    """``<root>/<name>`` of a database, which must exist (else :class:`DatasetError`)."""
    db = get_database(name)
    directory = data_root(root) / db.name
    if not directory.is_dir():
        raise DatasetError(
            f"no local copy of {db.name}", path=directory,
            fix=f"run `ecgscope data download {db.name}` or pass root=... (--root) / set ECGSCOPE_DATA",
        )
    return directory


def record_paths(name: str, root=None, records=None) -> list[str]:
    """Record paths (relative to the database folder) of a local copy, optionally a subset."""
    db = get_database(name)
    directory = local_path(db.name, root)
    available = local_records(db, directory)
    if not available:
        raise DatasetError(f"no {db.name} records found (no RECORDS file and no .hea files)", path=directory,
                           fix=f"run `ecgscope data download {db.name}`")
    if records is None:
        skip = set(db.annotation_only)
        return [r for r in available if r.rsplit("/", 1)[-1] not in skip]
    return select_records(available, records, what=f"{db.name} records", path=directory)


def load(name: str, root=None, records=None, **read_options) -> Iterator[Record]:
    """Iterate the :class:`~ecgscope.record.Record` s of database ``name`` from a local copy.

    Args:
        name: registry name (``"mitdb"``, ``"ludb"``, ``"cinc2017"`` ...).
        root: data root holding ``<root>/<name>`` (default ``$ECGSCOPE_DATA`` or the user cache).
        records: record names to load (base names such as ``"101"`` or paths
            such as ``"data/1"``), in that order; default all.
        **read_options: passed to :func:`ecgscope.read` (e.g. ``nonfinite=``).

    Example::

        for rec in load("mitdb", records=["101"]):
            rec.metadata.patient_id, rec.annotations["atr"]
    """
    from ..io import read

    db = get_database(name)
    directory = local_path(db.name, root)
    chosen = record_paths(db.name, root, records)
    prepare, attach = _SCHEMES.get(db.label_scheme, _SCHEMES["none"])
    context = prepare(db, directory)
    for rel in chosen:
        record = read(directory / rel, **read_options)
        meta = record.metadata
        meta.database = db.name
        meta.record_id = rel.rsplit("/", 1)[-1]
        meta.patient_id = meta.record_id
        meta.extra["record_path"] = rel
        attach(record, db, context)
        yield record


# ------------------------------------------------------------------ schemes
def _no_context(db: Database, directory: Path) -> None:
    return None


def _attach_nothing(record: Record, db: Database, context) -> None:
    return None


def _rhythms(record: Record, annotator: str = "atr") -> list[tuple[int, int, str]]:
    ann = record.annotations.get(annotator)
    if ann is None or len(ann) == 0:
        return []
    return rhythm_episodes(ann.sample, ann.aux, record.n_samples)


def _attach_beats(record: Record, db: Database, context) -> None:
    meta = record.metadata
    rid = meta.record_id
    if db.name == "mitdb":
        meta.patient_id = mitdb_patient(rid)
        meta.extra["paced"] = is_paced_record(rid)
    elif db.name == "nstdb":
        meta.patient_id = rid[:3] if rid[:3] in ("118", "119") else None
    meta.extra["rhythms"] = sorted({label for _, _, label in _rhythms(record)})


def _attach_rhythm(record: Record, db: Database, context) -> None:
    episodes = _rhythms(record)
    record.metadata.extra["rhythms"] = sorted({label for _, _, label in episodes})
    record.metadata.extra["rhythm_episodes"] = [list(e) for e in episodes]


_RHYTHM_LINE = re.compile(r"^\s*rhythm\s*:\s*(.+?)\s*\.?\s*$", re.IGNORECASE)


def ludb_rhythm(diagnoses) -> str | None:
    """The rhythm statement of a LUDB record (``"Sinus bradycardia"``), from its diagnoses."""
    for line in diagnoses or []:
        m = _RHYTHM_LINE.match(str(line).lstrip("#"))
        if m:
            return m.group(1).rstrip(".").strip()
    return None


def _attach_ludb(record: Record, db: Database, context) -> None:
    record.metadata.extra["rhythm"] = ludb_rhythm(record.metadata.diagnoses or record.metadata.comments)


def read_reference_csv(path: Path) -> dict[str, str]:
    """``{record: label}`` from a CinC-style ``REFERENCE.csv`` (``A00001,N`` per line)."""
    out: dict[str, str] = {}
    with open(path, newline="", encoding="utf-8") as fh:
        for n, row in enumerate(csv.reader(fh), 1):
            if not row or not row[0].strip():
                continue
            if len(row) < 2:
                raise DatasetError(f"line {n} has {len(row)} field, expected 2 (record,label)", path=path,
                                   fix="restore the file from the database download")
            out[row[0].strip().rsplit("/", 1)[-1]] = row[1].strip()
    return out


def _find_first(directory: Path, names) -> Path | None:
    return next((directory / n for n in names if (directory / n).is_file()), None)


def _prepare_cinc2017(db: Database, directory: Path) -> dict[str, str]:
    path = _find_first(directory, [f"{db.records_dir}/REFERENCE.csv", "REFERENCE.csv"])
    if path is None:
        raise DatasetError("REFERENCE.csv (the record labels) is missing", path=directory,
                           fix="run `ecgscope data download cinc2017` to fetch it")
    return read_reference_csv(path)


def _attach_cinc2017(record: Record, db: Database, labels: dict[str, str]) -> None:
    code = labels.get(record.metadata.record_id)
    record.metadata.extra["label"] = code
    record.metadata.diagnoses = [CINC2017_LABELS.get(code, code)] if code else []


def _prepare_ptbxl(db: Database, directory: Path) -> dict[str, dict]:
    import pandas as pd

    path = _find_first(directory, ["ptbxl_database.csv"])
    if path is None:
        raise DatasetError("ptbxl_database.csv (patients and SCP codes) is missing", path=directory,
                           fix="run `ecgscope data download ptbxl` to fetch it")
    table = pd.read_csv(path)
    out: dict[str, dict] = {}
    for row in table.to_dict("records"):
        for col in ("filename_hr", "filename_lr"):
            if isinstance(row.get(col), str):
                out[row[col].rsplit("/", 1)[-1]] = row
    return out


def _attach_ptbxl(record: Record, db: Database, table: dict[str, dict]) -> None:
    row = table.get(record.metadata.record_id)
    if row is None:
        return
    meta = record.metadata
    meta.patient_id = str(int(row["patient_id"])) if row.get("patient_id") == row.get("patient_id") else None
    age = row.get("age")
    meta.age = float(age) if age == age and age is not None and 0 <= float(age) <= 150 else None
    meta.sex = {0: "M", 1: "F"}.get(int(row["sex"])) if row.get("sex") == row.get("sex") else None
    try:
        codes = ast.literal_eval(row.get("scp_codes") or "{}")
    except (ValueError, SyntaxError):
        codes = {}
    meta.diagnoses = list(codes)
    meta.extra["scp_codes"] = {str(k): float(v) for k, v in codes.items()}
    if row.get("strat_fold") == row.get("strat_fold") and row.get("strat_fold") is not None:
        meta.extra["strat_fold"] = int(row["strat_fold"])


def _attach_snomed(record: Record, db: Database, context) -> None:
    record.metadata.extra["snomed"] = [d for d in record.metadata.diagnoses if d.isdigit()]


def _attach_cpsc2021(record: Record, db: Database, context) -> None:
    meta = record.metadata
    parts = meta.record_id.split("_")
    if len(parts) == 3 and parts[0] == "data":
        meta.patient_id = parts[1]
    text = next((c.strip().lower() for c in meta.comments if c.strip().lower() in CPSC2021_LABELS), None)
    meta.extra["label"] = CPSC2021_LABELS.get(text) if text else None
    meta.diagnoses = [text] if text else []
    episodes = _rhythms(record)
    meta.extra["af_episodes"] = [[a, b] for a, b, label in episodes if label in ("AFIB", "AFL")]


_SCHEMES: dict[str, tuple[Callable, Callable]] = {
    "none": (_no_context, _attach_nothing),
    "beats": (_no_context, _attach_beats),
    "rhythm": (_no_context, _attach_rhythm),
    "waves": (_no_context, _attach_nothing),
    "ludb": (_no_context, _attach_ludb),
    "cinc2017": (_prepare_cinc2017, _attach_cinc2017),
    "ptbxl": (_prepare_ptbxl, _attach_ptbxl),
    "snomed": (_no_context, _attach_snomed),
    "cpsc2021": (_no_context, _attach_cpsc2021),
}
