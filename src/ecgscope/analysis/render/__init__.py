"""Report renderers: JSON, a self-contained HTML page and an A4 PDF on calibrated ECG paper.

``render(report, record, out_dir, formats=("json", "html", "pdf"))`` writes
``<stem>.json``, ``<stem>.html`` and ``<stem>.pdf``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, Optional

from ...errors import ECGScopeError

__all__ = ["render", "FORMATS", "output_paths", "parse_formats"]

FORMATS = ("json", "html", "pdf")


def parse_formats(formats: str | Iterable[str]) -> list[str]:
    """``"json,pdf"`` or an iterable -> validated, de-duplicated list."""
    items = formats.split(",") if isinstance(formats, str) else list(formats)
    out = list(dict.fromkeys(x.strip().lower().lstrip(".") for x in items if x.strip()))
    bad = [x for x in out if x not in FORMATS]
    if bad or not out:
        raise ECGScopeError(f"unknown report format(s) {', '.join(bad) or '(none)'}",
                            fix=f"use a comma-separated subset of {','.join(FORMATS)}")
    return out


def output_paths(out_dir: str | Path, stem: str, formats: Iterable[str]) -> dict[str, Path]:
    """Format -> output file."""
    return {f: Path(out_dir) / f"{stem}.{f}" for f in formats}


def render(report, record, out_dir: str | Path, formats: str | Iterable[str] = FORMATS,
           stem: Optional[str] = None) -> dict[str, Path]:
    """Write the report in each format to ``out_dir``; returns format -> path."""
    from .html import write_html
    from .json import write_json
    from .pdf import render_pdf

    stem = stem or (report.record.record_id or "report")
    paths = output_paths(out_dir, stem, parse_formats(formats))
    writers = {"json": lambda p: write_json(report, p), "html": lambda p: write_html(report, record, p),
               "pdf": lambda p: render_pdf(report, record, p)}
    for fmt, path in paths.items():
        writers[fmt](path)
    return paths
