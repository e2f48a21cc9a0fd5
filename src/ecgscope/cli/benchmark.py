"""``ecgscope benchmark``: evaluation protocols, one sub-command per task (``beats`` here).

``ecgscope benchmark beats --protocol cv|interpatient|cross-db ...`` runs a
beat-classification protocol of :mod:`ecgscope.evaluation.protocols` and
prints the AAMI EC57 table (gross Se, +P, F1 with 95 % record-bootstrap CIs);
the output folder receives ``report.json/.md/.tex``, plots, predictions and
the config / split / version files.

Other tasks add their sub-command from their own module, in its
``register(app)``::

    from .benchmark import benchmark_app

    def register(app):
        benchmark_app.command("rhythm")(rhythm)
"""

from __future__ import annotations

import datetime as _dt
from pathlib import Path
from typing import List, Optional

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from ..errors import ConfigError
from ._common import console

__all__ = ["benchmark_app", "register", "print_report", "experiment_config"]

benchmark_app = typer.Typer(
    help="Benchmarks under honest protocols: beats (AAMI beat classes), rhythm (CinC 2017, AF).",
    no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add the ``benchmark`` command group."""
    app.add_typer(benchmark_app, name="benchmark")


def experiment_config(config: Path | None, overrides: list[str], root: Path | None):
    """``config`` (default: the shipped default model's ``config.yaml``) with the overrides applied.

    A config listing ``members`` is an :class:`~ecgscope.training.ensemble.EnsembleConfig`.
    """
    from ..models.pretrained import default_beat_model_dir
    from ..training.ensemble import load_experiment_config

    path = config or default_beat_model_dir() / "config.yaml"
    if config is None and not path.is_file():
        raise ConfigError("no --config given and the shipped default model has no config.yaml", path=path,
                          fix="pass --config configs/beats/resnet1d.yaml")
    extra = [f"data.root={root}"] if root is not None else []
    return load_experiment_config(path, [*overrides, *extra])


def print_report(report, title: str) -> None:
    """The gross AAMI table (Se, +P, F1 with CIs), accuracy and macro-F1 on the console (FPR: report.md)."""
    from ..evaluation.report_io import format_ci

    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD)
    for col in ("class", "beats", "Se %", "+P %", "F1 %"):
        table.add_column(col, justify="left" if col == "class" else "right", no_wrap=True)
    for k, c in enumerate(report.classes):
        cells = [format_ci(report.gross[m][k], *report.ci[m][k]) for m in ("se", "ppv", "f1")]
        table.add_row(c, f"{int(report.gross['support'][k]):,}", *cells)
    console.print(table)
    overall = [f"accuracy {format_ci(report.accuracy, *report.ci['accuracy'])} %"]
    overall += [f"macro-F1 ({name}) {format_ci(v, *report.ci[f'macro_f1:{name}'])} %"
                for name, v in report.macro_f1.items()]
    console.print(Text("; ".join(overall)))
    console.print(Text(f"{report.n_beats:,} beats from {report.n_records} records; 95 % CIs: bootstrap over "
                       f"records ({report.n_boot} resamples)"))


def _default_out(protocol: str, task: str = "beats") -> Path:
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"benchmark-{task}-{protocol}-{stamp}"


def _split_names(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@benchmark_app.command("beats")
def beats(
    protocol: str = typer.Option(..., "--protocol", "-p",
                                 help="interpatient (DS1 -> DS2), cv (patient-wise k-fold in DS1) "
                                      "or cross-db."),
    overrides: Optional[List[str]] = typer.Argument(
        None, help="Dotted config overrides key=value (cv, interpatient), e.g. train.epochs=8."),
    config: Optional[Path] = typer.Option(None, "--config", "-c",
                                          help="Experiment YAML (cv, interpatient); default: the shipped "
                                               "default model's config."),
    model: Optional[str] = typer.Option(None, "--model", "-m",
                                        help="Checkpoint folder or shipped name: required for cross-db; for "
                                             "interpatient, test it instead of training."),
    test: Optional[Path] = typer.Option(None, "--test", "-t",
                                        help="cross-db: folder of annotated WFDB records (any fs)."),
    records: Optional[List[str]] = typer.Option(None, "--records", "-r",
                                                help="cross-db: test records (repeat or comma-separate)."),
    lead: Optional[str] = typer.Option(None, "--lead", "-l",
                                       help="cross-db: test lead standing in for the model's "
                                            "(default: same name)."),
    annotator: Optional[str] = typer.Option(None, "--annotator",
                                            help="cross-db: reference annotation extension (default atr)."),
    root: Optional[Path] = typer.Option(None, "--root", help="Data root holding mitdb/ (sets data.root)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Output folder (default "
                                            "runs/benchmark-beats-<protocol>-<time>)."),
    n_boot: int = typer.Option(1000, "--n-boot", min=0, help="Bootstrap resamples over records (0: no CIs)."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    threads: Optional[int] = typer.Option(None, "--threads", min=1, help="torch CPU threads."),
    no_fold_checkpoints: bool = typer.Option(False, "--no-fold-checkpoints",
                                             help="cv: do not save each fold's checkpoint."),
    no_plots: bool = typer.Option(False, "--no-plots", help="Skip the PNG figures."),
) -> None:
    """Beat classification (AAMI EC57 N/S/V/F) under the inter-patient, CV or cross-database protocol."""
    from ..evaluation import protocols

    key = protocol.strip().lower().replace("_", "-")
    key = {"inter-patient": "interpatient", "crossdb": "cross-db"}.get(key, key)
    if key not in protocols.PROTOCOLS:
        raise ConfigError(f"unknown protocol {protocol!r}",
                          fix=f"use one of {', '.join(protocols.PROTOCOLS)}")
    if threads is not None:
        import torch

        torch.set_num_threads(threads)
    out_dir = out or _default_out(key)
    overrides = list(overrides or [])
    if key == "cross-db":
        if model is None or test is None:
            raise ConfigError("--protocol cross-db needs --model DIR and --test DIR",
                              fix="e.g. ecgscope benchmark beats -p cross-db --model default "
                                  "--test data/svdb")
        if overrides or config is not None:
            raise ConfigError("cross-db applies a frozen checkpoint; config overrides do not apply",
                              fix="drop the overrides and --config")
        result = protocols.run_cross_db(model, test, out_dir, records=_split_names(records), lead=lead,
                                        annotator=annotator, n_boot=n_boot, seed=seed, plots=not no_plots)
        title = f"Cross-database: {Path(result.info['model']).name} on {test}"
    else:
        if test is not None or records or lead or annotator:
            raise ConfigError(f"--test/--records/--lead/--annotator belong to cross-db, not {key}",
                              fix="drop them, or use --protocol cross-db")
        cfg = experiment_config(config, overrides, root)
        if key == "cv":
            if model is not None:
                raise ConfigError("cv trains one model per fold; --model does not apply",
                                  fix="drop --model (use interpatient or cross-db to test a checkpoint)")
            result = protocols.run_cv(cfg, out_dir, n_boot=n_boot, seed=seed,
                                      save_checkpoints=not no_fold_checkpoints, plots=not no_plots)
            title = f"Patient-wise {result.info['split']['k']}-fold CV in {cfg.data.split} ({cfg.name})"
        else:
            from ..models.pretrained import resolve_model

            frozen = None if model is None else resolve_model(model)
            result = protocols.run_interpatient(cfg, out_dir, model=frozen, n_boot=n_boot, seed=seed,
                                                plots=not no_plots)
            title = f"Inter-patient MIT-BIH DS1 -> DS2 ({cfg.name if frozen is None else frozen.name})"
    print_report(result.report, title)
    console.print(Text(f"results: {result.out_dir}"))
