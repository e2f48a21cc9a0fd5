"""Renderers: valid JSON, self-contained HTML, A4-landscape PDF with event pages."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from ecgscope.analysis.pipeline import analyze
from ecgscope.analysis.render import parse_formats, render
from ecgscope.analysis.render.json import read_json
from ecgscope.analysis.render.pdf import PAGE_H, PAGE_W, build_pages
from ecgscope.errors import ECGScopeError
from ecgscope.record import Record
from ecgscope.synthesis import simulate, simulate_demo

sys.path.insert(0, str(Path(__file__).parent))
from _standin import truth_standin  # noqa: E402  (TEST-ONLY stand-in classifier)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    record = simulate_demo(seed=1)
    report = analyze(record, beat_model=truth_standin)
    out = tmp_path_factory.mktemp("reports")
    return record, report, render(report, record, out, stem="demo")


def _pdf_pages(data: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page[^s]", data))


def test_json_valid_and_round_trips(written):
    _, report, paths = written
    data = json.loads(paths["json"].read_text())
    assert data["schema_version"] == "1.0" and data["record"]["record_id"] == "sim-demo-1"
    assert read_json(paths["json"]) == report


def test_html_self_contained(written):
    _, report, paths = written
    html = paths["html"].read_text()
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "Atrial fibrillation" in html and "<svg" in html
    assert html.count("data:image/png;base64,") >= 3
    assert not re.search(r"""(src|href)=["']https?://""", html)
    assert "25 mm/s" in html


def test_pdf_header_pages_and_size(written):
    _, report, paths = written
    data = paths["pdf"].read_bytes()
    assert data.startswith(b"%PDF-")
    assert _pdf_pages(data) >= 2
    box = re.search(rb"/MediaBox\s*\[\s*0\s+0\s+([\d.]+)\s+([\d.]+)\s*\]", data)
    w_pt, h_pt = float(box.group(1)), float(box.group(2))
    assert w_pt == pytest.approx(PAGE_W / 25.4 * 72, abs=0.5) and h_pt == pytest.approx(PAGE_H / 25.4 * 72, abs=0.5)


def test_pdf_pages_hold_event_strips(written):
    record, report, _ = written
    pages = build_pages(report, record)
    strips = [f for f in report.findings if f.strip is not None]
    assert len(pages) >= 1 + (len(strips) + 1) // 2
    text = " ".join(t.get_text() for fig in pages for ax in fig.axes for t in ax.texts)
    assert "25 mm/s" in text and "10 mm/mV" in text and "Atrial fibrillation onset" in text


def test_twelve_lead_first_page():
    record = simulate(duration=10.0, fs=500.0, n_leads=12, seed=2, noise=30.0)
    report = analyze(record, beat_model=None)
    pages = build_pages(report, record)
    labels = {t.get_text() for t in pages[0].axes[0].texts}
    assert {"I", "aVR", "V1", "V6"} <= labels


def test_unreadable_record_renders(tmp_path):
    record = Record(signal=np.zeros((1, 2500), np.float32), fs=250.0)
    report = analyze(record, beat_model=None)
    paths = render(report, record, tmp_path, stem="zero")
    assert paths["pdf"].read_bytes().startswith(b"%PDF-")
    assert "No readable ECG" in paths["html"].read_text()


def test_parse_formats():
    assert parse_formats("json, PDF") == ["json", "pdf"]
    with pytest.raises(ECGScopeError, match="unknown report format"):
        parse_formats("docx")
