"""Build the shipped splits from local data, reproducibly.

Algorithm (``assign_folds``): patients are grouped by stratum; strata are
visited rarest first; inside a stratum, patients are visited in the order of
``sha256(f"{seed}:{patient}")``; each goes to the fold holding the fewest
patients of its stratum, then the fewest patients sharing one of its classes
(a stratum ``"S+V"`` shares with ``"S"`` and ``"V"``), then the fewest records, ties broken by
``sha256(f"{seed}:{patient}:{fold}")``. So per stratum, fold counts differ by at
most one, a patient's records never span two folds, and the result depends
only on the inputs and the seed. With ``fixed`` assignments (an earlier
version, ``--extend``), those patients keep their folds and only new ones
are placed, so a record keeps its fold when records are added.

Usage::

    python -m ecgscope.datasets.splits generate --root /path/to/data [--name ludb] [--out DIR]
    python -m ecgscope.datasets.splits generate --root DATA --check     # compare with shipped files
    python -m ecgscope.datasets.splits generate --root DATA --name cinc2017 --extend 1 --version 2
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

from ...errors import DatasetError, ECGScopeError
from ..labels import DS1, aami_counts
from ..loader import ludb_rhythm, load, local_path, read_reference_csv
from ..paths import natural_key
from ..registry import get_database
from . import SPLITS_DIR, Split, load_split, split_path

__all__ = ["assign_folds", "SplitSpec", "SPECS", "generate_split", "write_split", "main",
           "DEFAULT_K", "DEFAULT_SEED", "MIN_CLASS_BEATS", "ALGORITHM_VERSION"]

DEFAULT_K = 5
DEFAULT_SEED = 20240531
ALGORITHM_VERSION = 1
#: A DS1 record counts as having S (or V) beats from this many beats on.
MIN_CLASS_BEATS = 30


def _hash(*parts) -> int:
    return int.from_bytes(hashlib.sha256(":".join(map(str, parts)).encode()).digest()[:8], "big")


def assign_folds(strata: Mapping[str, str], k: int = DEFAULT_K, seed: int = DEFAULT_SEED, *,
                 sizes: Mapping[str, int] | None = None,
                 fixed: Mapping[str, int] | None = None) -> dict[str, int]:
    """Fold of every patient: stratified, balanced, deterministic (see the module docstring).

    Args:
        strata: patient -> stratum (class profile).
        k: number of folds.
        seed: seed of the visiting order and tie-breaks.
        sizes: patient -> number of records (default 1 each), balanced second.
        fixed: patient -> fold kept as is (an earlier split being extended).
    """
    if k < 2:
        raise DatasetError(f"k={k} folds: need at least 2", fix="use k >= 2")
    sizes = sizes or {}
    fixed = {p: int(f) for p, f in (fixed or {}).items() if p in strata}
    bad = {p: f for p, f in fixed.items() if not 0 <= f < k}
    if bad:
        raise DatasetError(f"fixed folds out of range 0..{k - 1}: {dict(list(bad.items())[:3])}")
    per_stratum: dict[str, list[int]] = {s: [0] * k for s in set(strata.values())}
    per_tag: dict[str, list[int]] = {t: [0] * k for s in per_stratum for t in _tags(s)}
    totals = [0] * k
    out: dict[str, int] = {}

    def place(p: str, f: int) -> None:
        out[p] = f
        per_stratum[strata[p]][f] += 1
        for t in _tags(strata[p]):
            per_tag[t][f] += 1
        totals[f] += int(sizes.get(p, 1))

    for p, f in fixed.items():
        place(p, f)
    new: dict[str, list[str]] = {}
    for p, s in strata.items():
        if p not in out:
            new.setdefault(s, []).append(p)
    for s in sorted(new, key=lambda s: (len(new[s]), s)):
        counts, tags = per_stratum[s], _tags(s)
        for p in sorted(new[s], key=lambda p: (_hash(seed, p), p)):
            place(p, min(range(k), key=lambda f: (counts[f], sum(per_tag[t][f] for t in tags),
                                                   totals[f], _hash(seed, p, f))))
    return out


def _tags(stratum: str) -> tuple[str, ...]:
    """Classes a stratum stands for: ``"S+V"`` -> ``("S", "V")``; balanced second."""
    return tuple(t for t in str(stratum).split("+") if t)


@dataclass(frozen=True)
class SplitSpec:
    """How one shipped split is made: its database, inputs and stratification.

    ``collect(root)`` returns ``({record: (patient, stratum)}, inputs)`` where
    ``inputs`` describes the data it used (written into the split file).
    """

    name: str
    database: str
    stratify_by: str
    collect: Callable[[Path | None], tuple[dict[str, tuple[str, str]], dict]]


def _profile(counts: Mapping[str, int]) -> str:
    s = counts.get("S", 0) >= MIN_CLASS_BEATS
    v = counts.get("V", 0) >= MIN_CLASS_BEATS
    return {(True, True): "S+V", (True, False): "S", (False, True): "V"}.get((s, v), "none")


def _collect_mitdb_ds1(root) -> tuple[dict, dict]:
    by_record: dict[str, dict[str, int]] = {}
    patient_of: dict[str, str] = {}
    for rec in load("mitdb", root, records=list(DS1), annotators=["atr"]):
        rid = rec.metadata.record_id
        if "atr" not in rec.annotations:
            raise DatasetError(f"mitdb record {rid} has no 'atr' annotations", path=rec.metadata.source,
                               fix="download the record's .atr file")
        by_record[rid] = aami_counts(rec.annotations["atr"].symbol)
        patient_of[rid] = str(rec.metadata.patient_id)
    per_patient: dict[str, dict[str, int]] = {}
    for rid, counts in by_record.items():
        agg = per_patient.setdefault(patient_of[rid], {})
        for c, n in counts.items():
            agg[c] = agg.get(c, 0) + n
    out = {rid: (patient_of[rid], _profile(per_patient[patient_of[rid]])) for rid in by_record}
    inputs = {
        "records": "de Chazal et al. 2004 DS1 (22 MIT-BIH records, paced records excluded)",
        "labels": "AAMI EC57 beat classes counted from the 'atr' annotations",
        "aami_beat_counts": {rid: by_record[rid] for rid in sorted(by_record, key=natural_key)},
    }
    return out, inputs


def _collect_cinc2017(root) -> tuple[dict, dict]:
    db = get_database("cinc2017")
    directory = local_path("cinc2017", root)
    path = next((directory / p for p in (f"{db.records_dir}/REFERENCE.csv", "REFERENCE.csv")
                 if (directory / p).is_file()), None)
    if path is None:
        raise DatasetError("REFERENCE.csv is missing", path=directory,
                           fix="run `ecgscope data download cinc2017`")
    labels = read_reference_csv(path)
    out = {rec: (rec, label) for rec, label in labels.items()}
    inputs = {
        "records": f"every record listed in REFERENCE.csv ({len(labels)} of the {db.n_records} "
                   "training records)",
        "labels": "REFERENCE.csv label (N normal, A AF, O other rhythm, ~ noisy)",
        "patients": "not published; one patient per record",
    }
    return out, inputs


def _collect_ludb(root) -> tuple[dict, dict]:
    out: dict[str, tuple[str, str]] = {}
    for rec in load("ludb", root, annotators=[]):  # the header is all it needs
        rhythm = ludb_rhythm(rec.metadata.diagnoses or rec.metadata.comments)
        if rhythm is None:
            raise DatasetError("the header has no 'Rhythm:' line", path=rec.metadata.source,
                               fix="restore the LUDB header from the download")
        out[rec.metadata.record_id] = (str(rec.metadata.patient_id), rhythm.lower())
    inputs = {
        "records": f"every LUDB record found locally ({len(out)} of 200)",
        "labels": "rhythm statement of the header ('#Rhythm: ...'), lower-cased",
        "patients": "one patient per record (200 records from 200 subjects)",
    }
    return out, inputs


#: The shipped splits.
SPECS: dict[str, SplitSpec] = {
    "mitdb-ds1": SplitSpec("mitdb-ds1", "mitdb",
                           f"beat-class profile: 'S' when >= {MIN_CLASS_BEATS} S beats, 'V' when >= "
                           f"{MIN_CLASS_BEATS} V beats, 'S+V', or 'none' (per patient)",
                           _collect_mitdb_ds1),
    "cinc2017": SplitSpec("cinc2017", "cinc2017", "REFERENCE.csv label", _collect_cinc2017),
    "ludb": SplitSpec("ludb", "ludb", "header rhythm", _collect_ludb),
}


def generate_split(name: str, root=None, *, k: int = DEFAULT_K, seed: int = DEFAULT_SEED, version: int = 1,
                   base: Split | None = None) -> Split:
    """Build split ``name`` from the local data under ``root``.

    ``base`` (an earlier version) keeps its records' folds; only new records are placed.
    """
    if name not in SPECS:
        raise DatasetError(f"unknown split {name!r}", fix=f"use one of {', '.join(SPECS)}")
    spec = SPECS[name]
    db = get_database(spec.database)
    items, inputs = spec.collect(root)
    strata: dict[str, str] = {}
    sizes: dict[str, int] = {}
    for patient, stratum in items.values():
        if strata.setdefault(patient, stratum) != stratum:
            raise DatasetError(f"patient {patient} has records in two strata ({strata[patient]}, {stratum})")
        sizes[patient] = sizes.get(patient, 0) + 1
    fixed = None
    if base is not None:
        if base.k != k:
            raise DatasetError(f"cannot extend a {base.k}-fold split to {k} folds", fix=f"pass --k {base.k}")
        fixed = {str(a["patient"]): int(a["fold"]) for a in base.assignments.values()}
    folds = assign_folds(strata, k, seed, sizes=sizes, fixed=fixed)
    records = {
        rec: {"fold": folds[patient], "patient": patient, "stratum": stratum}
        for rec, (patient, stratum) in sorted(items.items(), key=lambda kv: natural_key(kv[0]))
    }
    split = Split(name=name, version=int(version), database=db.name, k=k, seed=seed, assignments=records)
    extend = f" --extend {base.version}" if base is not None else ""
    split.info = {
        "generator": {
            "module": "ecgscope.datasets.splits.generate",
            "algorithm": "patient-wise stratified greedy assignment in seeded SHA-256 order",
            "algorithm_version": ALGORITHM_VERSION,
            "extends": None if base is None else f"{base.name}.v{base.version}",
        },
        "command": f"python -m ecgscope.datasets.splits generate --root DATA --name {name} "
                   f"--version {version}{extend}",
        "inputs": {
            "database": f"{db.name} ({db.slug} {db.version})",
            "stratify_by": spec.stratify_by,
            "n_records": len(records),
            "n_patients": len(strata),
            **inputs,
        },
        "counts": {"strata": split.strata(), "fold_sizes": [len(f) for f in split.folds]},
    }
    return split


def _dump(value, depth: int = 0) -> str:
    """JSON with the top two levels indented and anything deeper on one line."""
    if depth >= 2 or not isinstance(value, dict) or not value:
        return json.dumps(value, ensure_ascii=False, sort_keys=depth >= 2)
    pad = " " * (depth + 1)
    body = ",\n".join(f"{pad}{json.dumps(k)}: {_dump(v, depth + 1)}" for k, v in value.items())
    return "{\n" + body + "\n" + " " * depth + "}"


def write_split(split: Split, directory: Path | None = None) -> Path:
    """Write ``split`` as ``<name>.v<version>.json`` (stable key order, one record per line)."""
    path = split_path(split.name, split.version, directory)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(_dump(split.to_dict()) + "\n", encoding="utf-8")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command line: ``generate`` the splits (all or ``--name``), or ``--check`` them."""
    parser = argparse.ArgumentParser(prog="python -m ecgscope.datasets.splits",
                                     description="Generate the versioned splits from local data.")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="build split files from local data")
    gen.add_argument("--root", help="data root holding <root>/<database> (default: $ECGSCOPE_DATA or cache)")
    gen.add_argument("--name", action="append", choices=sorted(SPECS),
                     help="split to build (repeatable; default all)")
    gen.add_argument("--out", type=Path, default=None, help=f"output folder (default: {SPLITS_DIR})")
    gen.add_argument("--version", type=int, default=1, help="version number to write (default 1)")
    gen.add_argument("--extend", type=int, default=None, metavar="VERSION",
                     help="keep the folds of this shipped version and place only new records")
    gen.add_argument("--k", type=int, default=DEFAULT_K)
    gen.add_argument("--seed", type=int, default=DEFAULT_SEED)
    gen.add_argument("--check", action="store_true",
                     help="do not write; exit 1 unless the result equals the shipped file")
    args = parser.parse_args(argv)
    status = 0
    for name in args.name or sorted(SPECS):
        try:
            base = load_split(name, args.extend) if args.extend is not None else None
            split = generate_split(name, args.root, k=args.k, seed=args.seed, version=args.version, base=base)
            if args.check:
                shipped = load_split(name, args.version, args.out)
                same = shipped.to_dict() == split.to_dict()
                verdict = "identical to" if same else "DIFFERENT from"
                print(f"{name} v{args.version}: {verdict} the shipped file")
                status |= 0 if same else 1
            else:
                path = write_split(split, args.out)
                print(f"{name} v{split.version}: {len(split.records)} records, "
                      f"fold sizes {[len(f) for f in split.folds]} -> {path}")
        except ECGScopeError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
    return status
