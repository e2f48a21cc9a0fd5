"""Writers for evaluation reports: JSON-safe conversion, number formatting, Markdown and LaTeX tables.

Reports keep numbers as fractions; the text writers format them (as
percentages by default) with ``n/a`` for undefined values and
``value [low, high]`` for confidence intervals. LaTeX tables use booktabs
rules (``\\toprule``, ``\\midrule``, ``\\bottomrule``; needs
``\\usepackage{booktabs}``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from os import PathLike
from pathlib import Path
from typing import Sequence

import numpy as np

__all__ = [
    "NA",
    "to_jsonable",
    "write_json",
    "read_json",
    "format_value",
    "format_ci",
    "markdown_table",
    "latex_escape",
    "latex_table",
]

#: How an undefined value is written.
NA = "n/a"


# --------------------------------------------------------------------------- JSON
def to_jsonable(obj):
    """``obj`` as plain JSON types: arrays -> lists, NumPy scalars -> Python, NaN/inf -> ``None``.

    Dicts (keys become strings), lists, tuples, dataclasses (via their
    ``to_dict()`` when they have one) and paths are converted recursively.
    """
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return to_jsonable(obj.item())
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, PathLike):
        return str(obj)
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return to_jsonable(obj.to_dict() if hasattr(obj, "to_dict") else dataclasses.asdict(obj))
    return obj


def write_json(obj, path: str | PathLike) -> Path:
    """Write ``to_jsonable(obj)`` as strict, indented JSON (no NaN tokens); returns the path."""
    path = Path(path)
    path.write_text(json.dumps(to_jsonable(obj), indent=2, allow_nan=False) + "\n", encoding="utf-8")
    return path


def read_json(path: str | PathLike):
    """Parse a JSON file written by :func:`write_json`."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- numbers
def _defined(x) -> bool:
    return x is not None and math.isfinite(float(x))


def format_value(x, *, scale: float = 100.0, digits: int = 1) -> str:
    """``x * scale`` with ``digits`` decimals, or ``n/a`` when undefined."""
    return f"{float(x) * scale:.{digits}f}" if _defined(x) else NA


def format_ci(x, low=None, high=None, *, scale: float = 100.0, digits: int = 1) -> str:
    """``"97.1 [96.0, 98.0]"``: value and interval; the value alone when the interval is undefined."""
    text = format_value(x, scale=scale, digits=digits)
    if text == NA or not (_defined(low) and _defined(high)):
        return text
    lo, hi = (format_value(v, scale=scale, digits=digits) for v in (low, high))
    return f"{text} [{lo}, {hi}]"


# --------------------------------------------------------------------------- tables
def markdown_table(header: Sequence[str], rows: Sequence[Sequence], align: str | None = None) -> str:
    """A GitHub-flavoured Markdown table; ``align`` is one of ``l r c`` per column (default: l then r)."""
    align = align or "l" + "r" * (len(header) - 1)
    rule = {"l": "---", "r": "---:", "c": ":---:"}
    lines = ["| " + " | ".join(map(str, header)) + " |",
             "|" + "|".join(rule[a] for a in align) + "|"]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |" for row in rows]
    return "\n".join(lines)


_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text) -> str:
    """``text`` with LaTeX special characters escaped."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def latex_table(header: Sequence[str], rows: Sequence[Sequence], *, caption: str = "", label: str = "",
                align: str | None = None, midrule_before: Sequence[int] = (), escape: bool = True) -> str:
    """A booktabs ``table`` environment; ``midrule_before`` row indices get a ``\\midrule`` above them.

    Cells, header and caption are escaped unless ``escape=False``.
    """
    esc = latex_escape if escape else str
    align = align or "l" + "r" * (len(header) - 1)
    out = ["\\begin{table}[htbp]", "\\centering"]
    if caption:
        out.append(f"\\caption{{{esc(caption)}}}")
    if label:
        out.append(f"\\label{{{label}}}")
    out += [f"\\begin{{tabular}}{{{align}}}", "\\toprule",
            " & ".join(esc(h) for h in header) + " \\\\", "\\midrule"]
    for i, row in enumerate(rows):
        if i in set(midrule_before):
            out.append("\\midrule")
        out.append(" & ".join(esc(c) for c in row) + " \\\\")
    out += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(out) + "\n"
