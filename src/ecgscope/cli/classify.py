"""``ecgscope classify FILE|DIR``: label every beat (AAMI N, S, V, F) of one record or of a folder.

Beats are detected with ``find_rpeaks`` and classified with a checkpoint
(``--model``, default the shipped ``beats-default``) whose card drives the
preprocessing, so any sampling rate works. Output (``-o``) by extension:
``.csv`` (``record,sample,time_s,label,p_N,...,valid``), ``.json`` (one entry
per record) or a WFDB annotation file ``<record>.<ext>`` with the AAMI
symbols (``N S V F Q``); for a folder, ``-o DIR`` writes ``<record>.<--ann-ext>``
per record. Without ``-o`` the beat counts per class are printed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.table import Table
from rich.text import Text

from ..errors import ECGScopeError, FormatError
from ._common import console
from ._records import for_each_record
from .info import FORMAT_HELP, FS_HELP, UNITS_HELP, load, read_hints

__all__ = ["register", "classify_file", "write_csv", "write_json", "write_annotation"]


def classify_file(path: Path, model, lead: str | None, format: str | None, hints: dict):
    """``(record name, beats frame)`` of one file."""
    from ..analysis.classify import classify_beats

    record, _ = load(path, format, **hints)
    name = record.metadata.record_id or path.stem
    if lead is not None and lead.lstrip("-").isdigit():
        lead = int(lead)
    return str(name), classify_beats(record, model=model, lead=lead)


# --------------------------------------------------------------------------- writers
def write_csv(results: list, path: Path) -> None:
    """One row per beat of every record."""
    import pandas as pd

    frames = [frame.assign(record=name)[["record", *frame.columns]] for name, frame in results]
    pd.concat(frames, ignore_index=True).to_csv(path, index=False, float_format="%.5g")


def write_json(results: list, path: Path, classifier) -> None:
    """``{"model": ..., "records": [{record, fs, n_beats, counts, sample, time_s, label, proba, valid}]}``."""
    classes = list(classifier.classes)
    records = []
    for name, frame in results:
        proba = frame[[f"p_{c}" for c in classes]].to_numpy(dtype=np.float64)
        records.append({
            "record": name, "fs": frame.attrs.get("fs"), "leads": frame.attrs.get("leads"),
            "n_beats": int(len(frame)), "counts": _counts(frame, classes),
            "sample": frame["sample"].tolist(), "time_s": [round(t, 4) for t in frame["time_s"].tolist()],
            "label": frame["label"].tolist(),
            "proba": [[None if np.isnan(v) else round(float(v), 5) for v in row] for row in proba],
            "valid": frame["valid"].tolist(),
        })
    doc = {"model": {"name": classifier.name, "hash": classifier.hash, "classes": classes},
           "records": records}
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n")


def write_annotation(frame, path: Path) -> Path:
    """The beats as a WFDB annotation file ``<record>.<ext>`` (AAMI symbols N S V F Q)."""
    from ..io._wfdb_ann import write_annotation_file

    name, ext = path.stem, path.suffix.lstrip(".")
    if not re.fullmatch(r"[-\w]+", name) or not re.fullmatch(r"\w+", ext) or ext.lower() in ("hea", "dat"):
        raise FormatError(f"cannot write a WFDB annotation named {path.name!r}", path=path,
                          fix="name it <record>.<annotator> (e.g. 208.cls), or use .csv/.json")
    if len(frame) == 0:
        raise FormatError("no beats were found, and a WFDB annotation file cannot be empty", path=path,
                          fix="write .csv or .json instead")
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_annotation_file(path, frame["sample"].to_numpy(np.int64), frame["label"].tolist(),
                                 fs=frame.attrs.get("fs"))


def _write(results: list, output: Path, folder: bool, ann_ext: str, classifier) -> list[Path]:
    suffix = output.suffix.lower()
    if suffix in (".csv", ".json"):
        output.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".csv":
            write_csv(results, output)
        else:
            write_json(results, output, classifier)
        return [output]
    if folder and (output.is_dir() or suffix == ""):
        return [write_annotation(frame, output / f"{name}.{ann_ext}")
                for name, frame in results if len(frame)]
    if len(results) > 1:
        raise ECGScopeError(f"cannot write {len(results)} records to one WFDB annotation file", path=output,
                            fix="give a .csv or .json file, or a directory for one annotation file "
                                "per record")
    return [write_annotation(results[0][1], output)]


# --------------------------------------------------------------------------- printing
def _counts(frame, classes) -> dict[str, int]:
    labels = frame["label"].to_numpy(dtype=str)
    out = {c: int(np.count_nonzero(labels == c)) for c in classes}
    q = int(np.count_nonzero(labels == "Q"))
    if q and "Q" not in out:
        out["Q"] = q
    return out


def _print_summary(results: list, classifier) -> None:
    classes = list(classifier.classes)
    extra = ["Q"] if any((frame["label"] == "Q").any() for _, frame in results) and "Q" not in classes else []
    table = Table(title=f"Beat classes ({classifier.name}, {classifier.hash[:12]})", title_justify="left")
    table.add_column("record")
    for col in ("beats", *classes, *extra):
        table.add_column(col, justify="right")
    for name, frame in results:
        counts = _counts(frame, classes)
        table.add_row(Text(name), str(len(frame)), *(str(counts.get(c, 0)) for c in (*classes, *extra)))
    console.print(table)


def register(app: typer.Typer) -> None:
    """Add the ``classify`` command."""

    @app.command("classify")
    def classify(
        source: Path = typer.Argument(..., metavar="FILE|DIR",
                                      help="ECG file (WFDB: the record name) or a folder of records."),
        model: str = typer.Option("default", "--model", "-m",
                                  help="Checkpoint folder or shipped model name (default: beats-default)."),
        output: Optional[Path] = typer.Option(None, "--output", "-o",
                                              help="beats.csv, beats.json, or <record>.<ext> for a WFDB "
                                                   "annotation (a directory for one file per record)."),
        lead: Optional[str] = typer.Option(None, "--lead", "-l",
                                           help="Lead to classify, by name or index (default: the model's)."),
        ann_ext: str = typer.Option("cls", "--ann-ext", help="Annotator extension when -o is a directory."),
        format: Optional[str] = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
        fs: Optional[float] = typer.Option(None, "--fs", help=FS_HELP),
        units: Optional[str] = typer.Option(None, "--units", help=UNITS_HELP),
    ) -> None:
        """Detect and classify beats (AAMI N, S, V, F); print counts per class, optionally write them."""
        from ..analysis.classify import load_beat_classifier

        classifier = load_beat_classifier(model)  # a bad --model fails before any record is read
        hints = read_hints(fs, units)
        folder = source.is_dir()
        results = for_each_record(source, lambda f: classify_file(f, classifier, lead, format, hints), "classifying")
        _print_summary(results, classifier)
        if output is not None:
            written = _write(results, output, folder, ann_ext, classifier)
            console.print(Text(f"wrote {', '.join(str(p) for p in written[:3])}"
                               + (f" and {len(written) - 3} more" if len(written) > 3 else "")))
