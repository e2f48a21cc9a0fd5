"""Check a local copy of a database: checksums, or complete and readable records.

With a ``SHA256SUMS.txt`` every expected file is hashed (the expected files
are those a download asked for, listed in ``.ecgscope-download.json``, or
every file in the sums). Without one, every record (from ``RECORDS``, else
every ``*.hea``) must have a header that parses and signal files that exist
and are long enough for the samples the header promises.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import DatasetError
from .remote import MANIFEST_FILE, SUMS_FILE, parse_sha256sums, sha256_file
from .paths import natural_key, parse_records_file
from .registry import DATABASES, Database

__all__ = ["FileCheck", "VerifyReport", "verify"]

#: Bytes per sample of the common WFDB storage formats.
_BYTES_PER_SAMPLE = {
    8: 1.0, 16: 2.0, 24: 3.0, 32: 4.0, 61: 2.0, 80: 1.0, 160: 2.0, 212: 1.5, 310: 4 / 3, 311: 4 / 3,
}


@dataclass
class FileCheck:
    """Result for one file or record: ``status`` is ``ok`` or what is wrong."""

    name: str
    status: str
    detail: str = ""

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return self.status == "ok"


@dataclass
class VerifyReport:
    """All checks of one folder; ``method`` is ``"sha256"`` or ``"records"``."""

    directory: Path
    method: str
    checks: list[FileCheck] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every check passed (and there was something to check)."""
        return bool(self.checks) and all(c.ok for c in self.checks)

    def failures(self) -> list[FileCheck]:
        """The checks that failed."""
        return [c for c in self.checks if not c.ok]

    def counts(self) -> dict[str, int]:
        """Number of checks per status."""
        out: dict[str, int] = {}
        for c in self.checks:
            out[c.status] = out.get(c.status, 0) + 1
        return out


def _expected_files(directory: Path, sums: dict[str, str]) -> dict[str, str]:
    manifest = directory / MANIFEST_FILE
    if manifest.is_file():
        try:
            listed = json.loads(manifest.read_text(encoding="utf-8")).get("files", {})
        except (OSError, ValueError):
            listed = None
        if isinstance(listed, dict):
            return {rel: sums[rel] for rel in listed if rel in sums}
    return {rel: h for rel, h in sums.items() if rel != SUMS_FILE}


def _verify_sums(directory: Path, sums_path: Path) -> VerifyReport:
    sums = parse_sha256sums(sums_path.read_text(encoding="utf-8", errors="replace"), sums_path)
    report = VerifyReport(directory, "sha256")
    for rel, digest in sorted(_expected_files(directory, sums).items(), key=lambda kv: natural_key(kv[0])):
        path = directory / rel
        if not path.is_file():
            partial = path.with_name(path.name + ".part")
            detail = "partial download (.part) present" if partial.is_file() else ""
            report.checks.append(FileCheck(rel, "missing", detail))
            continue
        got = sha256_file(path)
        detail = f"sha256 {got[:12]}..., expected {digest[:12]}..."
        report.checks.append(FileCheck(rel, "ok") if got == digest else FileCheck(rel, "mismatch", detail))
    return report


def _record_list(directory: Path, db: Database | None) -> list[str]:
    names = [db.records_file] if db is not None else []
    for rel in dict.fromkeys(names + ["RECORDS"]):
        path = directory / rel
        if path.is_file():
            folder = Path(rel).parent.as_posix()
            prefix = "" if folder == "." else folder + "/"
            return [prefix + r for r in parse_records_file(path)]
    return sorted((p.relative_to(directory).with_suffix("").as_posix() for p in directory.rglob("*.hea")),
                  key=natural_key)


def _check_record(directory: Path, rec: str) -> FileCheck:
    import wfdb

    header = directory / (rec + ".hea")
    if not header.is_file():
        return FileCheck(rec, "missing", f"{rec}.hea is missing")
    try:
        h = wfdb.rdheader(str(directory / rec))
    except Exception as exc:  # wfdb raises many types on a bad header
        return FileCheck(rec, "bad header", f"{type(exc).__name__}: {str(exc)[:100]}")
    if not h.n_sig:
        return FileCheck(rec, "ok", "no signals")
    need: dict[str, float] = {}
    for fname, fmt, offset in zip(h.file_name, h.fmt, h.byte_offset or [None] * h.n_sig):
        per = _BYTES_PER_SAMPLE.get(int(fmt)) if str(fmt).isdigit() else None
        if fname == "~":
            continue
        if per is None or h.sig_len is None:
            need.setdefault(fname, 0.0)
            continue
        need[fname] = need.get(fname, float(offset or 0)) + per * h.sig_len
    for fname, nbytes in need.items():
        path = header.parent / fname
        if not path.is_file():
            return FileCheck(rec, "missing", f"signal file {fname} is missing")
        if path.stat().st_size + 1 < int(nbytes):
            return FileCheck(rec, "truncated", f"{fname} has {path.stat().st_size} bytes, "
                                               f"the header needs {int(nbytes)}")
    return FileCheck(rec, "ok")


def verify(directory, database: str | None = None) -> VerifyReport:
    """Verify the local copy in ``directory`` (a database folder such as ``<root>/mitdb``).

    Uses ``SHA256SUMS.txt`` when present, else checks the records. ``database``
    (a registry name) says where RECORDS lives; by default it is guessed from
    the folder name.
    """
    directory = Path(directory).expanduser()
    if not directory.is_dir():
        raise DatasetError("is not a folder", path=directory,
                           fix="give the database folder, e.g. ~/.cache/ecgscope/datasets/mitdb")
    sums_path = directory / SUMS_FILE
    if sums_path.is_file():
        return _verify_sums(directory, sums_path)
    db = DATABASES.get(database or directory.name)
    report = VerifyReport(directory, "records")
    report.checks = [_check_record(directory, rec) for rec in _record_list(directory, db)]
    return report
