"""``ecgscope info FILE``: what a record holds (leads, fs, duration, annotations, metadata).

Also home of :func:`load` and :func:`load_window`, the reading helpers the
``convert`` and ``plot`` commands share: format hints from options, NaN
samples kept (a viewer should show a record, not refuse it), and a window
read straight from the file when the format can read part of a file.
"""

from __future__ import annotations

import inspect
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.table import Table
from rich.text import Text

from ..analysis.paper import format_time, select_window
from ..errors import ECGScopeError
from ..io import read
from ..io.registry import detect_format, format_module, resolve_path
from ..record import Record
from ._common import console

__all__ = ["register", "load", "load_window", "read_hints", "summary"]

FORMAT_HELP = "Input format (wfdb, mat, csv, json, edf, npy); detected from the file when omitted."
FS_HELP = "Sampling rate in Hz, for files that do not store it."
UNITS_HELP = "Units of the stored values (mV, uV, V), for files that do not say."


def read_hints(fs: float | None = None, units: str | None = None) -> dict:
    """Reader hints from command-line options, leaving out those not given."""
    return {k: v for k, v in (("fs", fs), ("units", units)) if v is not None}


def load(path, format: str | None = None, **hints) -> tuple[Record, str]:
    """Read ``path`` with ``hints``; NaN samples are kept. Returns ``(record, format name)``."""
    p = resolve_path(path)
    name = format or detect_format(p)
    return read(p, format=name, nonfinite="keep", **hints), name


def _reads_part(name: str) -> bool:
    params = inspect.signature(format_module(name).read).parameters
    return "sampfrom" in params and "sampto" in params


def load_window(path, start: float = 0.0, duration: float | None = None, format: str | None = None,
                **hints) -> tuple[Record, str]:
    """The window ``[start, start + duration)`` s of a file as a record starting at 0.

    Formats whose reader takes ``sampfrom``/``sampto`` (WFDB) read only the
    window, so a 24-h Holter costs what its window costs; others are read
    whole and cut. A start past the end raises
    :class:`~ecgscope.errors.ECGScopeError`.
    """
    p = resolve_path(path)
    name = format or detect_format(p)
    if (start > 0 or duration is not None) and start >= 0 and _reads_part(name):
        probe = read(p, format=name, nonfinite="keep", sampto=1, **_no_annotations(name), **hints)
        s0 = int(round(start * probe.fs))
        n = None if duration is None else int(round(duration * probe.fs))
        if n is None or n > 0:
            # The window, else (it runs past the end) the rest of the file from its start.
            for stop in dict.fromkeys([None if n is None else s0 + n, None]):
                try:
                    part = read(p, format=name, nonfinite="keep", sampfrom=s0, sampto=stop, **hints)
                except ECGScopeError:
                    continue
                if part.n_samples > 0:
                    return select_window(part, 0.0, duration), name
    # Formats without partial reads, and starts past the end (read whole to report the length).
    record = read(p, format=name, nonfinite="keep", **hints)
    return select_window(record, start, duration), name


def _no_annotations(name: str) -> dict:
    params = inspect.signature(format_module(name).read).parameters
    return {"annotators": []} if "annotators" in params else {}


# ------------------------------------------------------------------- summary
def summary(record: Record, format: str | None = None) -> dict:
    """JSON-safe description: :meth:`Record.to_dict` plus format and h:mm:ss duration."""
    out = record.to_dict()
    out["format"] = format
    out["source"] = record.metadata.source
    out["duration_hms"] = format_time(record.duration, 3)
    return out


def _fmt(value, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return str(value)


def _add(table: Table, *values) -> None:
    """Add a row of plain text (file content is never read as Rich markup)."""
    table.add_row(*(Text(str(v)) for v in values))


def _print_tables(record: Record, info: dict) -> None:
    md = record.metadata
    top = Table(title=Text(f"ECG record {md.record_id or ''}".strip()), show_header=False, title_justify="left")
    top.add_column(style="bold")
    top.add_column()
    _add(top, "file", str(md.source or "-"))
    _add(top, "format", info["format"] or "-")
    _add(top, "sampling rate", f"{record.fs:g} Hz")
    _add(top, "duration", f"{info['duration_hms']} ({record.n_samples} samples)")
    _add(top, "leads", f"{record.n_leads}: {', '.join(record.leads)}")
    if md.start_time:
        _add(top, "start", md.start_time)
    _add(top, "patient", md.patient_id or "-")
    _add(top, "age", _fmt(md.age))
    _add(top, "sex", md.sex or "-")
    if md.database:
        _add(top, "database", md.database)
    for i, dx in enumerate(md.diagnoses):
        _add(top, "diagnoses" if i == 0 else "", dx)
    for i, c in enumerate(md.comments):
        _add(top, "comments" if i == 0 else "", c)
    console.print(top)

    leads = Table(title="Leads", title_justify="left")
    for col in ("#", "lead", "original", "units", "gain", "min mV", "max mV", "NaN"):
        leads.add_column(col, justify="right" if col in ("#", "gain", "min mV", "max mV", "NaN") else "left")
    for i, st in enumerate(info["lead_stats"]):
        units = md.units[i] if i < len(md.units) else "mV"
        gain = md.gain[i] if i < len(md.gain) else None
        _add(leads, str(i), st["lead"], st["original"], units, _fmt(gain), _fmt(st["min_mv"], 3),
                      _fmt(st["max_mv"], 3), str(st["nonfinite"]))
    console.print(leads)

    if record.annotations:
        ann = Table(title="Annotations", title_justify="left")
        ann.add_column("annotator")
        ann.add_column("count", justify="right")
        ann.add_column("by symbol")
        for name, a in info["annotations"].items():
            by = "  ".join(f"{s or '(empty)'}: {n}" for s, n in a["by_symbol"].items())
            _add(ann, name, str(a["count"]), by)
        console.print(ann)
    else:
        console.print("Annotations: none", markup=False)


def register(app: typer.Typer) -> None:
    """Add the ``info`` command."""

    @app.command("info")
    def info(
        file: Path = typer.Argument(..., help="ECG file (for WFDB: the record name, with or without .hea)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON (Record.to_dict() plus format) instead of tables."),
        format: Optional[str] = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
        fs: Optional[float] = typer.Option(None, "--fs", help=FS_HELP),
        units: Optional[str] = typer.Option(None, "--units", help=UNITS_HELP),
    ) -> None:
        """Show leads, sampling rate, duration, units, annotations and metadata of a record."""
        record, name = load(file, format, **read_hints(fs, units))
        data = summary(record, name)
        if as_json:
            sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        else:
            _print_tables(record, data)
