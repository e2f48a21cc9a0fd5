"""Standard splits shipped as versioned JSON files: patient-wise, class-stratified k-fold.

Each file ``<name>.v<version>.json`` in this folder records the database, k,
the seed, the generator and a description of its inputs, and for every record
its fold, patient and stratum. A shipped version never changes; a changed
split is a new version. :mod:`ecgscope.datasets.splits.generate` rebuilds
them from local data (``python -m ecgscope.datasets.splits generate --root DIR``).

Shipped: ``mitdb-ds1`` (the 22 DS1 records, stratified by S/V beat profile),
``cinc2017`` (by REFERENCE.csv label), ``ludb`` (by header rhythm); 5 folds each.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...errors import DatasetError

__all__ = ["SPLITS_DIR", "Split", "load_split", "available_splits", "split_path"]

#: Folder holding the shipped split files.
SPLITS_DIR = Path(__file__).resolve().parent
_FILE = re.compile(r"^(?P<name>[\w\-]+)\.v(?P<version>\d+)\.json$")


@dataclass
class Split:
    """A patient-wise k-fold split of one database.

    Attributes:
        name, version: the split's identity (``"mitdb-ds1"``, 1).
        database: registry name of the database.
        k: number of folds.
        seed: seed of the generator's ordering.
        assignments: record -> ``{"fold": int, "patient": str, "stratum": str}``.
        info: everything else in the file (generator, inputs, counts).
    """

    name: str
    version: int
    database: str
    k: int
    seed: int
    assignments: dict[str, dict[str, Any]]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def records(self) -> list[str]:
        """All records, in file order."""
        return list(self.assignments)

    @property
    def folds(self) -> list[list[str]]:
        """Records of each fold (``folds[i]`` is fold ``i``)."""
        out: list[list[str]] = [[] for _ in range(self.k)]
        for rec, a in self.assignments.items():
            out[int(a["fold"])].append(rec)
        return out

    def fold_of(self, record: str) -> int:
        """Fold index of ``record``."""
        try:
            return int(self.assignments[str(record)]["fold"])
        except KeyError:
            raise DatasetError(f"record {record!r} is not in split {self.name} v{self.version}",
                               fix="check the record name (base name, e.g. '101')") from None

    def train_test(self, fold: int) -> tuple[list[str], list[str]]:
        """``(train records, test records)`` with fold ``fold`` held out."""
        if not 0 <= int(fold) < self.k:
            raise DatasetError(f"fold {fold} does not exist; split {self.name} has folds 0..{self.k - 1}")
        test = self.folds[int(fold)]
        held = set(test)
        return [r for r in self.records if r not in held], test

    def patients(self, fold: int | None = None) -> set[str]:
        """Patients in one fold (or in all folds)."""
        return {str(a["patient"]) for a in self.assignments.values() if fold is None or a["fold"] == fold}

    def strata(self) -> dict[str, list[int]]:
        """Per stratum, the number of records in each fold."""
        out: dict[str, list[int]] = {}
        for a in self.assignments.values():
            out.setdefault(str(a["stratum"]), [0] * self.k)[int(a["fold"])] += 1
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, Any]:
        """The JSON-safe content of the split file."""
        return {
            "name": self.name, "version": self.version, "database": self.database,
            "k": self.k, "seed": self.seed, **self.info, "records": self.assignments,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Split":
        """Inverse of :meth:`to_dict`."""
        data = dict(data)
        try:
            return cls(
                name=str(data.pop("name")), version=int(data.pop("version")),
                database=str(data.pop("database")), k=int(data.pop("k")), seed=int(data.pop("seed")),
                assignments={str(r): dict(a) for r, a in data.pop("records").items()}, info=data,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DatasetError(
                f"split data is malformed ({type(exc).__name__}: {exc})",
                fix="regenerate it with `python -m ecgscope.datasets.splits generate`",
            ) from None


def split_path(name: str, version: int = 1, directory: Path | None = None) -> Path:
    """Path of a split file ``<name>.v<version>.json``."""
    return (directory or SPLITS_DIR) / f"{name}.v{int(version)}.json"


def available_splits(directory: Path | None = None) -> dict[str, list[int]]:
    """Shipped split names and their versions."""
    out: dict[str, list[int]] = {}
    for p in sorted((directory or SPLITS_DIR).glob("*.json")):
        m = _FILE.match(p.name)
        if m:
            out.setdefault(m["name"], []).append(int(m["version"]))
    return {k: sorted(v) for k, v in out.items()}


def load_split(name: str, version: int = 1, directory: Path | None = None) -> Split:
    """Load shipped split ``name`` at ``version`` (e.g. ``load_split("mitdb-ds1")``)."""
    path = split_path(name, version, directory)
    if not path.is_file():
        known = ", ".join(f"{n} (v{', v'.join(map(str, v))})" for n, v in available_splits(directory).items())
        raise DatasetError(f"no split {name!r} version {version}", path=path, fix=f"use one of: {known}")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DatasetError(f"split file is not valid JSON ({exc})", path=path,
                           fix="restore it from the package or regenerate it") from None
    return Split.from_dict(data)
