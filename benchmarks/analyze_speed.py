"""Speed and peak memory of ``ecgscope.analyze`` on simulated 2-lead records (30 min and 24 h).

    .venv/bin/python benchmarks/analyze_speed.py            # both cases
    .venv/bin/python benchmarks/analyze_speed.py --only 30min
    .venv/bin/python benchmarks/analyze_speed.py --rhythm-model default --out benchmarks/results/analyze_speed_rhythm.json

The 24-h record is a 30-min simulation (360 Hz, PVCs, APCs, AF) tiled 48
times (simulating 24 h takes minutes; the analysis cost is the same). Peak
memory is the process's resident high-water mark (``resource.getrusage``)
minus the record itself; targets: 30 min <= 2 s, 24 h <= 60 s and <= 2 GB.
``--rhythm-model`` runs AF detection with a rhythm model (``analyze --rhythm-model``)
instead of the RR-irregularity rule; the targets are those of the default analysis.
Writes ``benchmarks/results/analyze_speed.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import time
from pathlib import Path

import numpy as np

from ecgscope import __version__
from ecgscope.analysis.pipeline import analyze
from ecgscope.record import Record
from ecgscope.synthesis import simulate

TARGETS = {"30min": (1800.0, 2.0), "24h": (86400.0, 60.0)}


def _beat_model():
    try:
        from ecgscope.analysis.classify import load_beat_classifier

        load_beat_classifier("default")
        return "default"
    except Exception:
        return None


def _record(duration: float, base: Record) -> Record:
    reps = int(np.ceil(duration / base.duration))
    sig = np.tile(base.signal, (1, reps))[:, : int(duration * base.fs)]
    return Record(signal=sig, fs=base.fs, leads=list(base.leads))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", choices=sorted(TARGETS), default=None)
    ap.add_argument("--out", default="benchmarks/results/analyze_speed.json")
    ap.add_argument("--rhythm-model", default=None, help="shipped name or checkpoint folder (default: the rule)")
    ap.add_argument("--workers", type=int, default=1, help="processes for the rhythm model's window features")
    args = ap.parse_args()
    detector = None
    if args.rhythm_model:
        from ecgscope.analysis.rhythm import ModelRhythmDetector

        detector = ModelRhythmDetector(args.rhythm_model, workers=args.workers)
    base = simulate(duration=1800.0, fs=360.0, heart_rate=75, pvc_rate=0.03, apc_rate=0.02, couplets=3,
                    af_episodes=[(600.0, 900.0, 105.0)], noise=24.0, seed=7)
    model = _beat_model()
    rows = []
    for name, (duration, target) in TARGETS.items():
        if args.only and name != args.only:
            continue
        record = _record(duration, base)
        rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        t0 = time.perf_counter()
        report = analyze(record, beat_model=model, rhythm_model=detector)
        elapsed = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append({"case": name, "duration_s": duration, "fs": record.fs, "leads": record.n_leads,
                     "beats": len(report.beats), "af_episodes": len(report.episodes("AF")),
                     "seconds": round(elapsed, 2), "target_s": target, "ok": elapsed <= target,
                     "peak_rss_mb": round(peak, 1), "rss_before_mb": round(rss0, 1),
                     "signal_mb": round(record.signal.nbytes / 2**20, 1)})
    result = {"benchmark": "analyze_speed", "ecgscope": __version__, "beat_model": model,
              "rhythm_model": args.rhythm_model, "workers": args.workers,
              "python": platform.python_version(), "machine": platform.machine(),
              "cpu_count": __import__("os").cpu_count(), "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    print(f"{'case':<7}{'beats':>8}{'time s':>9}{'target':>8}{'peak RSS MB':>13}{'signal MB':>11}")
    for r in rows:
        print(f"{r['case']:<7}{r['beats']:>8}{r['seconds']:>9.2f}{r['target_s']:>8.0f}{r['peak_rss_mb']:>13.0f}"
              f"{r['signal_mb']:>11.0f}")
    print(f"beat model: {model or 'none (unlabelled)'}; rhythm model: {args.rhythm_model or 'none (rule)'}; "
          f"results -> {args.out}")


if __name__ == "__main__":
    main()
