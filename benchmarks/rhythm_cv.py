"""RAMBA and the ResNet1D window baseline on CinC 2017 (patient-wise 5-fold CV), ablations, zero-shot AF.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rhythm_cv.py cv ramba                 # shipped config, 5 folds
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rhythm_cv.py cv resnet1d-rhythm
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rhythm_cv.py cv ramba-no-ssm ramba-no-hrv --folds 0 1
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rhythm_cv.py cv gbm-windows --short 10  # + the first 10 s
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rhythm_cv.py zeroshot ramba --save src/ecgscope/models/pretrained/rhythm-default
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rhythm_cv.py zeroshot resnet1d-rhythm
    .venv/bin/python benchmarks/rhythm_cv.py table                                      # Markdown from the JSON
    .venv/bin/python benchmarks/rhythm_cv.py pack .pack --fs 100   # CinC + targets at 100 Hz, to carry to a GPU
    PYTHONPATH=src python3 benchmarks/rhythm_cv.py --pack .pack --threads 8 cv ramba --set device=cuda

Configurations: ``ramba`` (configs/rhythm/ramba.yaml), ``resnet1d-rhythm``
(configs/rhythm/resnet1d.yaml) and the ablations of :data:`ABLATIONS` (the
ramba config with one switch changed); ``--set key=value`` overrides options.

``cv`` runs :func:`~ecgscope.evaluation.rhythm_protocols.cross_validate_rhythm`
over the shipped split ``cinc2017`` v1 (one fresh estimator per fold, fitted on
the other folds only; its validation records for early stopping come from
those training folds). The same out-of-fold window probabilities are also
re-pooled with mean and max pooling (the pooling ablation needs no retraining:
pooling only aggregates window probabilities). ``--short 10`` also scores each
fold's model on the first 10 s of its test records (how it does on a 10-s
strip, as the zero-shot windows are). ``zeroshot`` trains on all
local CinC 2017 records, freezes the model and applies it with
:func:`~ecgscope.evaluation.rhythm_protocols.zero_shot` (p_AF = the ``A``
column, threshold 0.5) to the 10-s MIT-BIH windows (DS1 + paced records; DS2
is never read) and LUDB records of ``benchmarks/rhythm_baselines.py``.

Results are merged into ``benchmarks/results/rhythm_cv.json`` after every run;
per-run reports go to ``runs/rhythm-cv/<name>/``.

``pack DIR --fs F`` writes the CinC records and both zero-shot targets,
resampled to ``F`` Hz with the resampler the window models use (so a model at
that rate skips its own resampling), as float16 ``.npz`` files (about 40 MB at
100 Hz): small enough to carry to a machine without the data, such as a GPU
lent for a session. ``--pack DIR`` then reads them instead of ``$ECGSCOPE_DATA``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import torch
import yaml
from _common import environment as shared_environment

from ecgscope.datasets.rhythm import load_cinc2017, load_rhythm_set, save_rhythm_set
from ecgscope.evaluation.report_io import to_jsonable
from ecgscope.evaluation.rhythm import af_table, rhythm_class_table, rhythm_report, rhythm_table
from ecgscope.evaluation.rhythm_protocols import cross_validate_rhythm, zero_shot
from ecgscope.models.rhythm import create_rhythm_estimator

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "rhythm_cv.json"
RUNS = ROOT / "runs" / "rhythm-cv"
CONFIGS = {"ramba": ROOT / "configs" / "rhythm" / "ramba.yaml",
           "resnet1d-rhythm": ROOT / "configs" / "rhythm" / "resnet1d.yaml",
           "gbm-windows": ROOT / "configs" / "rhythm" / "gbm_windows.yaml"}
#: The shipped config before it took a 60-s HRV context (2026-11-22): the rows measured before then.
BEFORE_CONTEXT = {"hrv_context_s": 0.0}
#: The shipped trees before their short copies (2026-11-22, later): the gbm-windows rows measured before then.
NO_SHORT = {"short_copies": False}
#: 20 epochs of full passes (~242 steps of 64 windows each) instead of 6 x 40 steps, patience 5.
LONG = {"epochs": 20, "max_steps_per_epoch": None, "patience": 5}
#: name -> (base configuration, option overrides): one stream switched off each.
ABLATIONS = {
    "ramba-no-minirocket": ("ramba", {**BEFORE_CONTEXT, "minirocket_features": 0}),
    "ramba-no-hrv": ("ramba", {"hrv": False}),
    "ramba-no-ssm": ("ramba", {**BEFORE_CONTEXT, "ssm": False}),
    "ramba-signal-only": ("ramba", {"minirocket_features": 0, "hrv": False}),
    # not an ablation: the shipped config with twice the step budget (is it under-trained?)
    "ramba-2x-steps": ("ramba", {**BEFORE_CONTEXT, "epochs": 8, "max_steps_per_epoch": 60}),
    # conv only with ~5x the steps: about the CPU time of the shipped (SSM) config
    "ramba-no-ssm-equal-time": ("ramba", {**BEFORE_CONTEXT, "ssm": False, "max_steps_per_epoch": 200}),
    # the shipped config before temperature calibration (T = 1); the rows above were run before it existed
    "ramba-uncalibrated": ("ramba", {**BEFORE_CONTEXT, "calibration": None}),
    # + the AF irregularity features in the HRV token (features.hrv_stream.AF_FEATURES)
    "ramba-af-hrv": ("ramba", {**BEFORE_CONTEXT, "hrv_af": True}),
    # the shipped config without the 60-s HRV context (shipped until 2026-11-22)
    "ramba-no-context": ("ramba", BEFORE_CONTEXT),
    # + the beat-shape ectopy features (features.ectopy) in the window and context vectors
    "ramba-ectopy": ("ramba", {"hrv_ectopy": True}),
    # the conv-only 5x-steps configuration with the context
    "ramba-no-ssm-equal-time-context": ("ramba", {"ssm": False, "max_steps_per_epoch": 200}),
    # a sigmoid head (one-vs-rest): P(AF) is not shared with "Other" as in the softmax
    "ramba-sigmoid": ("ramba", {"head": "sigmoid"}),
    # the HRV token reads the record-level rhythm summary (features.rhythm_summary) of the window and context
    "ramba-summary": ("ramba", {"hrv_summary": True}),
    # the shipped trees with the iteration count chosen on the validation records (up to 1,500, every 50)
    # (run before the short copies, as the next two)
    "gbm-windows-early-stopping": ("gbm-windows", {"early_stopping": True, "max_iter": 1500, **NO_SHORT}),
    # the trees shipped until the short copies (2026-11-22, later): no copy of the windows as records of their own
    "gbm-windows-no-short": ("gbm-windows", NO_SHORT),
    # the shipped trees on half-overlapping windows (twice the training windows; twice the inference cost)
    "gbm-windows-hop5": ("gbm-windows", {"hop_s": 5.0, **NO_SHORT}),
    # P(AF) from a second, binary set of trees (AF against the rest): on every summary value, or on all but the
    # QRS-shape ones (rhythm, atrial activity, beat-to-beat shape changes, quality)
    "gbm-windows-af-all": ("gbm-windows", {"af_head": "all"}),
    "gbm-windows-af-rhythm": ("gbm-windows", {"af_head": "rhythm"}),
    "resnet1d-rhythm-uncalibrated": ("resnet1d-rhythm", {"calibration": None}),
    # learning curve (fold 0): 20 full passes over the training windows, ~20x the shipped step budget (6 x 40);
    # does the CPU step budget hold the networks back? (conv-only RAMBA: the 1x and 5x points are above)
    "ramba-no-ssm-20x": ("ramba", {**BEFORE_CONTEXT, "ssm": False, **LONG}),
    "resnet1d-rhythm-20x": ("resnet1d-rhythm", LONG),
}
#: The files of a ``pack`` folder.
PACK_FILES = {"cinc2017": "cinc2017.npz", "mitdb": "mitdb.npz", "ludb": "ludb.npz"}
#: Re-pooling of the same out-of-fold window probabilities.
POOLINGS = {"power (Q=3)": ("power", 3.0), "mean (Q=1)": ("mean", 1.0), "max (Q=inf)": ("max", None)}


def log(msg: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {msg}", flush=True)


def resolve(name: str, overrides: dict) -> tuple[str, dict]:
    """``(estimator name, options)`` of a configuration name plus overrides."""
    base, extra = (name, {}) if name in CONFIGS else ABLATIONS.get(name, (None, None))
    if base is None:
        raise SystemExit(f"unknown configuration {name!r}; use one of {sorted(CONFIGS) + sorted(ABLATIONS)}")
    cfg = yaml.safe_load(CONFIGS[base].read_text())
    return cfg["estimator"], {**cfg["options"], **extra, **overrides}


def parse_sets(items) -> dict:
    out = {}
    for item in items or []:
        key, _, value = item.partition("=")
        out[key] = yaml.safe_load(value)
    return out


def merge_results(section: str, name: str, entry: dict) -> None:
    data = json.loads(OUT.read_text()) if OUT.is_file() else {}
    data.setdefault(section, {})[name] = to_jsonable(entry)
    data["updated"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")


def environment() -> dict:
    return {**shared_environment(torch), "threads": torch.get_num_threads(),
            "note": "2-core machine shared with other jobs; wall times are upper bounds"}


class WindowRecorder:
    """Wraps an estimator for the harness: keeps each test record's window probabilities for re-pooling."""

    def __init__(self, estimator, store: list, short_s: float | None = None) -> None:
        self.est, self.store, self.short_s = estimator, store, short_s
        self.classes_ = estimator.classes_
        self.estimator_name = estimator.estimator_name

    def fit(self, train, *, progress: bool = False):
        log(f"  fit on {len(train)} records")
        self.est.fit(train, progress=progress)
        info = self.est.fit_info_
        log(f"  fitted: best epoch {info.get('best_epoch', '-')}, val challenge F1 {info['val_challenge_f1']:.3f}, "
            f"seconds {json.dumps({k: round(v) for k, v in info['seconds'].items()})}")
        return self

    def predict_proba(self, data):
        windows = self.est.predict_windows(data)
        self.store.append({"records": data.records, "labels": data.labels, "patients": data.patients,
                           "windows": windows, "fit": {k: v for k, v in self.est.fit_info_.items() if k != "history"},
                           "history": self.est.fit_info_.get("history", [])})
        if self.short_s:  # the same model on the first short_s seconds of each test record
            n = round(self.short_s * data.fs)
            self.store[-1]["short"] = self.est.predict_windows(replace(data, signals=[x[:, :n] for x in data.signals]))
        return self.est.pool(windows)


