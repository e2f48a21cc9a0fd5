"""``ecgscope rhythm FILE|DIR`` and ``ecgscope benchmark rhythm``: rhythm inference and its benchmarks.

``ecgscope rhythm`` classifies the rhythm of a record, or of every record in a
folder, with a rhythm checkpoint (``--model``, default the shipped
``rhythm-default``; :func:`~ecgscope.analysis.rhythm.classify_rhythm`) and
prints label and probabilities per record. ``-o`` writes ``.csv`` (one row per
record, or per window with ``--windows``) or ``.json`` (one entry per record,
with its windows under ``--windows``).

``ecgscope benchmark rhythm --protocol cv|zero-shot`` runs
:func:`~ecgscope.evaluation.rhythm_protocols.cross_validate_rhythm` (CinC 2017,
shipped split ``cinc2017`` v1, one fresh estimator per fold) or
:func:`~ecgscope.evaluation.rhythm_protocols.zero_shot` (a model fitted on all
of CinC 2017, or a frozen ``--checkpoint``, applied to each ``--test`` folder:
MIT-BIH-like folders give 10-s AF / non-AF windows, LUDB-like folders whole
records). The estimator is ``--model NAME`` built with the options of
``--config YAML`` (``estimator:`` + ``options:``, as ``configs/rhythm/*.yaml``)
and ``key=value`` overrides.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table
from rich.text import Text

from ..errors import ConfigError, ECGScopeError
from ._common import console
from ._records import for_each_record
from .benchmark import _default_out, _split_names, benchmark_app
from .info import FORMAT_HELP, FS_HELP, UNITS_HELP, load, read_hints

__all__ = ["register", "rhythm_file", "write_rhythm_csv", "write_rhythm_json", "rhythm_options",
           "zero_shot_targets"]

TEST_KINDS = ("mitdb", "ludb")


# --------------------------------------------------------------------------- ecgscope rhythm
def rhythm_file(path: Path, model, lead: str | None, format: str | None, hints: dict, workers: int = 1):
    """``(record name, RhythmResult)`` of one file."""
    from ..analysis.rhythm import classify_rhythm

    record, _ = load(path, format, **hints)
    if lead is not None and lead.lstrip("-").isdigit():
        lead = int(lead)
    return str(record.metadata.record_id or path.stem), classify_rhythm(record, model, lead=lead, workers=workers)


def write_rhythm_csv(results: list, path: Path, windows: bool) -> None:
    """One row per record (``record,label,p_<class>...``), or per window with ``windows``."""
    import pandas as pd

    if windows:
        frames = [r.windows().assign(record=name) for name, r in results]
        frame = pd.concat(frames, ignore_index=True)
        frame = frame[["record", *[c for c in frame.columns if c != "record"]]]
    else:
        frame = pd.DataFrame([{"record": name, "label": r.label,
                               **{f"p_{c}": p for c, p in r.probabilities.items()},
                               "n_windows": r.n_windows, "lead": r.lead, "duration_s": r.duration_s}
                              for name, r in results])
    frame.to_csv(path, index=False, float_format="%.5g")


def write_rhythm_json(results: list, path: Path, windows: bool, model) -> None:
    """``{"model": {name, hash, classes, pooling, q}, "records": [RhythmResult.to_dict() + record]}``."""
    import json

    first = results[0][1]
    doc = {"model": {"name": model.name, "hash": model.hash, "classes": list(model.classes),
                     "pooling": first.pooling, "q": first.q},
           "records": [{"record": name, **r.to_dict(windows=windows)} for name, r in results]}
    path.write_text(json.dumps(doc, separators=(",", ":")) + "\n", encoding="utf-8")


def _print_results(results: list, model) -> None:
    table = Table(title=f"Rhythm ({model.name}{', ' + model.hash[:12] if model.hash else ''})",
                  title_justify="left")
    table.add_column("record")
    table.add_column("label")
    for c in model.classes:
        table.add_column(f"p_{c}", justify="right")
    table.add_column("windows", justify="right")
    for name, r in results:
        table.add_row(Text(name), Text(r.label), *(f"{r.probabilities[c]:.3f}" for c in model.classes),
                      str(r.n_windows))
    console.print(table)


def _rhythm_command(
    source: Path = typer.Argument(..., metavar="FILE|DIR",
                                  help="ECG file (WFDB: the record name) or a folder of records."),
    output: Optional[Path] = typer.Option(None, "--output", "-o",
                                          help="rhythm.csv or rhythm.json (one entry per record; per window "
                                               "with --windows)."),
    model: str = typer.Option("default", "--model", "-m",
                              help="Rhythm checkpoint folder or shipped name (default: rhythm-default)."),
    lead: Optional[str] = typer.Option(None, "--lead", "-l",
                                       help="Lead to classify, by name or index (default: II, else first)."),
    windows: bool = typer.Option(False, "--windows", "-w", help="Write per-window probabilities (-o)."),
    format: Optional[str] = typer.Option(None, "--format", "-f", help=FORMAT_HELP),
    fs: Optional[float] = typer.Option(None, "--fs", help=FS_HELP),
    units: Optional[str] = typer.Option(None, "--units", help=UNITS_HELP),
    workers: int = typer.Option(1, "--workers", "-j", min=1,
                                help="Processes for the window features of long records (same results)."),
) -> None:
    """Classify the rhythm (CinC 2017 N, A = AF, O, ~ = noisy) of a record or a folder of records."""
    from ..analysis.rhythm import load_rhythm_model

    if output is not None and output.suffix.lower() not in (".csv", ".json"):
        raise ConfigError(f"cannot write rhythm results to {output.name!r}", path=output,
                          fix="give a .csv or .json file")
    rhythm_model = load_rhythm_model(model)  # a bad --model fails before any record is read
    hints = read_hints(fs, units)
    results = for_each_record(source, lambda f: rhythm_file(f, rhythm_model, lead, format, hints, workers),
                              "classifying")
    _print_results(results, rhythm_model)
    if output is not None:
        output.parent.mkdir(parents=True, exist_ok=True)
        if output.suffix.lower() == ".csv":
            write_rhythm_csv(results, output, windows)
        else:
            write_rhythm_json(results, output, windows, rhythm_model)
        console.print(Text(f"wrote {output}"))


# --------------------------------------------------------------------------- ecgscope benchmark rhythm
def rhythm_options(model: str | None, config: Path | None, overrides: list[str]) -> tuple[str, dict]:
    """``(estimator name, options)`` from ``--model``, a YAML ``{estimator, options}`` and overrides."""
    import yaml

    from ..training.config import parse_override

    doc: dict = {}
    if config is not None:
        if not config.is_file():
            raise ConfigError("config file not found", path=config, fix="pass e.g. configs/rhythm/ramba.yaml")
        try:
            doc = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"is not valid YAML ({str(exc).splitlines()[0]})", path=config,
                              fix="fix the YAML syntax") from None
        if not isinstance(doc, dict) or not isinstance(doc.get("options", {}), dict):
            raise ConfigError("a rhythm config maps 'estimator' and 'options'", path=config,
                              fix="see configs/rhythm/ramba.yaml")
    name = model or doc.get("estimator")
    if not name:
        raise ConfigError("no estimator given",
                          fix="pass --model NAME (e.g. ramba) or a --config with 'estimator:'")
    options = dict(doc.get("options") or {})
    for text in overrides:
        parts, value = parse_override(text)
        if parts[0] == "options":
            parts = parts[1:]
        if len(parts) != 1:
            raise ConfigError(f"override {text!r} is nested", fix="write option=value, e.g. epochs=3")
        options[parts[0]] = value
    return str(name), options


def _test_kind(folder: Path, kind: str | None) -> str:
    """``mitdb`` (rhythm-annotated ``.atr`` files) or ``ludb`` (headers with a ``Rhythm:`` statement)."""
    if kind is not None:
        key = kind.strip().lower().replace("-", "")
        key = {"mitbih": "mitdb"}.get(key, key)
        if key not in TEST_KINDS:
            raise ConfigError(f"unknown --test-kind {kind!r}", fix=f"use one of {', '.join(TEST_KINDS)}")
        return key
    if not folder.is_dir():
        raise ConfigError("--test folder not found", path=folder, fix="pass a folder of WFDB records")
    if any(folder.glob("*.atr")):
        return "mitdb"
    for header in list(folder.rglob("*.hea"))[:20]:
        if "rhythm:" in header.read_text(encoding="utf-8", errors="replace").lower():
            return "ludb"
    raise ConfigError("cannot tell what kind of test set the folder holds (no .atr rhythm annotations, no "
                      "'Rhythm:' header statements)", path=folder, fix="pass --test-kind mitdb|ludb")


def _database_root(folder: Path, kind: str, stack: list) -> tuple[Path, str]:
    """``(root, database)`` with ``root / database`` = ``folder`` (a temporary link if named otherwise)."""
    from ..datasets.registry import get_database

    try:
        if kind == "mitdb" or folder.name.lower() == kind:
            name = get_database(folder.name).name
            if (folder.parent / name).resolve() == folder.resolve():
                return folder.parent, name
    except ECGScopeError:
        pass
    tmp = tempfile.TemporaryDirectory(prefix="ecgscope-test-")
    stack.append(tmp)
    (Path(tmp.name) / kind).symlink_to(folder.resolve(), target_is_directory=True)
    return Path(tmp.name), kind


def zero_shot_targets(folders: list[Path], kinds: list[str] | None) -> dict:
    """``{name: RhythmSet}`` of AF / non-AF items per ``--test`` folder (MIT-BIH windows, LUDB records)."""
    from ..datasets.rhythm import ludb_af_records, mitdb_af_windows

    kinds = list(kinds or [])
    if len(kinds) not in (0, 1, len(folders)):
        raise ConfigError(f"{len(kinds)} --test-kind for {len(folders)} --test folders",
                          fix="give one --test-kind for all, or one per --test")
    out, links = {}, []
    try:
        for i, folder in enumerate(folders):
            kind = _test_kind(folder, kinds[i] if len(kinds) > 1 else (kinds[0] if kinds else None))
            root, database = _database_root(folder, kind, links)
            name = folder.resolve().name if folder.resolve().name not in out else f"{folder.name}-{i}"
            if kind == "mitdb":
                out[name] = mitdb_af_windows(root, database=database)
            else:
                out[name] = ludb_af_records(root)
    finally:
        for tmp in links:
            tmp.cleanup()
    return out


def _print_markdown(text: str, title: str) -> None:
    console.print(Text(title, style="bold"))
    console.print(Text(text.rstrip()), highlight=False, soft_wrap=True)


def _benchmark_rhythm(
    protocol: str = typer.Option(..., "--protocol", "-p",
                                 help="cv (patient-wise k-fold in CinC 2017) or zero-shot."),
    overrides: Optional[List[str]] = typer.Argument(None, help="Estimator options key=value, e.g. epochs=3."),
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="Rhythm estimator to fit (gbm-windows, ramba, resnet1d-rhythm, gbm-rr ...); "
                                             "default: the config's 'estimator'."),
    config: Optional[Path] = typer.Option(None, "--config", "-c",
                                          help="YAML: 'estimator' and 'options' (configs/rhythm/*.yaml)."),
    checkpoint: Optional[str] = typer.Option(None, "--checkpoint",
                                             help="zero-shot: a frozen rhythm checkpoint (folder or shipped "
                                                  "name) instead of fitting on CinC 2017."),
    test: Optional[List[Path]] = typer.Option(None, "--test", "-t",
                                              help="zero-shot: test folder (repeat), MIT-BIH- or LUDB-like."),
    test_kind: Optional[List[str]] = typer.Option(None, "--test-kind",
                                                  help="zero-shot: mitdb or ludb (for all --test or each)."),
    folds: Optional[List[str]] = typer.Option(None, "--folds", help="cv: test folds, e.g. 0,1 (default all)"),
    root: Optional[Path] = typer.Option(None, "--root",
                                        help="Data root holding cinc2017/ (default $ECGSCOPE_DATA)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Output folder (runs/benchmark-rhythm-<protocol>-<time>)."),
    n_boot: int = typer.Option(1000, "--n-boot", min=0, help="Bootstrap resamples over patients (0: no CI)."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="torch CPU threads."),
) -> None:
    """Rhythm classification: CinC 2017 cross-validation or zero-shot AF detection on other databases."""
    from .. import __version__
    from ..evaluation.report_io import write_json
    from ..evaluation.rhythm import af_table
    from ..evaluation.rhythm_protocols import cross_validate_rhythm, zero_shot

    key = protocol.strip().lower().replace("_", "-")
    key = {"zeroshot": "zero-shot", "crossval": "cv"}.get(key, key)
    if key not in ("cv", "zero-shot"):
        raise ConfigError(f"unknown protocol {protocol!r}", fix="use cv or zero-shot")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    overrides = list(overrides or [])
    out_dir = out or _default_out(key, task="rhythm")
    if key == "cv":
        if checkpoint is not None or test or test_kind:
            raise ConfigError("--checkpoint/--test/--test-kind belong to zero-shot, not cv",
                              fix="drop them, or use --protocol zero-shot")
        name, options = rhythm_options(model, config, overrides)
        fold_list = [int(f) for f in _split_names(folds) or []] or None
        from ..datasets.rhythm import load_cinc2017
        from ..models.rhythm import create_rhythm_estimator

        create_rhythm_estimator(name, **options)  # bad name / options fail before the data is read
        data = load_cinc2017(root)
        result = cross_validate_rhythm(lambda: create_rhythm_estimator(name, **options), data, "cinc2017",
                                       folds=fold_list, out_dir=out_dir, n_boot=n_boot, seed=seed, name=name)
        which = "" if fold_list is None else f", folds {', '.join(map(str, result.info['folds_run']))}"
        _print_markdown(result.to_markdown(name),
                        f"Patient-wise {result.info['split']['k']}-fold CV in CinC 2017 ({name}{which})")
        run = {"protocol": key, "estimator": name, "options": options, "folds": fold_list}
    else:
        if not test:
            raise ConfigError("--protocol zero-shot needs at least one --test DIR",
                              fix="e.g. --test $ECGSCOPE_DATA/mitdb --test $ECGSCOPE_DATA/ludb")
        if folds:
            raise ConfigError("--folds belongs to cv", fix="drop --folds")
        targets = zero_shot_targets(list(test), test_kind)
        if checkpoint is not None:
            if model or config or overrides:
                raise ConfigError("a frozen --checkpoint is not re-fitted: --model/--config/overrides do not "
                                  "apply", fix="drop them, or drop --checkpoint to fit --model on CinC 2017")
            from ..analysis.rhythm import load_rhythm_model

            loaded = load_rhythm_model(checkpoint)
            estimator, name = loaded.estimator, loaded.name
            run = {"protocol": key, "checkpoint": str(checkpoint), "model_hash": loaded.hash}
        else:
            from ..datasets.rhythm import load_cinc2017
            from ..models.rhythm import create_rhythm_estimator

            name, options = rhythm_options(model, config, overrides)
            estimator = create_rhythm_estimator(name, **options)
            estimator.fit(load_cinc2017(root), progress=True)
            run = {"protocol": key, "estimator": name, "options": options, "trained_on": "all of cinc2017"}
        reports = zero_shot(estimator, targets, n_boot=n_boot, seed=seed, out_dir=out_dir)
        if checkpoint is None and callable(getattr(estimator, "save", None)):
            estimator.save(Path(out_dir) / "model", training={"data": "cinc2017 (all local records)"})
        _print_markdown(af_table(reports), f"Zero-shot AF detection ({name}, p(A) >= 0.5)")
        run["targets"] = {k: v.summary() | {"info": {}} for k, v in targets.items()}
    run["ecgscope_version"] = __version__
    write_json(run, Path(out_dir) / "run.json")
    console.print(Text(f"results: {out_dir}"))


def register(app: typer.Typer) -> None:
    """Add the ``rhythm`` command and the ``benchmark rhythm`` sub-command."""
    app.command("rhythm")(_rhythm_command)
    benchmark_app.command("rhythm")(_benchmark_rhythm)
