"""``ecgscope plot FILE -o out.png|pdf|svg``: a calibrated ECG-paper printout.

The drawing itself is :func:`ecgscope.analysis.paper.plot_ecg`; this module
reads only the requested window, checks the output type and reports the scale.
"""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from ..analysis.paper import DEFAULT_DURATION, MM_PER_INCH, format_time, plot_ecg, select_window
from ..errors import ECGScopeError
from ._common import console
from .info import FORMAT_HELP, FS_HELP, UNITS_HELP, load_window, read_hints

__all__ = ["register", "parse_leads", "OUTPUT_TYPES"]

#: Output extensions and the matplotlib backend format they map to.
OUTPUT_TYPES = {".png": "png", ".pdf": "pdf", ".svg": "svg"}


def parse_leads(values: Optional[List[str]]) -> list[str] | None:
    """``["II,V1", "V5"]`` -> ``["II", "V1", "V5"]``; ``None`` when no lead was given."""
    if not values:
        return None
    out = [x.strip() for v in values for x in v.split(",") if x.strip()]
    return out or None


def output_type(path: Path) -> str:
    """Matplotlib format for ``path`` from its extension, or an error naming the choices."""
    kind = OUTPUT_TYPES.get(path.suffix.lower())
    if kind is None:
        raise ECGScopeError(f"cannot write a plot as {path.suffix or 'a file without extension'}", path=path,
                            fix="name the output .png, .pdf or .svg")
    return kind


def register(app: typer.Typer) -> None:
    """Add the ``plot`` command."""

    @app.command("plot")
    def plot(
        file: Path = typer.Argument(..., help="ECG file (for WFDB: the record name, with or without .hea)."),
        output: Path = typer.Option(..., "--output", "-o", help="Output image: .png, .pdf or .svg."),
        start: float = typer.Option(0.0, "--start", "-s", help="Window start in seconds."),
        duration: Optional[float] = typer.Option(None, "--duration", "-d",
                                                 help=f"Window length in seconds (default {DEFAULT_DURATION:g})."),
        leads: Optional[List[str]] = typer.Option(None, "--leads", "-l",
                                                  help="Leads to draw, comma-separated or repeated (default all)."),
        layout: str = typer.Option("auto", "--layout",
                                   help="auto (12lead when all 12 standard leads are drawn), 12lead or rows."),
        speed: float = typer.Option(25.0, "--speed", help="Paper speed in mm/s."),
        gain: float = typer.Option(10.0, "--gain", help="Amplitude in mm/mV."),
        dpi: int = typer.Option(200, "--dpi", help="PNG resolution (1 mm = dpi/25.4 px)."),
        annotations: bool = typer.Option(False, "--annotations", "-a",
                                         help="Draw the annotation symbols of every annotator above the trace."),
        annotator: Optional[List[str]] = typer.Option(None, "--annotator",
                                                      help="Draw only this annotator's symbols (repeatable)."),
        row_seconds: Optional[float] = typer.Option(None, "--row-seconds",
                                                    help="Seconds per row in the rows layout (default: 250 mm of paper)."),
        title: Optional[str] = typer.Option(None, "--title", help="Header line (default: record, fs, scale, window)."),
        format: Optional[str] = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
        fs: Optional[float] = typer.Option(None, "--fs", help=FS_HELP),
        units: Optional[str] = typer.Option(None, "--units", help=UNITS_HELP),
    ) -> None:
        """Draw a record on calibrated ECG paper (25 mm/s, 10 mm/mV at 100 % scale)."""
        kind = output_type(output)
        if dpi < 10 or dpi > 2400:
            raise ECGScopeError(f"dpi {dpi} is outside 10-2400", fix="use e.g. --dpi 200 or 300")
        window_s = DEFAULT_DURATION if duration is None else duration
        record, _ = load_window(file, start, window_s, format, **read_hints(fs, units))
        record = select_window(record, 0.0, None, parse_leads(leads))
        marks = annotator if annotator else (True if annotations else None)
        fig = plot_ecg(record, 0.0, window_s, layout=layout, speed=speed, gain=gain, annotations=marks,
                       row_seconds=row_seconds, title=title, time_offset=start)
        output.parent.mkdir(parents=True, exist_ok=True)
        meta = {"Title": f"ECG {record.metadata.record_id or file.name}"} if kind in ("pdf", "svg") else None
        try:
            fig.savefig(output, format=kind, dpi=dpi, metadata=meta)
        except OSError as exc:
            raise ECGScopeError(f"cannot write the plot ({exc.strerror or exc})", path=output,
                                fix="check the folder exists and is writable") from None
        geo = fig.ecg_layout
        w, h = fig.get_size_inches() * MM_PER_INCH
        scale = f"{dpi} dpi, 1 mm = {dpi / MM_PER_INCH:.2f} px" if kind == "png" else "print at 100 %"
        console.print(
            f"wrote {output} ({kind.upper()}, {w:.0f} x {h:.0f} mm, {scale}): {geo.name} layout, "
            f"{speed:g} mm/s, {gain:g} mm/mV, leads {', '.join(record.leads)}, "
            f"{format_time(start, 2)} - {format_time(start + min(window_s, record.duration), 2)}",
            highlight=False, markup=False, soft_wrap=True,
        )