def run_key(name: str, folds) -> str:
    """Results key: the configuration name, plus ``@folds<ids>`` when not every fold ran."""
    return name if not folds else f"{name}@folds{''.join(str(f) for f in sorted(folds))}"


def run_cv(name: str, overrides: dict, folds, n_boot: int, data, short_s: float | None = None) -> dict:
    estimator, options = resolve(name, overrides)
    store: list = []
    t0 = time.perf_counter()
    log(f"cv {name}: {estimator} {options}")
    result = cross_validate_rhythm(lambda: WindowRecorder(create_rhythm_estimator(estimator, **options), store,
                                                          short_s),
                                   data, "cinc2017", folds=folds, progress=False, out_dir=RUNS / name,
                                   n_boot=n_boot, name=name)
    wall = time.perf_counter() - t0
    est = create_rhythm_estimator(estimator, **options)
    pooled = {}
    for label, (mode, q) in POOLINGS.items():
        labels = np.concatenate([s["labels"] for s in store])
        patients = np.concatenate([s["patients"] for s in store])
        proba = np.concatenate([est.pool(s["windows"], mode, q) for s in store])
        pooled[label] = rhythm_report(labels, proba, est.classes_, groups=patients, n_boot=n_boot)
    if short_s:
        proba = np.concatenate([est.pool(s["short"]) for s in store])
        pooled[f"first {short_s:g} s of each record"] = rhythm_report(labels, proba, est.classes_, groups=patients,
                                                                      n_boot=n_boot)
    entry = {"config": name, "estimator": estimator, "options": options, "folds": result.folds,
             "folds_run": result.info["folds_run"], "report": result.report, "pooling": pooled,
             "fit": [s["fit"] for s in store], "history": [s["history"] for s in store],
             "wall_s": round(wall, 1), "environment": environment(),
             "command": "OMP_NUM_THREADS=1 .venv/bin/python " + " ".join(sys.argv)}
    merge_results("cv", run_key(name, folds), entry)
    log(f"cv {name} done in {wall:.0f} s")
    print(rhythm_table({name: result.report}))
    print(rhythm_table({f"{name} / {k}": v for k, v in pooled.items()}))
    print(rhythm_class_table(result.report))
    return entry


