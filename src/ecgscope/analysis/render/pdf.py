"""The printable report: A4 landscape PDF, calibrated ECG paper (25 mm/s, 10 mm/mV at 100 %).

Page 1: record and patient data, key measurements, findings, and a 12-lead
3 x 4 + rhythm strip (12-lead records) or a 2-lead strip. Then one event strip
per finding that has one (AF onset, longest run, couplet, bigeminy, pause ...),
three to a page, with the analysis' beat labels on the trace. Every page is
drawn in millimetres on an exact A4 figure, so printing at 100 % keeps the
paper calibrated.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from ...record import Record
from ..paper import MM_PER_INCH
from ..report import Finding, Report
from .strips import draw_strip, draw_trend, is_12lead, strip_leads
from .text import key_measurements, record_lines, severity_color

__all__ = ["render_pdf", "build_pages", "PAGE_W", "PAGE_H"]

PAGE_W, PAGE_H = 297.0, 210.0  # A4 landscape, mm
MARGIN = 10.0
_CHAR_MM_PER_PT = 0.19  # average glyph width of DejaVu Sans (mm per pt of font size), for wrapping
_STRIPS_PER_PAGE = 2
_SUMMARY = frozenset({"PVC", "APC"})  # findings summarising a whole record: their strips are not shaded


class _Page:
    """An A4 landscape figure addressed in mm from the top-left corner."""

    def __init__(self) -> None:
        from matplotlib.figure import Figure

        self.fig = Figure(figsize=(PAGE_W / MM_PER_INCH, PAGE_H / MM_PER_INCH), facecolor="white")
        self.ax = self.fig.add_axes((0, 0, 1, 1))
        self.ax.set_xlim(0, PAGE_W)
        self.ax.set_ylim(0, PAGE_H)
        self.ax.set_axis_off()

    def text(self, x: float, y_top: float, s: str, size: float = 7.5, **kw):
        return self.ax.text(x, PAGE_H - y_top, s, fontsize=size, va="top", ha=kw.pop("ha", "left"), **kw)

    def rule(self, y_top: float, color: str = "#999999") -> None:
        self.ax.plot([MARGIN, PAGE_W - MARGIN], [PAGE_H - y_top] * 2, color=color, lw=0.5)

    def strip(self, record: Record, report: Report, y_top: float, start: float, duration: float, **kw) -> float:
        """Draw a strip whose top edge is at ``y_top``; returns its height (mm)."""
        from matplotlib.figure import Figure

        probe = Figure().add_subplot()
        w, h = draw_strip(probe, record, report, start, duration, **kw)
        draw_strip(self.ax, record, report, start, duration, x0=(PAGE_W - w) / 2, y0=PAGE_H - y_top - h, **kw)
        return h


def _wrap(text: str, width_mm: float, size: float = 7.5, bold: bool = False) -> list[str]:
    per_char = _CHAR_MM_PER_PT * size * (1.1 if bold else 1.0)
    return textwrap.wrap(text, max(int(width_mm / per_char), 10)) or [""]


def _header(page: _Page, report: Report, n: int, total: int) -> None:
    rid = report.record.record_id or "record"
    page.text(MARGIN, MARGIN - 2, "ECG analysis report", size=13, fontweight="bold")
    page.text(PAGE_W - MARGIN, MARGIN - 1, f"{rid}   ·   page {n} of {total}", size=8, ha="right")
    page.rule(MARGIN + 5.5)
    page.rule(PAGE_H - MARGIN + 1.5)
    page.text(MARGIN, PAGE_H - MARGIN + 2.5, "Paper speed 25 mm/s · gain 10 mm/mV · calibrated when printed on A4 "
              "landscape at 100 % (no fit-to-page). Computer-generated analysis; to be reviewed by a qualified "
              "clinician.", size=6.3, color="#333333")
    page.text(MARGIN, PAGE_H - MARGIN + 5.3,
              f"ecgscope {report.provenance.ecgscope_version} · {report.provenance.created_utc} · "
              f"beat model {report.beats.classifier or 'none'} · rhythm {report.provenance.rhythm_method} · "
              f"input SHA-256 {report.provenance.input_sha256[:16]}…", size=6, color="#666666")


def _table(page: _Page, x: float, y: float, title: str, rows: list[tuple[str, str]], key_w: float = 30.0) -> float:
    page.text(x, y, title, size=8.5, fontweight="bold")
    y += 4.5
    for k, v in rows:
        page.text(x, y, k, size=7.5, color="#333333")
        page.text(x + key_w, y, v, size=7.5)
        y += 3.6
    return y


def _findings(page: _Page, report: Report, findings: list[Finding], x: float, y: float, width: float,
              y_max: float) -> tuple[float, int]:
    """Write findings from ``y`` down to ``y_max``; returns (y reached, number written)."""
    page.text(x, y, "Findings", size=8.5, fontweight="bold")
    y += 4.8
    done = 0
    for f in findings:
        lines = _wrap(f.text, width - 4)
        need = 3.6 * len(lines) + 1.4
        if y + need > y_max:
            break
        page.ax.add_patch(_dot(x + 1.2, PAGE_H - y - 1.3, severity_color(f.severity)))
        page.text(x + 3.5, y, f.title, size=7.5, fontweight="bold")
        page.text(x + width, y, f"{f.severity} · confidence {100 * f.confidence:.0f} %", size=6.5,
                  color="#555555", ha="right")
        y += 3.6
        for line in lines:
            page.text(x + 3.5, y, line, size=7.2, color="#222222")
            y += 3.4
        y += 1.2
        done += 1
    if not findings:
        page.text(x + 3.5, y, "No findings.", size=7.5)
        y += 4
    return y, done


def _dot(x: float, y: float, color: str):
    from matplotlib.patches import Circle

    return Circle((x, y), 1.0, color=color, zorder=5)


def _first_page(page: _Page, record: Record, report: Report) -> list[Finding]:
    twelve = is_12lead(record)
    y0 = MARGIN + 9
    left = _table(page, MARGIN, y0, "Record", record_lines(report), key_w=24)
    mid = _table(page, MARGIN + 92, y0, "Key measurements", key_measurements(report), key_w=34)
    strip_h = 4 * 27.0 if twelve else 2 * 32.0
    strip_top = PAGE_H - MARGIN - 8 - strip_h
    findings_end, done = _findings(page, report, report.findings, MARGIN + 172, y0, PAGE_W - 2 * MARGIN - 172,
                                   strip_top - 2)
    y = max(left, mid)
    rest = report.findings[done:]
    if rest:  # the findings that did not fit in the right column continue below the tables
        findings_end, more = _findings(page, report, rest, MARGIN, y + 2, PAGE_W - 2 * MARGIN, strip_top - 2)
        rest = rest[more:]
    top = max(y, findings_end) + 3
    if strip_top - 10 - top >= 20:
        _trend(page, report, MARGIN, top, PAGE_W - 2 * MARGIN, min(strip_top - 10 - top, 45.0))
    start = _first_readable(report)
    leads = None if twelve else strip_leads(record)
    title = ("12-lead ECG, 3 x 4 with lead II rhythm strip" if twelve else
             f"Rhythm strip, leads {', '.join(record.leads[i] for i in leads)}") + \
        f", {start:.1f}–{start + min(10.0, record.duration):.1f} s · 25 mm/s · 10 mm/mV"
    page.text(MARGIN, strip_top - 4.5, title, size=8, fontweight="bold")
    page.strip(record, report, strip_top, start, min(10.0, record.duration), leads=leads, twelve_lead=twelve)
    return rest


def _trend(page: _Page, report: Report, x: float, y_top: float, w: float, h: float) -> None:
    """The heart-rate trend in a box of ``w`` x ``h`` mm with its top-left corner at ``(x, y_top)``."""
    ax = page.fig.add_axes(((x + 12) / PAGE_W, (PAGE_H - y_top - h + 6) / PAGE_H, (w - 14) / PAGE_W,
                            (h - 10) / PAGE_H))
    draw_trend(ax, report, fontsize=6.5)
    page.text(x, y_top, f"Heart-rate trend (median per {report.heart_rate.bin_s:g} s); AF shaded orange, "
              "unreadable grey", size=8, fontweight="bold")


def _first_readable(report: Report) -> float:
    for q in report.quality:
        if q.readable and q.end_s - q.start_s >= 5.0:
            return q.start_s
    return 0.0


def _event_page(page: _Page, record: Record, report: Report, findings: list[Finding]) -> None:
    y = MARGIN + 9
    for f in findings:
        s = f.strip
        head = _wrap(f"{s.title} — {f.text}", PAGE_W - 2 * MARGIN, 8, bold=True)[:2]
        for line in head:
            page.text(MARGIN, y, line, size=8, fontweight="bold")
            y += 3.8
        hl = (f.start_s, f.end_s) if f.start_s is not None and f.end_s is not None and f.code not in _SUMMARY else None
        h = page.strip(record, report, y, s.start_s, s.duration_s, leads=strip_leads(record), highlight=hl,
                       row_mm=30.0)
        y += h + 7


def _continued_findings_page(page: _Page, report: Report, rest: list[Finding]) -> list[Finding]:
    _, done = _findings(page, report, rest, MARGIN, MARGIN + 9, PAGE_W - 2 * MARGIN, PAGE_H - MARGIN - 4)
    return rest[max(done, 1):]


def build_pages(report: Report, record: Record, max_event_strips: int = 12) -> list:
    """The report's pages as A4-landscape matplotlib figures (also handy for PNG previews)."""
    events = [f for f in report.findings if f.strip is not None][:max_event_strips]
    pages: list[_Page] = []
    first = _Page()
    rest = _first_page(first, record, report)
    pages.append(first)
    while rest:
        page = _Page()
        rest = _continued_findings_page(page, report, rest)
        pages.append(page)
    for i in range(0, len(events), _STRIPS_PER_PAGE):
        page = _Page()
        _event_page(page, record, report, events[i:i + _STRIPS_PER_PAGE])
        pages.append(page)
    for n, page in enumerate(pages, start=1):
        _header(page, report, n, len(pages))
    return [p.fig for p in pages]


def render_pdf(report: Report, record: Record, path: str | Path, max_event_strips: int = 12) -> Path:
    """Write the PDF report of ``record`` to ``path``; returns the path.

    ``max_event_strips`` caps the event strips (findings are already ordered by severity).
    """
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    meta = {"Title": f"ECG analysis report {report.record.record_id or ''}".strip(), "Creator": "ecgscope",
            "Subject": "ECG analysis", "Keywords": "25 mm/s, 10 mm/mV, A4 landscape"}
    with PdfPages(path, metadata=meta) as pdf:
        for fig in build_pages(report, record, max_event_strips):
            pdf.savefig(fig)
    return path
