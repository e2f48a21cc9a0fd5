"""``ecgscope delineate FILE|DIR``: P/QRS/T boundaries and PR, QRS, QT, QTc per record.

Beats come from :func:`ecgscope.signal.find_rpeaks` on the chosen leads (or the
``--reference`` annotator's beats); :func:`ecgscope.signal.delineate` then runs
on the chosen leads (``--block SECONDS`` judges P waves per stretch of a long
record that mixes rhythms; ``--workers N`` delineates the blocks of a long record in N processes).
Prints the record's median intervals; ``-o points.csv``
writes one row per beat and lead (sample positions, -1 when a wave is absent),
``-o result.json`` the intervals per record and per beat plus the points.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table
from rich.text import Text

from .._parallel import process_pool
from ..errors import ECGScopeError
from ._common import console
from ._records import for_each_record
from .hrv import record_beats, record_name
from .info import FORMAT_HELP, FS_HELP, UNITS_HELP, read_hints
from .plot import parse_leads

__all__ = ["register", "DelineatedRecord", "delineate_record"]

_SUMMARY = ("HR", "PR", "QRS", "QT", "QTc_Bazett", "QTc_Fridericia")


@dataclass
class DelineatedRecord:
    """Delineation and intervals of one record."""

    record: str
    delineation: object  # ecgscope.signal.delineation.Delineation
    intervals: object  # ecgscope.signal.delineation.Intervals

    def to_dict(self) -> dict:
        """JSON-safe dict: intervals (summary + per beat) and the points of every lead."""
        d = self.delineation
        return {
            "record": self.record, "fs": d.fs, "leads": d.leads, "rpeaks": d.rpeaks.tolist(),
            "intervals": self.intervals.to_dict(),
            "points": {lead: {k: v.tolist() for k, v in d.lead(i).items()} for i, lead in enumerate(d.leads)},
        }


def delineate_record(path: Path, *, leads=None, reference=None, method="ecgscope", format=None,
                     block_s: float | None = None, executor=None, **hints) -> DelineatedRecord:
    """Read ``path`` (NaN gaps interpolated), find or take its beats, delineate (P waves judged per ``block_s``
    seconds when given; blocks shared out to ``executor`` when given) and measure."""
    from ..io import read
    from ..signal.delineation import delineate, intervals

    record = read(path, format=format, nonfinite="interpolate", **hints)
    rpeaks, _, index = record_beats(record, leads, reference)
    names = [record.leads[i] for i in index]
    d = delineate(record.signal[index], record.fs, rpeaks, method=method, leads=names, block_s=block_s,
                  executor=executor)
    return DelineatedRecord(record_name(record, path), d, intervals(d))


def _fmt(value) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.0f}"


def _print(results: list[DelineatedRecord]) -> None:
    table = Table(title="Intervals (ms; medians over beats)", title_justify="left")
    for col in ("record", "beats", *_SUMMARY):
        table.add_column(col.replace("_", " "), justify="left" if col == "record" else "right")
    for r in results:
        s = r.intervals.summary
        table.add_row(Text(r.record), str(r.delineation.n_beats), *[_fmt(s[k]) for k in _SUMMARY])
    console.print(table)


def _write(results: list[DelineatedRecord], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    suffix = output.suffix.lower()
    if suffix == ".json":
        payload = [r.to_dict() for r in results]
        output.write_text(json.dumps(payload[0] if len(payload) == 1 else payload, indent=1, allow_nan=False))
    elif suffix == ".csv":
        with open(output, "w", newline="") as fh:
            writer = None
            for r in results:
                frame = r.delineation.to_frame()
                frame.insert(0, "record", r.record)
                if writer is None:
                    writer = csv.writer(fh)
                    writer.writerow(frame.columns)
                writer.writerows(frame.itertuples(index=False))
    else:
        raise ECGScopeError(f"cannot write delineation results as {suffix or 'a file without extension'}",
                            path=output, fix="name the output .csv or .json")


def register(app: typer.Typer) -> None:
    """Add the ``delineate`` command."""

    @app.command("delineate")
    def delineate_command(
        source: Path = typer.Argument(..., metavar="FILE|DIR", help="ECG file (WFDB: the record name) or a folder."),
        lead: Optional[List[str]] = typer.Option(None, "--lead", "-l",
                                                 help="Leads to delineate, by name or index (default: all)."),
        reference: Optional[str] = typer.Option(None, "--reference", "-r",
                                                help="Use this annotator's beats (e.g. atr) instead of detecting."),
        method: str = typer.Option("ecgscope", "--method", "-m", help="ecgscope (per beat) or template."),
        block: Optional[float] = typer.Option(
            None, "--block", min=1.0,
            help="Judge P waves per this many seconds (e.g. 10 for a Holter record mixing sinus rhythm with AF "
                 "or noise; default: over the whole record, up to 2,048 beats)."),
        workers: int = typer.Option(1, "--workers", "-j", min=1,
                                    help="Processes for the blocks of a long record (same points; worth it for "
                                         "hours of signal)."),
        output: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="points.csv (per beat and lead) or result.json."),
        format: Optional[str] = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
        fs: Optional[float] = typer.Option(None, "--fs", help=FS_HELP),
        units: Optional[str] = typer.Option(None, "--units", help=UNITS_HELP),
    ) -> None:
        """Delineate P, QRS and T waves; print PR, QRS, QT and QTc per record."""
        from ..signal.delineation import DELINEATION_METHODS

        if method not in DELINEATION_METHODS:
            raise ECGScopeError(f"unknown --method {method!r}", fix=f"use one of {', '.join(DELINEATION_METHODS)}")
        leads = parse_leads(lead)
        hints = read_hints(fs, units)
        with process_pool(workers) as pool:
            results = for_each_record(source, lambda p: delineate_record(p, leads=leads, reference=reference,
                                                                         method=method, format=format, block_s=block,
                                                                         executor=pool, **hints),
                                      "delineating")
        _print(results)
        if output is not None:
            _write(results, output)
            console.print(Text(f"wrote {output}"))