def zero_shot_targets(pack: Path | None) -> tuple[dict, dict]:
    """The MIT-BIH windows and LUDB records (``{name: RhythmSet}``, ``{name: info}``), from ``pack`` if given."""
    if pack is None:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        from rhythm_baselines import _targets

        return _targets(None, log)
    targets = {k: load_rhythm_set(pack / PACK_FILES[k]) for k in ("mitdb", "ludb")}
    return targets, {k: {kk: vv for kk, vv in v.summary().items() if kk != "info"} | {"pack": str(pack)}
                     for k, v in targets.items()}


def write_pack(folder: Path, fs: float) -> None:
    """CinC 2017 and the zero-shot targets at ``fs`` Hz as float16 ``.npz`` files in ``folder``."""
    from ecgscope.signal import resample

    sets = {"cinc2017": load_cinc2017(progress=False), **zero_shot_targets(None)[0]}
    for key, data in sets.items():
        packed = replace(data, signals=[resample(x, data.fs, fs) for x in data.signals], fs=fs,
                         info={**data.info, "packed_from_fs": data.fs})
        path = save_rhythm_set(packed, folder / PACK_FILES[key], dtype="float16", compress=True)
        log(f"{key}: {len(packed)} items at {fs:g} Hz -> {path} ({path.stat().st_size / 2**20:.1f} MiB)")


