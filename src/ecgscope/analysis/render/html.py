"""A self-contained HTML report: inline CSS, strips as PNG data URIs, the trend as inline SVG; no network."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Optional

from ...record import Record
from ..report import Report
from .strips import draw_trend, is_12lead, strip_figure, strip_leads
from .text import SEVERITY_COLORS, fmt, key_measurements, record_lines

__all__ = ["render_html", "write_html"]

_HRV_KEYS = ("MeanNN", "SDNN", "RMSSD", "pNN50", "LF", "HF", "LFHF", "SD1", "SD2")
_DPI = 110


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _trend_svg(report: Report) -> Optional[str]:
    """The heart-rate trend as an inline SVG element."""
    from matplotlib.figure import Figure

    if not any(v is not None for v in report.heart_rate.hr_bpm):
        return None
    fig = Figure(figsize=(10, 2.2))
    draw_trend(fig.add_axes((0.06, 0.2, 0.92, 0.75)), report)
    buf = io.StringIO()
    fig.savefig(buf, format="svg")
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _strips(report: Report, record: Record, max_strips: int) -> list[dict]:
    twelve = is_12lead(record)
    first = next((q.start_s for q in report.quality if q.readable), 0.0)
    dur = min(10.0, record.duration)
    out = [{"title": ("12-lead ECG, 3 x 4 with rhythm strip" if twelve else "Rhythm strip")
            + f", {first:.1f}–{first + dur:.1f} s",
            "png": _png(strip_figure(record, report, first, dur, twelve_lead=twelve,
                                     leads=None if twelve else strip_leads(record)))}]
    for f in [f for f in report.findings if f.strip is not None][:max_strips]:
        out.append({"title": f"{f.strip.title} — {f.title}",
                    "png": _png(strip_figure(record, report, f.strip.start_s, f.strip.duration_s,
                                             leads=strip_leads(record)))})
    return out


def render_html(report: Report, record: Optional[Record] = None, max_strips: int = 12) -> str:
    """The report as one HTML page; strips are included when ``record`` is given."""
    import jinja2

    # The template is a .txt file so the package data globs of pyproject.toml ship it.
    env = jinja2.Environment(loader=jinja2.PackageLoader("ecgscope.analysis.render", "templates"), autoescape=True)
    template = env.get_template("report.html.txt")
    params = json.dumps(report.provenance.parameters, default=str)
    return template.render(
        report=report, record_rows=record_lines(report), measurement_rows=key_measurements(report),
        color=lambda s: SEVERITY_COLORS.get(s, "#888"), fmt=fmt, hrv_keys=_HRV_KEYS, params=params,
        strips=_strips(report, record, max_strips) if record is not None else [],
        trend_svg=_trend_svg(report))


def write_html(report: Report, record: Optional[Record], path: str | Path) -> Path:
    """Write :func:`render_html` to ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, record), encoding="utf-8")
    return path
