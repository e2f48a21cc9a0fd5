"""``ecgscope hrv FILE|DIR``: heart-rate variability of one record or of every record in a folder.

Beats come from :func:`ecgscope.signal.find_rpeaks` on the chosen leads, or
with ``--reference atr`` from the record's beat annotations (non-normal beats
are then excluded from the NN series). Prints the main indices per record;
``--json`` prints every index as JSON instead, ``-o`` writes a ``.csv`` (one row
per record) or ``.json`` file. Also provides the folder loop shared with
``ecgscope delineate``.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import List, Optional

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from ..errors import ECGScopeError
from ..record import Record
from ._common import console
from ._records import for_each_record
from .info import FORMAT_HELP, FS_HELP, UNITS_HELP, read_hints
from .plot import parse_leads

__all__ = ["register", "record_beats", "record_name", "hrv_record", "SUMMARY_KEYS"]

#: Indices shown in the table (all are in the JSON / CSV output).
SUMMARY_KEYS = ("HRV_MeanNN", "HRV_SDNN", "HRV_RMSSD", "HRV_pNN50", "HRV_LF", "HRV_HF", "HRV_LFHF",
                "HRV_SD1", "HRV_SD2", "HRV_SampEn", "HRV_DFA_alpha1")


def record_name(record: Record, path: Path) -> str:
    """The record id, or the file stem."""
    return str(record.metadata.record_id or path.stem)


def _lead_indices(record: Record, leads: list[str] | None) -> list[int]:
    if not leads:
        return list(range(record.n_leads))
    try:
        return [record.lead_index(int(x) if str(x).lstrip("-").isdigit() else x) for x in leads]
    except KeyError as exc:
        raise ECGScopeError(str(exc).strip("'\""), path=record.metadata.source,
                            fix=f"choose among {', '.join(record.leads)}") from None


def record_beats(record: Record, leads: list[str] | None = None,
                 reference: str | None = None) -> tuple[np.ndarray, np.ndarray | None, list[int]]:
    """``(rpeaks, labels or None, lead indices)``: detected beats, or the ``reference`` annotator's."""
    index = _lead_indices(record, leads)
    if reference:
        from ..evaluation.matching import BEAT_SYMBOLS

        ann = record.annotations.get(reference)
        if ann is None:
            have = ", ".join(record.annotations) or "none"
            raise ECGScopeError(f"the record has no {reference!r} annotations (it has: {have})",
                                path=record.metadata.source, fix="drop --reference to detect the beats")
        keep = np.isin(ann.symbol, list(BEAT_SYMBOLS))
        return ann.sample[keep], ann.symbol[keep], index
    from ..signal.rpeaks import find_rpeaks

    return find_rpeaks(record.signal, record.fs, leads=index, nan_policy="mask"), None, index




def hrv_record(path: Path, *, leads=None, reference=None, clean="lipponen", method="welch",
               format=None, **hints) -> dict:
    """All HRV indices of the record at ``path`` plus ``record`` and ``n_beats``."""
    from ..io import read
    from ..signal.heart_rate_variability import hrv

    record = read(path, format=format, nonfinite="keep", **hints)
    rpeaks, labels, _ = record_beats(record, leads, reference)
    try:
        values = hrv(rpeaks, record.fs, labels=labels, clean=clean, method=method)
    except ECGScopeError as exc:
        raise ECGScopeError(exc.problem, path=path, fix=exc.fix) from None
    return {"record": record_name(record, path), "n_beats": int(np.size(rpeaks)), **values}


def _clean_json(value):
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _write(rows: list[dict], output: Path) -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    if output.suffix.lower() == ".json":
        output.write_text(json.dumps([{k: _clean_json(v) for k, v in r.items()} for r in rows], indent=1))
    elif output.suffix.lower() == ".csv":
        with open(output, "w", newline="") as fh:
            writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    else:
        raise ECGScopeError(f"cannot write HRV results as {output.suffix or 'a file without extension'}",
                            path=output, fix="name the output .csv or .json")


def _fmt(value: float) -> str:
    return "-" if not np.isfinite(value) else f"{value:.4g}"


def _print_table(rows: list[dict]) -> None:
    if len(rows) == 1:  # one record: every index, one per line
        r = rows[0]
        table = Table(title=f"Heart-rate variability of {r['record']} ({r['n_beats']} beats)", title_justify="left")
        table.add_column("index")
        table.add_column("value", justify="right")
        for key, value in r.items():
            if key.startswith("HRV_"):
                table.add_row(key.removeprefix("HRV_"), _fmt(value))
        console.print(table)
        return
    table = Table(title="Heart-rate variability (ms, ms², %)", title_justify="left")
    table.add_column("record")
    table.add_column("beats", justify="right")
    for key in SUMMARY_KEYS:
        table.add_column(key.removeprefix("HRV_"), justify="right")
    for r in rows:
        table.add_row(Text(r["record"]), str(r["n_beats"]), *[_fmt(r[k]) for k in SUMMARY_KEYS])
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``hrv`` command."""

    @app.command("hrv")
    def hrv_command(
        source: Path = typer.Argument(..., metavar="FILE|DIR", help="ECG file (WFDB: the record name) or a folder."),
        lead: Optional[List[str]] = typer.Option(None, "--lead", "-l",
                                                 help="Leads for beat detection, by name or index (default: all)."),
        reference: Optional[str] = typer.Option(None, "--reference", "-r",
                                                help="Use this annotator's beats (e.g. atr) instead of detecting."),
        clean: str = typer.Option("lipponen", "--clean", help="Artefact correction: lipponen, median or none."),
        method: str = typer.Option("welch", "--method", "-m", help="Spectrum: welch (4-Hz cubic) or lomb."),
        as_json: bool = typer.Option(False, "--json", help="Print every index as JSON."),
        output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write hrv.csv or hrv.json."),
        format: Optional[str] = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
        fs: Optional[float] = typer.Option(None, "--fs", help=FS_HELP),
        units: Optional[str] = typer.Option(None, "--units", help=UNITS_HELP),
    ) -> None:
        """Heart-rate variability: time, frequency and non-linear indices per record."""
        from ..signal.heart_rate_variability import CLEAN_METHODS, FREQ_METHODS

        if clean not in CLEAN_METHODS:
            raise ECGScopeError(f"unknown --clean {clean!r}", fix=f"use one of {', '.join(CLEAN_METHODS)}")
        if method not in FREQ_METHODS:
            raise ECGScopeError(f"unknown --method {method!r}", fix=f"use one of {', '.join(FREQ_METHODS)}")
        leads = parse_leads(lead)
        hints = read_hints(fs, units)
        rows = for_each_record(source, lambda p: hrv_record(p, leads=leads, reference=reference, clean=clean,
                                                            method=method, format=format, **hints), "HRV")
        if as_json:
            payload = [{k: _clean_json(v) for k, v in r.items()} for r in rows]
            typer.echo(json.dumps(payload[0] if not source.is_dir() else payload, indent=1))
        else:
            _print_table(rows)
        if output is not None:
            _write(rows, output)
            if not as_json:
                console.print(Text(f"wrote {output}"))