def run_zeroshot(name: str, overrides: dict, n_boot: int, data, save: str | None, pack: Path | None = None) -> dict:
    estimator, options = resolve(name, overrides)
    t0 = time.perf_counter()
    log(f"train {name} on all {len(data)} CinC 2017 records")
    est = create_rhythm_estimator(estimator, **options).fit(data)
    fit_s = time.perf_counter() - t0
    targets, target_info = zero_shot_targets(pack)
    reports = zero_shot(est, targets, threshold=0.5, n_boot=n_boot, out_dir=RUNS / f"{name}-zeroshot")
    folder = Path(save) if save else RUNS / f"{name}-all"
    cv = (json.loads(OUT.read_text()).get("cv", {}).get(name) if OUT.is_file() else None)
    metrics = {"zero_shot_af": {k: {m: v.get(m) for m in ("auroc", "auprc", "f1", "se", "sp", "ppv", "n", "n_af")
                                    if m in v} for k, v in reports.items()}}
    if cv:
        metrics["cinc2017_cv"] = {"split": "cinc2017 v1", "folds": cv["folds_run"],
                                  "challenge_f1": cv["report"].get("challenge_f1"),
                                  "command": cv["command"]}
    training = {"data": {"source": "cinc2017", "records": len(data), "labels": data.summary()["labels"]},
                "split": "all local CinC 2017 records (REFERENCE.csv); no test records",
                "config": {"name": name, "estimator": estimator, "options": options},
                "command": "OMP_NUM_THREADS=1 .venv/bin/python " + " ".join(sys.argv)}
    est.save(folder, training=training, metrics=metrics)
    entry = {"config": name, "options": options, "fit_s": round(fit_s, 1), "targets": reports,
             "target_info": target_info, "checkpoint": str(folder.relative_to(ROOT) if folder.is_absolute()
                                                         and ROOT in folder.parents else folder),
             "environment": environment(), "command": training["command"]}
    merge_results("zero_shot", name, entry)
    print(af_table(reports))
    return entry


