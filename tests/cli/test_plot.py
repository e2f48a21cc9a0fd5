"""``ecgscope plot``: valid PNG/PDF/SVG at the stated scale, real records, errors."""

from __future__ import annotations

import re

import pytest

import ecgscope
from ecgscope.analysis.paper import MM_PER_INCH
from ecgscope.cli import main

pytest.importorskip("ecgscope.io.wfdb")


@pytest.fixture
def wfdb_file(small_record, tmp_path):
    ecgscope.write(small_record, tmp_path / "rec.hea")
    return tmp_path / "rec"


def png_size_and_dpi(path):
    from PIL import Image

    with Image.open(path) as im:
        im.verify()
    with Image.open(path) as im:
        return im.size, im.info.get("dpi")


def mm_of_message(out):
    w, h = re.search(r"(\d+) x (\d+) mm", out).groups()
    return float(w), float(h)


@pytest.mark.parametrize("dpi", [100, 300])
def test_plot_png_has_the_stated_dpi_and_size(wfdb_file, tmp_path, capsys, dpi):
    out_png = tmp_path / "ecg.png"
    rc = main(["plot", str(wfdb_file), "-o", str(out_png), "--dpi", str(dpi), "--annotations"])
    out = capsys.readouterr().out
    assert rc == 0 and out_png.stat().st_size > 0
    assert f"{dpi} dpi" in out and "25 mm/s" in out and "10 mm/mV" in out
    (w_px, h_px), stored = png_size_and_dpi(out_png)
    w_mm, h_mm = mm_of_message(out)
    assert w_px == pytest.approx(w_mm * dpi / MM_PER_INCH, abs=dpi / MM_PER_INCH)
    assert h_px == pytest.approx(h_mm * dpi / MM_PER_INCH, abs=dpi / MM_PER_INCH)
    assert stored == pytest.approx((dpi, dpi), abs=0.5)  # printable at 100 %


def test_plot_pdf_and_svg(wfdb_file, tmp_path, capsys):
    assert main(["plot", str(wfdb_file), "-o", str(tmp_path / "ecg.pdf"), "--leads", "II"]) == 0
    assert (tmp_path / "ecg.pdf").read_bytes().startswith(b"%PDF")
    assert "print at 100 %" in capsys.readouterr().out
    assert main(["plot", str(wfdb_file), "-o", str(tmp_path / "ecg.svg"), "--speed", "50", "--gain", "20"]) == 0
    svg = (tmp_path / "ecg.svg").read_text()
    assert "<svg" in svg and re.search(r'width="[\d.]+pt"', svg)


def test_plot_speed_widens_the_paper(wfdb_file, tmp_path, capsys):
    main(["plot", str(wfdb_file), "-o", str(tmp_path / "a.png"), "-d", "4", "--dpi", "50"])
    w25, _ = mm_of_message(capsys.readouterr().out)
    main(["plot", str(wfdb_file), "-o", str(tmp_path / "b.png"), "-d", "4", "--dpi", "50", "--speed", "50"])
    w50, _ = mm_of_message(capsys.readouterr().out)
    assert w50 - w25 == pytest.approx(4 * 25 + 0.2 * 25, abs=5)  # 4 s and the pulse, at +25 mm/s


@pytest.mark.parametrize("args, words", [
    (["--start", "60"], "past the end"),
    (["--leads", "aVR"], "aVR"),
    (["--annotator", "qrs"], "qrs"),
    (["--layout", "12lead"], "12 standard leads"),
    (["--speed", "-5"], "speed"),
])
def test_plot_errors_exit_2_with_one_line(wfdb_file, tmp_path, capsys, args, words):
    out_png = tmp_path / "bad.png"
    assert main(["plot", str(wfdb_file), "-o", str(out_png), *args]) == 2
    err = capsys.readouterr().err.strip()
    assert words in err and len(err.splitlines()) == 1
    assert not out_png.exists()


def test_plot_missing_file_and_bad_extension(wfdb_file, tmp_path, capsys):
    assert main(["plot", str(tmp_path / "none"), "-o", str(tmp_path / "x.png")]) == 2
    assert "none" in capsys.readouterr().err
    assert main(["plot", str(wfdb_file), "-o", str(tmp_path / "x.gif")]) == 2
    assert ".png, .pdf or .svg" in capsys.readouterr().err


# ----------------------------------------------------------------- real data
@pytest.mark.data
@pytest.mark.parametrize("parts, args, layout, leads", [
    (("mitdb", "101"), ["--annotations"], "rows", "II, V1"),
    (("ludb", "data", "1"), [], "12lead", "I, II, III, aVR"),
    (("cinc2017", "A00001"), ["-d", "30"], "rows", "ECG"),
    (("mitdb", "101"), ["--start", "1800", "-d", "20"], "rows", "II, V1"),  # window cut at the end
])
def test_plot_real_records(shared, tmp_path, capsys, parts, args, layout, leads):
    out_png = tmp_path / "real.png"
    assert main(["plot", str(shared(*parts)), "-o", str(out_png), "--dpi", "100", *args]) == 0
    out = capsys.readouterr().out
    assert f"{layout} layout" in out and leads in out
    png_size_and_dpi(out_png)
