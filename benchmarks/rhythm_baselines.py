"""Classical rhythm baselines on CinC 2017 (patient-wise 5-fold CV) and zero-shot AF on MIT-BIH and LUDB.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rhythm_baselines.py                 # all three baselines
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/rhythm_baselines.py --models gbm-rr --n-boot 200

For each baseline (``gbm-rr``, ``hrv-logistic``, ``minirocket-logistic``):

1. :func:`~ecgscope.evaluation.rhythm_protocols.cross_validate_rhythm` over the
   shipped split ``cinc2017`` v1 (one fresh model per fold, fitted on the other
   four folds only), scored on the pooled out-of-fold predictions with the
   challenge F1 (mean of N, A, O), per-class F1/AUROC, ECE and record-bootstrap CIs;
2. a model fitted on all local CinC 2017 records, frozen, applied zero-shot with
   :func:`~ecgscope.evaluation.rhythm_protocols.zero_shot` (p_AF = the ``A``
   probability, threshold 0.5) to 10-s lead-II windows of the local MIT-BIH records
   (DS1 + paced; DS2 is never read) and to the LUDB records (lead II).

Writes ``benchmarks/results/rhythm_baselines.json`` (after every model, so a long
run keeps what it finished), per-run reports under ``--runs-dir``, and prints Markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from ecgscope import __version__
from ecgscope.datasets.labels import DS1, MITDB_PACED_RECORDS
from ecgscope.datasets.rhythm import load_cinc2017, ludb_af_records, mitdb_af_windows
from ecgscope.evaluation.report_io import to_jsonable
from ecgscope.evaluation.rhythm import af_table, rhythm_class_table, rhythm_table
from ecgscope.evaluation.rhythm_protocols import cross_validate_rhythm, zero_shot
from ecgscope.models.rhythm import create_rhythm_estimator

MODELS = ("gbm-rr", "hrv-logistic", "minirocket-logistic", "gbm-summary")
ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "results" / "rhythm_baselines.json"


def _targets(root, log) -> tuple[dict, dict]:
    t0 = time.perf_counter()
    records = sorted(set(DS1) | set(MITDB_PACED_RECORDS))
    mitdb = mitdb_af_windows(root, records=records, window_s=10.0, lead="II")
    t1 = time.perf_counter()
    ludb = ludb_af_records(root, lead="II")
    t2 = time.perf_counter()
    log(f"targets: mitdb {mitdb.summary()['labels']} ({t1 - t0:.1f} s), ludb {ludb.summary()['labels']} "
        f"({t2 - t1:.1f} s)")
    info = {"mitdb": {k: v for k, v in mitdb.summary().items() if k != "info"} | {
                "records": records, "skipped": mitdb.info["skipped"], "window_s": 10.0,
                "load_s": round(t1 - t0, 2),
                "n_patients_af": len(set(mitdb.patients[mitdb.labels == "AF"]))},
            "ludb": {k: v for k, v in ludb.summary().items() if k != "info"} | {"load_s": round(t2 - t1, 2)}}
    return {"mitdb": mitdb, "ludb": ludb}, info


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--root", default=None, help="data root (default $ECGSCOPE_DATA)")
    ap.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    ap.add_argument("--n-boot", type=int, default=1000)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--runs-dir", type=Path, default=ROOT / "runs" / "rhythm_baselines")
    ap.add_argument("--no-zero-shot", action="store_true")
    args = ap.parse_args()

    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass

    def log(msg: str) -> None:
        print(f"[{dt.datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)

    t0 = time.perf_counter()
    cinc = load_cinc2017(args.root, progress=False)
    load_s = time.perf_counter() - t0
    log(f"cinc2017: {len(cinc)} records, {cinc.summary()['labels']} ({load_s:.1f} s)")
    targets, target_info = ({}, {}) if args.no_zero_shot else _targets(args.root, log)

    result = json.loads(args.out.read_text()) if args.out.is_file() else {}
    result.update({
        "benchmark": "rhythm_baselines", "version": __version__,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpu_count": os.cpu_count(), "threads": 1,
                    "note": "2 CPU cores shared with other jobs; times are wall-clock and indicative"},
        "protocol": {"cv": "cinc2017 split v1, patient-wise 5-fold, out-of-fold predictions pooled",
                     "metric": "challenge F1 = mean F1 of N, A, O; 95 % bootstrap CIs over records",
                     "zero_shot": "fit on all local CinC 2017, frozen; p_AF = P(A) >= 0.5; AF = AFIB or AFL",
                     "n_boot": args.n_boot},
        "data": {"cinc2017": {k: v for k, v in cinc.summary().items() if k != "info"}
                 | {"load_s": round(load_s, 2)},
                 **target_info},
    })
    result.setdefault("models", {})
    for name in args.models:
        log(f"{name}: cross-validation")
        cv = cross_validate_rhythm(lambda name=name: create_rhythm_estimator(name), cinc, "cinc2017",
                                   progress=False,
                                   out_dir=args.runs_dir / name / "cv", n_boot=args.n_boot)
        entry = {"cv": {"report": cv.report, "folds": cv.folds, "fit_s_total": cv.info["fit_s_total"],
                        "predict_s_total": cv.info["predict_s_total"]}}
        log(f"{name}: challenge F1 {cv.report['challenge_f1']['value']:.3f} "
            f"(fit {cv.info['fit_s_total']:.0f} s, predict {cv.info['predict_s_total']:.0f} s)")
        if targets:
            est = create_rhythm_estimator(name)
            t1 = time.perf_counter()
            est.fit(cinc)
            fit_s = time.perf_counter() - t1
            zs = zero_shot(est, targets, n_boot=args.n_boot, out_dir=args.runs_dir / name / "zero_shot")
            entry["zero_shot"] = {"fit_all_s": round(fit_s, 2), "targets": zs}
            aurocs = ", ".join(f"{k} {v['auroc']['value']:.3f}" for k, v in zs.items())
            log(f"{name}: zero-shot AUROC {aurocs}")
        result["models"][name] = entry
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(to_jsonable(result), indent=1, allow_nan=False) + "\n")
    print(markdown(result))


def markdown(result: dict) -> str:
    """The benchmark's tables: CV summary, per-class tables, zero-shot per target."""
    models = result.get("models", {})
    parts = ["## CinC 2017, patient-wise 5-fold CV (split cinc2017 v1)", "",
             rhythm_table({m: e["cv"]["report"] for m, e in models.items()})]
    for m, e in models.items():
        parts += ["", f"### {m}: per class", "", rhythm_class_table(e["cv"]["report"]), "",
                  (f"fit {e['cv']['fit_s_total']:.0f} s, predict {e['cv']['predict_s_total']:.0f} s "
                   "over 5 folds")]
    zs = {f"{m} / {t}": r for m, e in models.items()
          for t, r in e.get("zero_shot", {}).get("targets", {}).items()}
    if zs:
        parts += ["", "## Zero-shot AF detection (trained on CinC 2017, threshold 0.5)", "",
                  af_table(zs, "model / target")]
    return "\n".join(parts) + "\n"


if __name__ == "__main__":
    main()
