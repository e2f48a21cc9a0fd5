"""``ecgscope analyze FILE|DIR -o OUT``: the clinical report (JSON, HTML, PDF) of each record.

Folders are processed record by record with a progress bar and are
resumable: a record whose requested outputs all exist is skipped unless
``--force`` is given. A record that cannot be analysed is reported in one
line and the others go on.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..errors import ECGScopeError
from ._common import console, err_console, progress
from ._records import RECORD_EXTENSIONS, find_records
from .info import FORMAT_HELP, FS_HELP, UNITS_HELP, load, read_hints

__all__ = ["register", "analyze_file", "model_option"]


def model_option(value: str) -> Optional[str]:
    """A ``--beat-model`` / ``--rhythm-model`` value: ``"none"`` -> None (no model), else the model name or folder."""
    return None if value.strip().lower() in ("none", "off", "") else value


def analyze_file(path: Path, out_dir: Path, formats: list[str], *, beat_model: Optional[str] = "default",
                 rhythm_model=None, force: bool = False, format: Optional[str] = None,
                 **hints) -> tuple[str, dict]:
    """Analyse one record file and write its reports; returns ``(status, paths)`` (status ``done``/``skipped``)."""
    from ..analysis.pipeline import analyze
    from ..analysis.render import output_paths, render

    stem = path.stem if path.suffix else path.name
    paths = output_paths(out_dir, stem, formats)
    if not force and all(p.exists() for p in paths.values()):
        return "skipped", paths
    record, _ = load(path, format, **hints)
    report = analyze(record, beat_model=beat_model, rhythm_model=rhythm_model)
    return "done", render(report, record, out_dir, formats, stem=stem)


def register(app: typer.Typer) -> None:
    """Add the ``analyze`` command."""

    @app.command("analyze")
    def analyze_command(
        source: Path = typer.Argument(..., help="ECG file (WFDB record name, .mat, .csv, .edf, ...) or a folder."),
        output: Path = typer.Option(..., "--output", "-o", help="Folder for the reports (created)."),
        formats: str = typer.Option("json,html,pdf", "--format", help="Comma-separated: json, html, pdf."),
        beat_model: str = typer.Option("default", "--beat-model", help="Beat model name or folder; 'none' for unlabelled beats."),
        rhythm_model: str = typer.Option(
            "none", "--rhythm-model",
            help="Rhythm model name or folder ('default': the shipped CinC 2017 model, confirming the "
                 "RR-irregularity rule); 'none' for the rule alone."),
        force: bool = typer.Option(False, "--force", help="Redo records whose reports already exist."),
        format: Optional[str] = typer.Option(None, "--input-format", "-f", help=FORMAT_HELP),
        fs: Optional[float] = typer.Option(None, "--fs", help=FS_HELP),
        units: Optional[str] = typer.Option(None, "--units", help=UNITS_HELP),
        workers: int = typer.Option(1, "--workers", "-j", min=1,
                                    help="Processes for the rhythm model's window features (long records; "
                                         "same results)."),
    ) -> None:
        """Analyse ECGs (beats, rhythm, ectopy, HRV, intervals) and write clinical reports."""
        from ..analysis.render import parse_formats

        fmts = parse_formats(formats)
        model = model_option(beat_model)
        rhythm = model_option(rhythm_model)
        if rhythm is not None and workers > 1:
            from ..analysis.rhythm import ModelRhythmDetector

            rhythm = ModelRhythmDetector(rhythm, workers=workers)
        hints = read_hints(fs, units)
        if not source.is_dir():
            status, paths = analyze_file(source, output, fmts, beat_model=model, rhythm_model=rhythm, force=force, format=format, **hints)
            verb = "exists, skipped (use --force to redo)" if status == "skipped" else "written"
            for p in paths.values():
                console.print(f"{p}  [dim]{verb}[/]", highlight=False)
            return
        files = find_records(source)
        if not files:
            raise ECGScopeError("the folder holds no ECG records", path=source,
                                fix=f"put records ({', '.join(RECORD_EXTENSIONS)}) there")
        counts = {"done": 0, "skipped": 0, "failed": 0}
        with progress() as bar:
            task = bar.add_task("analyzing", total=len(files))
            for f in files:
                bar.update(task, description=f"analyzing {f.stem}")
                try:
                    status, _ = analyze_file(f, output, fmts, beat_model=model, rhythm_model=rhythm, force=force, format=format, **hints)
                    counts[status] += 1
                except ECGScopeError as exc:
                    counts["failed"] += 1
                    err_console.print(f"[yellow]failed:[/] {exc}", highlight=False, soft_wrap=True)
                bar.advance(task)
        console.print(f"{counts['done']} analysed, {counts['skipped']} skipped (reports exist), "
                      f"{counts['failed']} failed -> {output}", highlight=False)
        if counts["failed"] and not (counts["done"] or counts["skipped"]):
            raise ECGScopeError(f"none of the {len(files)} records could be analysed", path=source,
                                fix="see the messages above")
