"""The shipped default beat classifier: its training (time, card) and its inference speed.

Two steps, run in this order (the patient-wise CV of the same configuration
comes first; it is the honest estimate, and ``train`` refuses to ship a model
whose configuration differs from the one cross-validated)::

    ECGSCOPE_DATA=../shared/data ecgscope benchmark beats --protocol cv \\
        --config configs/beats/default.yaml --threads 1 -o runs/beats-default-cv
    ECGSCOPE_DATA=../shared/data python benchmarks/beat_classification.py train --cv runs/beats-default-cv
    python benchmarks/beat_classification.py infer [--record ../shared/data/mitdb/101] [--repeat 7]
    # a candidate: train another cross-validated configuration elsewhere, time it with --model
    python benchmarks/beat_classification.py train --cv runs/cv-x --config configs/beats/x.yaml --out runs/x
    python benchmarks/beat_classification.py infer --model runs/x --threads 1
    python benchmarks/beat_classification.py table runs/cv-a runs/cv-b ...   # CV table, CIs included
    python benchmarks/beat_classification.py rescore runs/cv-a ...   # refit the premature rule, no retraining

``train`` trains ``configs/beats/default.yaml`` (or ``--config``, also an ensemble config such as
``configs/beats/ensemble.yaml``) + :data:`OVERRIDES` on all of MIT-BIH DS1 (two DS1 patients held out for early stopping; nothing from DS2),
times it, adds the CV report (gross Se/+P/F1 with record-bootstrap CIs) to the
card's ``metrics.cv`` and writes the checkpoint folder
``src/ecgscope/models/pretrained/beats-default``. ``infer`` times
:func:`ecgscope.classify_beats` on a 30-min record (first MIT-BIH record
found, else a simulated one), R-peak detection included: the cold first call
(model loading) and the median of warm calls, with 1 and 2 torch threads, and
a breakdown (detection, beat extraction, network). Both print a table and
merge their figures into ``benchmarks/results/beat_classification.json``
(``infer`` under the record's name; a candidate -- ``train --out`` elsewhere than
the shipped folder, ``infer --model`` other than ``default`` -- under
``train_candidates`` / ``infer_candidates``, so it never replaces the shipped
model's figures); ``table`` prints one row per CV run
(macro-F1, SVEB and VEB Se/+P/F1 with record-bootstrap CIs, wall time) and
merges them under ``cv_runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch
import yaml

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "beat_classification.json"
BASE_CONFIG = ROOT / "configs" / "beats" / "default.yaml"
#: The default model's configuration is the YAML file as it stands.
OVERRIDES = ["train.progress=false"]
#: Keys that may differ between the CV run and the training run (where, not what).
_WHERE = {("name",), ("data", "root"), ("data", "cache_dir"), ("train", "progress"), ("train", "tensorboard"),
          ("folds",)}


def _merge_results(key: str, value: dict, sub: str | None = None) -> None:
    data = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    if sub is None:
        data[key] = value
    else:
        data.setdefault(key, {})[sub] = value
    data["machine"] = {"python": platform.python_version(), "torch": torch.__version__,
                       "platform": platform.platform(), "cpus": os.cpu_count()}
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")


def _flatten(d: dict, prefix=()) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and k != "kwargs":
            out.update(_flatten(v, (*prefix, k)))
        else:
            out[(*prefix, k)] = v
    return out


def _where(key: tuple) -> bool:
    """Whether ``key`` says where a run ran, not what (an ensemble member's keys sit under members.<m>.config)."""
    if key[:1] == ("members",) and key[2:3] == ("config",):
        key = key[3:]
    return key in _WHERE


def _config_differences(a: dict, b: dict) -> list[str]:
    fa, fb = _flatten(a), _flatten(b)
    keys = sorted(set(fa) | set(fb))
    return [".".join(k) for k in keys if not _where(k) and fa.get(k) != fb.get(k)]


def cv_summary(cv_dir: Path) -> dict:
    """Gross AAMI figures with CIs of a CV run's report.json, for the card and the results file."""
    report = json.loads((cv_dir / "report.json").read_text())
    split = json.loads((cv_dir / "split.json").read_text())
    classes = report["classes"]
    table = {c: {m: {"value": report["gross"][m][c], "ci": report["ci"][m][c]}
                 for m in ("se", "ppv", "f1", "fpr")} for c in classes}
    for c in classes:
        table[c]["beats"] = report["gross"]["support"][c]
    return {
        "protocol": f"patient-wise {split['split']['k']}-fold CV in {split['split']['name']} "
                    f"v{split['split']['version']} (out-of-fold predictions pooled)",
        "n_beats": report["n_beats"], "n_records": report["n_records"],
        "bootstrap": report["bootstrap"], "gross": table,
        "accuracy": {"value": report["accuracy"], "ci": report["ci"]["accuracy"]},
        "macro_f1": {k: {"value": v, "ci": report["ci"][f"macro_f1:{k}"]}
                     for k, v in report["macro_f1"].items()},
        "folds": json.loads((cv_dir / "protocol.json").read_text()).get("folds"),
    }


def _fmt(entry: dict) -> str:
    """``value [lo, hi]`` in percent."""
    lo, hi = entry["ci"]
    return f"{100 * entry['value']:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]"


def table(args) -> None:
    """Summarise CV runs (one row each: model, settings, macro-F1, SVEB, VEB, wall time) into the results file."""
    rows = {}
    print("| run | model | macro-F1 N/S/V % | SVEB Se % | SVEB +P % | SVEB F1 % | VEB Se % | VEB +P % "
          "| VEB F1 % | N Se % | CV wall (s) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for folder in args.runs:
        cv_dir = Path(folder)
        summary = cv_summary(cv_dir)
        version = json.loads((cv_dir / "version.json").read_text())
        protocol = json.loads((cv_dir / "protocol.json").read_text())
        argv = version["environment"]["argv"]
        summary["command"] = " ".join(["ecgscope", *argv[1:]])
        if "rescored_from" in protocol:  # the rule refitted afterwards (rescore)
            summary["command"] += (f"; python benchmarks/beat_classification.py rescore {protocol['rescored_from']}"
                                   f" --suffix={cv_dir.name.removeprefix(Path(protocol['rescored_from']).name)}")
        cfg = yaml.safe_load((cv_dir / "config.yaml").read_text())
        summary["model"] = cfg.get("model") or {  # an ensemble: its members' models
            "name": "ensemble", "variant": " + ".join(f"{m['config']['model']['name']} {m['config']['model']['variant']}"
                                                      for m in cfg["members"].values())}
        summary["seconds"] = protocol["seconds"]["cross_validation"]
        rows[cv_dir.name] = summary
        g = summary["gross"]
        print(f"| {cv_dir.name} | {summary['model']['name']} {summary['model']['variant']} | "
              f"{_fmt(summary['macro_f1']['N/S/V'])} | {_fmt(g['S']['se'])} | {_fmt(g['S']['ppv'])} | "
              f"{_fmt(g['S']['f1'])} | {_fmt(g['V']['se'])} | {_fmt(g['V']['ppv'])} | {_fmt(g['V']['f1'])} | "
              f"{_fmt(g['N']['se'])} | {summary['seconds']:.0f} |")
    for name, summary in rows.items():
        _merge_results("cv_runs", summary, sub=name)


def _train_single(config, out: Path, cv: dict):
    """Train one checkpoint into ``out`` with ``cv`` in its card; ``(outcomes, parameters)``."""
    from ecgscope.models.checkpoint import load_checkpoint, save_checkpoint
    from ecgscope.training.experiment import train_experiment

    start = time.perf_counter()
    outcome = train_experiment(config, out)
    seconds = time.perf_counter() - start
    model, card = load_checkpoint(out)
    card["metrics"]["cv"] = cv
    card["metrics"]["training_seconds"] = round(seconds, 1)
    save_checkpoint(model, card, out)
    return {"model": outcome}, sum(p.numel() for p in model.parameters()), seconds


def _train_ensemble(config, out: Path, cv: dict):
    """Train an ensemble's members into ``out/<member>`` and write its card with ``cv``."""
    from ecgscope.models.checkpoint import load_checkpoint
    from ecgscope.models.ensemble import read_ensemble_card, save_ensemble
    from ecgscope.training.ensemble import train_ensemble

    start = time.perf_counter()
    outcomes = dict(zip(config.members, train_ensemble(config, out)))
    seconds = time.perf_counter() - start
    save_ensemble({n: out / n for n in config.members}, out, weights=config.weights,
                  shape_rule=read_ensemble_card(out).get("shape_rule"),
                  metrics={"cv": cv, "training_seconds": round(seconds, 1)}, training={"config": config.to_dict()})
    parameters = sum(p.numel() for n in config.members for p in load_checkpoint(out / n)[0].parameters())
    return outcomes, parameters, seconds


def train(args) -> None:
    """Train the default model (one checkpoint or an ensemble) on all of DS1, attach the CV estimate, time it."""
    import shutil

    from ecgscope.models.checkpoint import card_hash
    from ecgscope.training.ensemble import EnsembleConfig, load_experiment_config

    torch.set_num_threads(args.threads)
    base = Path(args.config)
    config = load_experiment_config(base, OVERRIDES)
    cv_dir = Path(args.cv)
    cv_config = load_experiment_config(cv_dir / "config.yaml")
    diff = _config_differences(cv_config.to_dict(), config.to_dict())
    if diff:
        sys.exit(f"the CV in {cv_dir} ran another configuration (differs in {', '.join(diff)}); "
                 "cross-validate this configuration first")
    cv = cv_summary(cv_dir)
    out = Path(args.out)
    shipped = out.resolve() == (ROOT / "src/ecgscope/models/pretrained/beats-default").resolve()
    if shipped and out.exists():
        shutil.rmtree(out)  # the previous default (in git), so no file of it lingers beside the new one
    trainer = _train_ensemble if isinstance(config, EnsembleConfig) else _train_single
    outcomes, parameters, seconds = trainer(config, out, cv)
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    members = {name: {"epochs_run": o.result.epochs_run, "best_epoch": o.result.best_epoch,
                      "seconds_per_epoch": [round(h["seconds"], 1) for h in o.result.history],
                      "train_beats": o.result.info["train_beats"], "val_patients": o.val_patients,
                      "validation": {k: o.result.metrics.get(k) for k in ("macro_f1", "f1", "accuracy", "n")}}
               for name, o in outcomes.items()}
    result = {
        "command": "python benchmarks/beat_classification.py " + " ".join(sys.argv[1:]),
        "config": {"base": str(base.resolve().relative_to(ROOT)) if base.resolve().is_relative_to(ROOT)
                   else str(base), "overrides": OVERRIDES},
        "threads": args.threads, "seconds": round(seconds, 1), **(members.pop("model") if "model" in members
                                                                   else {"members": members}),
        "parameters": parameters, "folder_bytes": size, "card_hash": card_hash(out), "cv": cv,
    }
    if shipped:
        _merge_results("train", result)
    else:  # a candidate trained elsewhere: its figures must not replace the shipped model's
        _merge_results("train_candidates", result, sub=out.name)
    for name, o in outcomes.items():
        print(f"{name}: trained {o.result.epochs_run} epochs (best {o.result.best_epoch}); "
              f"validation macro-F1 {o.result.metrics['macro_f1']:.3f}")
    print(f"{seconds:.0f} s on {args.threads} thread(s); {out}: {size / 1e6:.2f} MB, card hash {result['card_hash']}")


def rescore(args) -> None:
    """Refit a finished CV run's premature-beat rule with the current code, without retraining.

    :func:`ecgscope.training.premature.refit_rule_by_fold` on the run's predictions (each fold's rule fitted on
    the other folds' rows, applied to the network's own labels), then, when the run's config has one, the
    dominant-shape rule (:func:`ecgscope.training.shape_rule.refit_shape_rule_by_fold`, as the ensemble's CV
    applies it): what a re-run of the same configuration would give, as neither rule sees the network. Writes
    ``<run><suffix>/`` (predictions, report, the run's config / split / version, protocol.json naming its
    source) for :func:`table`.
    """
    import shutil

    import pandas as pd

    from ecgscope.evaluation.protocols import report_from_predictions
    from ecgscope.training.experiment import write_json
    from ecgscope.training.ensemble import load_experiment_config
    from ecgscope.training.premature import refit_rule_by_fold
    from ecgscope.training.shape_rule import refit_shape_rule_by_fold

    for folder in args.runs:
        src = Path(folder)
        protocol = json.loads((src / "protocol.json").read_text())
        pred = pd.read_csv(src / "predictions.csv", dtype={"record_id": str, "patient_id": str})
        if protocol.get("skipped_folds") or sorted(pred["fold"].unique()) != list(range(protocol["split"]["k"])):
            sys.exit(f"{src}: not every fold ran, so the other folds' rows are not each fold's training records")
        pred["y_pred"], fitted = refit_rule_by_fold(pred)
        rules = {k: rule.to_card() for k, rule in fitted.items()}
        config = load_experiment_config(src / "config.yaml")
        shape_rules = None
        if getattr(config, "shape_rule", None) is not None:
            labels, shapes = refit_shape_rule_by_fold(pred, config.data.first_lead_reader(), config.shape_rule)
            pred["y_pred"] = labels.astype(str)
            shape_rules = {k: rule.to_card() for k, rule in shapes.items()}
        out = src.with_name(src.name + args.suffix)
        out.mkdir(parents=True, exist_ok=True)
        for name in ("config.yaml", "split.json", "version.json"):
            shutil.copy2(src / name, out / name)
        report = report_from_predictions(pred, protocol["classes"], n_boot=protocol["bootstrap"]["n_boot"],
                                         seed=protocol["bootstrap"]["seed"])
        report.save(out, plots=False)
        pred.to_csv(out / "predictions.csv", index=False, float_format="%.6g")
        write_json(out / "protocol.json", {**protocol, "rescored_from": str(src), "premature_rules": rules,
                                           "shape_rules": shape_rules, "n_beats": report.n_beats})
        before = json.loads((src / "report.json").read_text())["macro_f1"]["N/S/V"]
        print(f"{src} -> {out}: macro-F1 N/S/V {100 * before:.1f} -> {100 * report.macro_f1['N/S/V']:.1f}; "
              "rules " + ", ".join(f"{k}: {r['prematurity']}/{r['irregularity']}" for k, r in rules.items()))


def _find_record(path: str | None):
    import ecgscope

    if path:
        return ecgscope.read(path), str(path)
    shared = ROOT.parent / "shared" / "data" / "mitdb" / "101"
    if shared.with_suffix(".hea").is_file():
        return ecgscope.read(shared), "mitdb/101"
    from ecgscope.synthesis import simulate

    return simulate(duration=1800, fs=360.0, pvc_rate=0.05, apc_rate=0.03, seed=0), "simulated 30 min, 360 Hz"


def _breakdown(record, clf) -> dict:
    """Seconds of each stage of one warm call."""
    from ecgscope.datasets.beats import extract_beats
    from ecgscope.signal import find_rpeaks
    from ecgscope.training.trainer import predict_proba

    t0 = time.perf_counter()
    pos = find_rpeaks(record.signal, record.fs, nan_policy="mask")
    times = {"detection": time.perf_counter() - t0, "beat_extraction": 0.0, "network": 0.0, "beats": int(pos.size)}
    lead = record.select_leads(list(clf.config.leads))
    for _, member in clf.parts:  # an ensemble's members each cut and classify their own beats
        t1 = time.perf_counter()
        beats = extract_beats(lead, member.config, positions=pos)
        t2 = time.perf_counter()
        predict_proba(member.model, beats, member.card["normalisation"])
        times["beat_extraction"] += t2 - t1
        times["network"] += time.perf_counter() - t2
    return times


def infer(args) -> None:
    """Time classify_beats (detection included) on a 30-min record."""
    from ecgscope.analysis import classify as cl

    record, name = _find_record(args.record)
    minutes = record.duration / 60
    rows = []
    for threads in args.threads:
        torch.set_num_threads(threads)
        cl._load.cache_clear()
        start = time.perf_counter()
        frame = cl.classify_beats(record, model=args.model)
        cold = time.perf_counter() - start
        warm = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            cl.classify_beats(record, model=args.model)
            warm.append(time.perf_counter() - start)
        parts = [_breakdown(record, cl.load_beat_classifier(args.model)) for _ in range(3)]
        rows.append({"threads": threads, "beats": len(frame), "cold_s": round(cold, 3),
                     "warm_median_s": round(statistics.median(warm), 3), "warm_min_s": round(min(warm), 3),
                     **{f"{k}_s": round(statistics.median(p[k] for p in parts), 3)
                        for k in ("detection", "beat_extraction", "network")},
                     "labels": frame["label"].value_counts().to_dict()})
    print(f"classify_beats on {name} ({minutes:.1f} min, {record.fs:g} Hz, {rows[0]['beats']} beats), "
          f"model {args.model}, {args.repeat} warm calls")
    print("| threads | cold (s) | warm median (s) | warm min (s) | detection (s) | beat extraction (s) "
          "| network (s) |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['threads']} | {r['cold_s']:.3f} | {r['warm_median_s']:.3f} | {r['warm_min_s']:.3f} | "
              f"{r['detection_s']:.3f} | {r['beat_extraction_s']:.3f} | {r['network_s']:.3f} |")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    _merge_results("infer" if args.model == "default" else "infer_candidates", {"command": "python benchmarks/beat_classification.py infer "
                                        + " ".join(sys.argv[2:]),
                             "record": name, "minutes": round(minutes, 2), "fs": record.fs,
                             "model": args.model,
                             "repeat": args.repeat, "load_average_1min": load, "rows": rows},
                   sub=name if args.model == "default" else f"{name} [{args.model}]")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("train", help="train the shipped default model (after its CV)")
    p.add_argument("--cv", required=True, help="folder of the CV run of the same configuration")
    p.add_argument("--config", default=str(BASE_CONFIG), help="configuration to train (default: the shipped one)")
    p.add_argument("--out", default=str(ROOT / "src/ecgscope/models/pretrained/beats-default"))
    p.add_argument("--threads", type=int, default=1)
    p.set_defaults(run=train)
    p = sub.add_parser("table", help="summarise CV runs (CIs included) into the results file")
    p.add_argument("runs", nargs="+", help="CV output folders")
    p.set_defaults(run=table)
    p = sub.add_parser("rescore", help="refit finished CV runs' premature-beat rule with the current code")
    p.add_argument("runs", nargs="+", help="CV output folders (every fold run)")
    p.add_argument("--suffix", default="-rescored", help="appended to each run's folder name for the output")
    p.set_defaults(run=rescore)
    p = sub.add_parser("infer", help="time classify_beats on a 30-min record")
    p.add_argument("--record", default=None, help="record to classify (default mitdb/101 or a simulated one)")
    p.add_argument("--model", default="default")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.set_defaults(run=infer)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
