"""``ecgscope train CONFIG [key=value ...] [-o OUTDIR] [--cv]``: train a beat classifier.

Without ``--cv`` the model is trained on all configured records (e.g. all of
DS1) with a patient-wise validation split for early stopping, and OUTDIR
becomes its checkpoint folder (``model.safetensors`` + ``card.json`` + logs).
A config that lists ``members`` (``configs/beats/ensemble.yaml``) trains each
member into ``OUTDIR/<member>`` and writes the ensemble card
(:mod:`ecgscope.training.ensemble`).
With ``--cv`` the patient-wise k-fold cross-validation of the config's split
runs instead and OUTDIR receives the out-of-fold predictions. Runs under
``torchrun --nproc_per_node N -m ecgscope train ...`` use DDP.
"""

from __future__ import annotations

import datetime as _dt
import os
from pathlib import Path
from typing import List, Optional

import typer
from rich.table import Table

from ._common import console

__all__ = ["register", "default_out_dir"]


def default_out_dir(name: str, cv: bool) -> Path:
    """``runs/<name>[-cv]-<UTC timestamp>``."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{name}{'-cv' if cv else ''}-{stamp}"


def _fmt(value) -> str:
    return "-" if value is None else f"{value:.4f}" if isinstance(value, float) else str(value)


def _print_train(outcome) -> None:
    r = outcome.result
    console.print(f"trained {r.epochs_run} epochs (best {r.best_epoch}"
                  f"{', stopped early' if r.stopped_early else ''}); validation patients "
                  f"{', '.join(outcome.val_patients) or '-'}", markup=False, highlight=False)
    if r.metrics:
        per = "  ".join(f"{c}: {_fmt(v)}" for c, v in r.metrics["f1"].items())
        console.print(f"validation macro-F1 {r.metrics['macro_f1']:.4f}  (F1 {per})", markup=False, highlight=False)
    console.print(f"checkpoint: {outcome.out_dir}", markup=False, highlight=False)


def _print_cv(result) -> None:
    table = Table(title="Patient-wise cross-validation", title_justify="left")
    for col in ("fold", "test patients", "val patients", "best epoch", "val macro-F1", "test macro-F1"):
        table.add_column(col)
    for f in result.summary["folds"]:
        table.add_row(str(f["fold"]), ", ".join(f["test_patients"]), ", ".join(f["val_patients"]),
                      str(f["best_epoch"]), _fmt(f["val_macro_f1"]), _fmt(f["test_macro_f1"]))
    console.print(table)
    oof = result.summary["out_of_fold"]
    if oof:
        per = "  ".join(f"{c}: {_fmt(v)}" for c, v in oof["f1"].items())
        console.print(f"out-of-fold macro-F1 {oof['macro_f1']:.4f} over {oof['n']} beats (F1 {per})",
                      markup=False, highlight=False)
    console.print(f"results: {result.out_dir}", markup=False, highlight=False)


def _train_ensemble(cfg, out_dir: Path, cv: bool, no_checkpoints: bool) -> None:
    """Train (or cross-validate) every member of an ensemble config, then write the ensemble."""
    from ..training.ensemble import cross_validate_ensemble, train_ensemble

    if cv:
        result = cross_validate_ensemble(cfg, out_dir, save_checkpoints=not no_checkpoints)
        members = "  ".join(f"{n}: {_fmt(v)}" for n, v in result.summary["members"].items())
        console.print(f"members' out-of-fold macro-F1  {members}", markup=False, highlight=False)
        _print_cv(result)
        return
    for name, outcome in zip(cfg.members, train_ensemble(cfg, out_dir)):
        console.print(f"[{name}]", markup=False, highlight=False)
        _print_train(outcome)
    console.print(f"ensemble: {out_dir}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``train`` command."""

    @app.command("train")
    def train(
        config: Path = typer.Argument(..., help="Experiment YAML, e.g. configs/beats/resnet1d.yaml."),
        overrides: Optional[List[str]] = typer.Argument(
            None, help="Dotted overrides key=value, e.g. train.epochs=30 model.variant=large data.fs=250."),
        out: Optional[Path] = typer.Option(None, "--out", "-o",
                                           help="Output folder (default runs/<name>-<time>)."),
        cv: bool = typer.Option(False, "--cv", help="Run the patient-wise k-fold cross-validation instead."),
        no_checkpoints: bool = typer.Option(False, "--no-fold-checkpoints",
                                            help="With --cv, do not save each fold's checkpoint."),
    ) -> None:
        """Train a beat classifier on the configured records and write its checkpoint (or run CV)."""
        from ..training.ensemble import EnsembleConfig, load_experiment_config

        cfg = load_experiment_config(config, list(overrides or []))
        out_dir = out or default_out_dir(cfg.name, cv)
        main_rank = int(os.environ.get("RANK", "0")) == 0
        if isinstance(cfg, EnsembleConfig):
            _train_ensemble(cfg, out_dir, cv, no_checkpoints)
        elif cv:
            from ..training.cv import cross_validate

            result = cross_validate(cfg, out_dir, save_checkpoints=not no_checkpoints)
            if main_rank:
                _print_cv(result)
        else:
            from ..training.experiment import train_experiment

            outcome = train_experiment(cfg, out_dir)
            if main_rank:
                _print_train(outcome)
