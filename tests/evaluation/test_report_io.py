"""Report writers (JSON, Markdown, LaTeX), the AAMI report files and its figures."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ecgscope.evaluation import AAMIReport, aami_report
from ecgscope.evaluation.classification import roc_pr_curves
from ecgscope.evaluation.plots import plot_confusion_matrix, plot_pr_curves, plot_roc_curves
from ecgscope.evaluation.report_io import (
    format_ci,
    format_value,
    latex_escape,
    latex_table,
    markdown_table,
    read_json,
    to_jsonable,
    write_json,
)

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def report():
    rng = np.random.default_rng(7)
    rec = np.repeat([f"r{i}" for i in range(12)], 150)
    y = rng.choice(4, rec.size, p=[0.8, 0.08, 0.1, 0.02])
    yhat = np.where(rng.random(rec.size) < 0.85, y, rng.integers(0, 4, rec.size))
    logits = rng.normal(size=(rec.size, 4)) + 2.5 * np.eye(4)[yhat]
    proba = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    return aami_report(np.array(list("NSVF"))[y], yhat, rec, proba=proba, n_boot=200, seed=1)


# --------------------------------------------------------------------------- generic writers
def test_to_jsonable_makes_strict_json():
    obj = {"a": np.float32(1.5), "b": np.array([1.0, np.nan, np.inf]), 3: (np.int64(2), float("nan"))}
    out = to_jsonable(obj)
    assert out == {"a": 1.5, "b": [1.0, None, None], "3": [2, None]}
    json.dumps(out, allow_nan=False)


def test_write_and_read_json(tmp_path):
    path = write_json({"x": np.arange(3), "y": np.nan}, tmp_path / "r.json")
    assert read_json(path) == {"x": [0, 1, 2], "y": None}
    assert "NaN" not in path.read_text()


def test_number_formatting():
    assert format_ci(0.9712, 0.96, 0.98) == "97.1 [96.0, 98.0]"
    assert format_ci(0.9712, np.nan, np.nan) == "97.1"
    assert format_ci(np.nan, 0.1, 0.2) == "n/a"
    assert format_value(None) == "n/a"
    assert format_value(0.98765, scale=1, digits=3) == "0.988"


def test_markdown_and_latex_tables():
    md = markdown_table(["Class", "Se"], [["N", "99.0"], ["a|b", "n/a"]])
    assert md.splitlines()[:2] == ["| Class | Se |", "|---|---:|"]
    assert "a\\|b" in md
    tex = latex_table(["Class", "Se (%)"], [["N_1", "97.1 [96.0, 98.0]"], ["Macro", "80.0"]],
                      caption="A & B", label="tab:x", midrule_before=[1])
    assert "\\toprule" in tex and "\\bottomrule" in tex and tex.count("\\midrule") == 2
    assert "N\\_1 & 97.1 [96.0, 98.0] \\\\" in tex and "Se (\\%)" in tex and "A \\& B" in tex
    assert latex_escape("50% of #1 & $x_y$") == "50\\% of \\#1 \\& \\$x\\_y\\$"


# --------------------------------------------------------------------------- AAMI report text
def test_markdown_contains_the_numbers(report):
    md = report.to_markdown()
    k = report.classes.index("V")
    lo, hi = 100 * report.ci["se"][k]
    se = f"{100 * report.gross['se'][k]:.1f} [{lo:.1f}, {hi:.1f}]"
    assert se in md
    assert f"| V | {report.gross['support'][k]:,} | {report.gross['tp'][k]:,} |" in md
    assert f"{100 * report.accuracy:.1f} [" in md
    assert f"| Macro-F1 (N/S/V) | {100 * report.macro_f1['N/S/V']:.1f} [" in md
    assert f"{report.n_beats:,} beats from 12 records" in md
    assert f"{report.curves['S'].auroc:.3f}" in md


def test_latex_is_a_booktabs_table_with_cis(report):
    tex = report.to_latex()
    assert tex.startswith("\\begin{table}") and "\\toprule" in tex and "\\bottomrule" in tex
    assert "Class & Se (\\%) & +P (\\%) & F1 (\\%) & FPR (\\%) \\\\" in tex
    k = report.classes.index("N")
    lo, hi = 100 * report.ci["ppv"][k]
    assert f"N & {100 * report.gross['se'][k]:.1f} [" in tex
    assert f"{100 * report.gross['ppv'][k]:.1f} [{lo:.1f}, {hi:.1f}]" in tex
    assert "Macro (N/S/V/F)" in tex


# --------------------------------------------------------------------------- files
def test_save_writes_all_files_and_json_round_trips(report, tmp_path):
    paths = report.save(tmp_path / "out")
    assert {p.name for p in paths.values()} == {
        "report.json", "report.md", "report.tex",
        "confusion_matrix.png", "roc.png", "pr.png", "reliability.png"}
    for p in paths.values():
        assert p.exists() and p.stat().st_size > 0
        if p.suffix == ".png":
            assert p.read_bytes()[:8] == PNG
    data = json.loads(paths["json"].read_text())  # strict JSON
    assert data["gross"]["se"]["N"] == pytest.approx(report.gross["se"][0])
    assert data["confusion"]["rows"] == "reference"
    loaded = AAMIReport.load(tmp_path / "out")
    assert loaded.to_dict() == report.to_dict()
    assert loaded.to_markdown() == report.to_markdown() and loaded.to_latex() == report.to_latex()


def test_round_trip_with_undefined_values(tmp_path):
    r = aami_report(list("NNVV"), list("NSVV"), ["a", "a", "b", "b"], n_boot=20)
    r.save(tmp_path, plots=False)
    loaded = AAMIReport.load(tmp_path / "report.json")
    assert np.isnan(loaded.gross["se"][1]) and loaded.curves is None
    assert loaded.to_markdown() == r.to_markdown()
    assert not (tmp_path / "confusion_matrix.png").exists()


def test_load_rejects_other_json():
    from ecgscope.evaluation.classification import LabelError

    with pytest.raises(LabelError, match="not an AAMI report"):
        AAMIReport.from_dict({"foo": 1})


def test_plots_handle_undefined_classes(tmp_path):
    y = np.array([0, 0, 1, 1])
    curves = roc_pr_curves(y, np.full((4, 3), 1 / 3), ("a", "b", "c"))  # class c has no positives
    plot_roc_curves(curves, path=tmp_path / "roc.png")
    plot_pr_curves(curves, path=tmp_path / "pr.png")
    cm = np.array([[2, 0, 0], [1, 1, 0], [0, 0, 0]])  # class c: no reference item
    plot_confusion_matrix(cm, ("a", "b", "c"), path=tmp_path / "cm.png")
    for name in ("roc.png", "pr.png", "cm.png"):
        assert (tmp_path / name).read_bytes()[:8] == PNG