def same_folds(name: str, folds: list[int], n_boot: int = 1000) -> dict | None:
    """Report of a full CV run restricted to ``folds`` (its out-of-fold predictions there), or None."""
    import pandas as pd

    path = RUNS / name / "predictions.csv"
    if not path.is_file():
        return None
    pred = pd.read_csv(path)
    pred = pred[pred["fold"].isin(folds)]
    classes = ("N", "A", "O", "~")
    return rhythm_report(pred["label"].astype(str).to_numpy(), pred[[f"p_{c}" for c in classes]].to_numpy(),
                         classes, groups=pred["patient"].astype(str).to_numpy(), n_boot=n_boot)


def print_tables() -> None:
    data = json.loads(OUT.read_text())
    cv = data.get("cv", {})
    if cv:
        full = {k: v for k, v in cv.items() if "@" not in k}
        print(rhythm_table({k: v["report"] for k, v in full.items()}))
        for subset in sorted({tuple(v["folds_run"]) for k, v in cv.items() if "@" in k}):
            rows = {f"{k} (folds {list(subset)} of the 5-fold run)": same_folds(k, list(subset)) for k in full}
            rows |= {k: v["report"] for k, v in cv.items() if "@" in k and tuple(v["folds_run"]) == subset}
            print(f"\nfolds {list(subset)} only")
            print(rhythm_table({k: v for k, v in rows.items() if v is not None}))
        for k, v in cv.items():
            print(f"\n{k}: folds {v['folds_run']}, wall {v['wall_s']} s")
            print(rhythm_table({f"{k} / {p}": r for p, r in v["pooling"].items()}))
    for k, v in data.get("zero_shot", {}).items():
        print(f"\nzero-shot {k} (trained on all CinC in {v['fit_s']} s)")
        print(af_table(v["targets"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pack", type=Path, default=None, help="read the data from a `pack` folder")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cv")
    c.add_argument("names", nargs="+")
    c.add_argument("--folds", type=int, nargs="*")
    c.add_argument("--set", nargs="*", default=[])
    c.add_argument("--n-boot", type=int, default=1000)
    c.add_argument("--short", type=float, default=None, metavar="SECONDS",
                   help="also score each fold's model on the first SECONDS of its test records")
    z = sub.add_parser("zeroshot")
    z.add_argument("names", nargs="+")
    z.add_argument("--save", default=None, help="checkpoint folder for the first name")
    z.add_argument("--set", nargs="*", default=[])
    z.add_argument("--n-boot", type=int, default=1000)
    for p in (c, z):
        p.add_argument("--limit", type=int, default=None, help="first N records only (smoke tests)")
    sub.add_parser("table")
    k = sub.add_parser("pack")
    k.add_argument("folder", type=Path)
    k.add_argument("--fs", type=float, default=100.0, help="sampling rate of the packed signals (Hz)")
    args = ap.parse_args()
    if args.cmd == "table":
        print_tables()
        return
    if args.cmd == "pack":
        write_pack(args.folder, args.fs)
        return
    torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    data = load_rhythm_set(args.pack / PACK_FILES["cinc2017"]) if args.pack else load_cinc2017(progress=False)
    if args.limit:
        data = data.subset(np.arange(min(args.limit, len(data))))
    log(f"loaded {len(data)} CinC 2017 records in {time.perf_counter() - t0:.1f} s")
    overrides = parse_sets(args.set)
    for i, name in enumerate(args.names):
        if args.cmd == "cv":
            run_cv(name, overrides, args.folds, args.n_boot, data, args.short)
        else:
            run_zeroshot(name, overrides, args.n_boot, data, args.save if i == 0 else None, args.pack)


if __name__ == "__main__":
    main()
