"""The report as JSON (the pydantic model's own serialisation; ``Report.model_validate_json`` reads it back)."""

from __future__ import annotations

from pathlib import Path

from ..report import Report

__all__ = ["render_json", "write_json", "read_json"]


def render_json(report: Report, indent: int | None = 2) -> str:
    """The report as a JSON string."""
    return report.model_dump_json(indent=indent)


def write_json(report: Report, path: str | Path, indent: int | None = 2) -> Path:
    """Write the report to ``path`` as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_json(report, indent), encoding="utf-8")
    return path


def read_json(path: str | Path) -> Report:
    """Read a report written by :func:`write_json`."""
    return Report.model_validate_json(Path(path).read_text(encoding="utf-8"))
