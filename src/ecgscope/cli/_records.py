"""Finding record files in a folder and running a command over each of them."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, TypeVar

from ..errors import ECGScopeError
from ._common import err_console, progress

__all__ = ["RECORD_EXTENSIONS", "find_records", "for_each_record"]

T = TypeVar("T")

#: Extensions of files that are records on their own (a WFDB record by its header).
RECORD_EXTENSIONS = (".hea", ".csv", ".tsv", ".json", ".edf", ".bdf", ".npy", ".npz", ".mat")


def find_records(folder: Path) -> list[Path]:
    """Record files in ``folder`` (not recursive): WFDB headers, then other formats not part of a WFDB record."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in RECORD_EXTENSIONS)
    wfdb_names = {p.stem for p in files if p.suffix.lower() == ".hea"}
    return [p for p in files if p.suffix.lower() == ".hea" or p.stem not in wfdb_names]


def for_each_record(source: Path, work: Callable[[Path], T], verb: str) -> list[T]:
    """``[work(source)]`` for a file; for a folder every record with a progress bar, skipping failures."""
    if not source.is_dir():
        return [work(source)]
    files = find_records(source)
    if not files:
        raise ECGScopeError("the folder holds no ECG records", path=source,
                            fix=f"put records ({', '.join(RECORD_EXTENSIONS)}) there")
    results: list[T] = []
    with progress(transient=True) as bar:
        task = bar.add_task(verb, total=len(files))
        for f in files:
            bar.update(task, description=f"{verb} {f.stem}")
            try:
                results.append(work(f))
            except ECGScopeError as exc:
                err_console.print(f"[yellow]skipped:[/] {exc}", highlight=False, soft_wrap=True)
            bar.advance(task)
    if not results:
        raise ECGScopeError(f"none of the {len(files)} records could be processed", path=source,
                            fix="see the messages above")
    return results
