"""``ecgscope convert IN OUT``: read any supported file, optionally cut/resample, write another format."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..analysis.paper import format_time, select_window
from ..errors import ECGScopeError
from ..io import write
from ._common import console
from .info import FORMAT_HELP, FS_HELP, UNITS_HELP, load_window, read_hints
from .plot import parse_leads

__all__ = ["register", "human_size"]


def human_size(n_bytes: int) -> str:
    """``1536`` -> ``"1.5 KiB"``."""
    size = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GiB"  # pragma: no cover


def register(app: typer.Typer) -> None:
    """Add the ``convert`` command."""

    @app.command("convert")
    def convert(
        src: Path = typer.Argument(..., metavar="IN", help="Input ECG file (for WFDB: the record name)."),
        dst: Path = typer.Argument(..., metavar="OUT", help="Output file; its extension picks the format."),
        to: Optional[str] = typer.Option(None, "--to", "-t",
                                         help="Output format when OUT's extension does not say (wfdb, csv, json, edf, npy)."),
        format: Optional[str] = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
        fs: Optional[float] = typer.Option(None, "--fs", help=FS_HELP),
        units: Optional[str] = typer.Option(None, "--units", help=UNITS_HELP),
        resample: Optional[float] = typer.Option(None, "--resample", "-r", help="Resample to this rate in Hz."),
        leads: Optional[List[str]] = typer.Option(None, "--leads", "-l",
                                                  help="Leads to keep, comma-separated or repeated (default all)."),
        start: float = typer.Option(0.0, "--start", "-s", help="Start of the part to keep, in seconds."),
        duration: Optional[float] = typer.Option(None, "--duration", "-d",
                                                 help="Length of the part to keep in seconds (default: to the end)."),
    ) -> None:
        """Convert a record to another format, optionally cut, resampled or with fewer leads."""
        if resample is not None and not (1.0 <= resample <= 100_000.0):
            raise ECGScopeError(f"--resample {resample:g} Hz is outside 1-100000 Hz", fix="give a rate such as 250 or 500")
        record, name = load_window(src, start, duration, format, **read_hints(fs, units))
        record = select_window(record, 0.0, None, parse_leads(leads))
        fs_in = record.fs
        if resample is not None:
            record = record.resample(resample)
        files = write(record, dst, format=to)
        total = sum(f.stat().st_size for f in files if f.is_file())
        change = f"{fs_in:g} -> {record.fs:g} Hz" if resample is not None and resample != fs_in else f"{record.fs:g} Hz"
        console.print(
            f"read {src} ({name}); wrote {len(files)} file(s), {human_size(total)}: "
            f"{record.n_leads} lead(s) [{', '.join(record.leads)}], {change}, {record.n_samples} samples "
            f"({format_time(record.duration, 3)}) from {format_time(start, 3)}, "
            f"annotators: {', '.join(record.annotations) or 'none'}",
            highlight=False, markup=False, soft_wrap=True,
        )
        for f in files:
            console.print(f"  {f}", highlight=False, markup=False, soft_wrap=True)
