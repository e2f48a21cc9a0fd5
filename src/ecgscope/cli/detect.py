"""``ecgscope detect FILE|DIR``: find the R peaks of one record or of every record in a folder.

Output (``-o``) by extension: ``.csv`` (``record,sample,time_s,confidence``),
``.json`` (one entry per record), anything else a WFDB annotation file
``<name>.<ext>`` written with ``wfdb.wrann`` (beats labelled ``N``). For a
folder, ``-o`` may also be a directory: each record then gets
``<record>.<--ann-ext>`` there. Without ``-o`` only the summary is printed:
beats found and mean heart rate per record.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from ..errors import ECGScopeError, FormatError
from ..record import Record
from ._common import console
from ._records import find_records, for_each_record
from .info import FORMAT_HELP, FS_HELP, UNITS_HELP, load, read_hints
from .plot import parse_leads

__all__ = ["register", "Detection", "detect_record", "find_records", "mean_heart_rate"]

#: File extensions treated as records when a folder is given (WFDB records by their header).


@dataclass
class Detection:
    """R peaks of one record."""

    record: str
    source: str
    fs: float
    leads: list[str]
    samples: np.ndarray
    confidence: np.ndarray

    @property
    def heart_rate(self) -> float:
        """Mean heart rate in bpm (NaN with fewer than two beats)."""
        return mean_heart_rate(self.samples, self.fs)

    def to_dict(self, method: str) -> dict:
        """JSON-safe dict."""
        hr = self.heart_rate
        return {
            "record": self.record, "source": self.source, "method": method, "fs": self.fs, "leads": self.leads,
            "n_beats": int(self.samples.size), "heart_rate_bpm": None if np.isnan(hr) else round(hr, 2),
            "samples": self.samples.tolist(), "confidence": [round(float(c), 4) for c in self.confidence],
        }


def mean_heart_rate(samples: np.ndarray, fs: float) -> float:
    """Beats per minute from the first to the last beat (NaN with fewer than two)."""
    if samples.size < 2 or samples[-1] <= samples[0]:
        return float("nan")
    return 60.0 * (samples.size - 1) * fs / float(samples[-1] - samples[0])


def detect_record(record: Record, method: str = "ecgscope", leads: list[str] | None = None) -> Detection:
    """Run :func:`ecgscope.signal.find_rpeaks_with_confidence` on ``record`` (NaN gaps masked)."""
    from ..signal import find_rpeaks_with_confidence

    if leads:
        try:
            index = [record.lead_index(int(x) if str(x).lstrip("-").isdigit() else x) for x in leads]
        except KeyError as exc:
            raise ECGScopeError(str(exc).strip("'\""), path=record.metadata.source,
                                fix=f"choose among {', '.join(record.leads)}") from None
    else:
        index = list(range(record.n_leads))
    samples, conf = find_rpeaks_with_confidence(record.signal, record.fs, method=method, leads=index,
                                                nan_policy="mask")
    name = record.metadata.record_id or Path(record.metadata.source or "record").stem
    return Detection(record=str(name), source=str(record.metadata.source or ""), fs=float(record.fs),
                     leads=[record.leads[i] for i in index], samples=samples, confidence=conf)


# --------------------------------------------------------------------------- writers
def _write_csv(results: list[Detection], path: Path) -> None:
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["record", "sample", "time_s", "confidence"])
        for d in results:
            for s, c in zip(d.samples.tolist(), d.confidence.tolist()):
                out.writerow([d.record, s, f"{s / d.fs:.4f}", f"{c:.4f}"])


def _write_json(results: list[Detection], path: Path, method: str) -> None:
    path.write_text(json.dumps({"method": method, "records": [d.to_dict(method) for d in results]}, indent=1))


def _write_wfdb(d: Detection, path: Path) -> Path:
    import wfdb

    name, ext = path.stem, path.suffix.lstrip(".")
    if not re.fullmatch(r"[-\w]+", name) or not re.fullmatch(r"\w+", ext) or ext.lower() in ("hea", "dat"):
        raise FormatError(f"cannot write a WFDB annotation named {path.name!r}", path=path,
                          fix="name it <record>.<annotator> with letters, digits, '_' (e.g. 101.qrs), or use .csv/.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    if d.samples.size == 0:
        raise FormatError("no beats were found, and a WFDB annotation file cannot be empty", path=path,
                          fix="write .csv or .json instead")
    wfdb.wrann(name, ext, d.samples.astype(np.int64), symbol=["N"] * d.samples.size, fs=d.fs,
               write_dir=str(path.parent))
    return path


def _write(results: list[Detection], output: Path, method: str, folder: bool, ann_ext: str) -> list[Path]:
    suffix = output.suffix.lower()
    if suffix == ".csv":
        output.parent.mkdir(parents=True, exist_ok=True)
        _write_csv(results, output)
        return [output]
    if suffix == ".json":
        output.parent.mkdir(parents=True, exist_ok=True)
        _write_json(results, output, method)
        return [output]
    if folder and (output.is_dir() or suffix == ""):
        return [_write_wfdb(d, output / f"{d.record}.{ann_ext}") for d in results if d.samples.size]
    if folder and len(results) > 1:
        raise ECGScopeError(f"cannot write {len(results)} records to one WFDB annotation file", path=output,
                            fix="give a .csv or .json file, or a directory for one annotation file per record")
    return [_write_wfdb(d, output) for d in results]


# --------------------------------------------------------------------------- printing
def _fmt_hr(hr: float) -> str:
    return "-" if np.isnan(hr) else f"{hr:.1f}"


def _print_summary(results: list[Detection], method: str) -> None:
    if len(results) == 1:
        d = results[0]
        console.print(Text(f"{d.record}: {d.samples.size} beats, mean heart rate {_fmt_hr(d.heart_rate)} bpm "
                           f"({method}, leads {', '.join(d.leads)})"))
        return
    table = Table(title=f"R peaks ({method})", title_justify="left")
    for col in ("record", "beats", "mean HR (bpm)", "leads"):
        table.add_column(col, justify="right" if col in ("beats", "mean HR (bpm)") else "left")
    for d in results:
        names = ", ".join(d.leads) if len(d.leads) <= 4 else f"{len(d.leads)} leads"
        table.add_row(Text(d.record), str(d.samples.size), _fmt_hr(d.heart_rate), Text(names))
    console.print(table)
    console.print(f"{len(results)} records, {sum(d.samples.size for d in results)} beats")


def register(app: typer.Typer) -> None:
    """Add the ``detect`` command."""

    @app.command("detect")
    def detect(
        source: Path = typer.Argument(..., metavar="FILE|DIR", help="ECG file (WFDB: the record name) or a folder of records."),
        method: str = typer.Option("ecgscope", "--method", "-m",
                                   help="ecgscope (multi-lead, default), pan_tompkins, hamilton or elgendi."),
        lead: Optional[List[str]] = typer.Option(None, "--lead", "-l",
                                                 help="Leads to use, by name or index, comma-separated or repeated "
                                                      "(default: all for ecgscope, the first for the others)."),
        output: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="peaks.csv, peaks.json, or <record>.<ext> for a WFDB annotation "
                                                   "(a directory for one annotation file per record)."),
        ann_ext: str = typer.Option("qrs", "--ann-ext", help="Annotator extension when -o is a directory."),
        format: Optional[str] = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
        fs: Optional[float] = typer.Option(None, "--fs", help=FS_HELP),
        units: Optional[str] = typer.Option(None, "--units", help=UNITS_HELP),
    ) -> None:
        """Detect R peaks; print the beat count and mean heart rate of each record."""
        from ..signal.rpeaks import RPEAK_METHODS

        if method.lower().replace("-", "_") not in RPEAK_METHODS:
            raise ECGScopeError(f"unknown method {method!r}", fix=f"use one of {', '.join(RPEAK_METHODS)}")
        leads = parse_leads(lead)
        hints = read_hints(fs, units)
        folder = source.is_dir()
        results = for_each_record(source, lambda f: detect_record(load(f, format, **hints)[0], method, leads),
                                  "detecting")
        _print_summary(results, method)
        if output is not None:
            written = _write(results, output, method, folder, ann_ext)
            console.print(Text(f"wrote {', '.join(str(p) for p in written[:3])}"
                               + (f" and {len(written) - 3} more" if len(written) > 3 else "")))
