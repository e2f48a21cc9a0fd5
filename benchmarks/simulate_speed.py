"""Speed and memory of ``ecgscope.synthesis.simulate``, side by side with NeuroKit2's simulator.

Usage::

    .venv/bin/python benchmarks/simulate_speed.py            # full table (includes a 24-h record)
    .venv/bin/python benchmarks/simulate_speed.py --quick    # skip the 24-h record and the slow peers

Prints a table and writes ``benchmarks/results/simulate_speed.json``. Times are
the best of ``--repeat`` runs (the 24-h record: one run); peak memory is the
largest traced allocation (``tracemalloc``) during a separate run, output included.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc
from pathlib import Path
from typing import Callable

import numpy as np

from ecgscope.synthesis import simulate

RESULTS = Path(__file__).resolve().parent / "results" / "simulate_speed.json"


def _best_time(fn: Callable[[], object], repeat: int) -> float:
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def _peak_mb(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _cases(quick: bool) -> list[dict]:
    mixed = dict(pvc_rate=0.03, apc_rate=0.03, couplets=5, af_episodes=[(600, 900)])
    cases = [
        dict(name="ecgscope 30 min 2-lead clean", tool="ecgscope", duration=1800, kw={}),
        dict(name="ecgscope 30 min 2-lead 20 dB noise", tool="ecgscope", duration=1800, kw=dict(noise=20)),
        dict(name="ecgscope 30 min 2-lead arrhythmias + noise", tool="ecgscope", duration=1800,
             kw=dict(noise=20, **mixed)),
        dict(name="ecgscope 30 min 12-lead clean", tool="ecgscope", duration=1800, kw=dict(n_leads=12)),
        dict(name="ecgscope 30 min 12-lead 20 dB noise", tool="ecgscope", duration=1800,
             kw=dict(n_leads=12, noise=20)),
        dict(name="neurokit2 ecg_simulate simple 30 min 1-lead", tool="nk-simple", duration=1800, kw={}),
        dict(name="neurokit2 ecg_simulate ecgsyn 60 s 1-lead", tool="nk-ecgsyn", duration=60, kw={}),
        dict(name="ecgscope 60 s 2-lead clean", tool="ecgscope", duration=60, kw={}),
    ]
    if not quick:
        cases += [
            dict(name="neurokit2 ecg_simulate ecgsyn 5 min 1-lead", tool="nk-ecgsyn", duration=300, kw={}),
            dict(name="ecgscope 24 h 2-lead clean", tool="ecgscope", duration=86400, kw={}, repeat=1),
            dict(name="ecgscope 24 h 2-lead arrhythmias + 20 dB noise", tool="ecgscope", duration=86400,
                 kw=dict(noise=20, **mixed), repeat=1),
        ]
    return cases


def _runner(case: dict, fs: float) -> Callable[[], object]:
    if case["tool"] == "ecgscope":
        return lambda: simulate(duration=case["duration"], fs=fs, seed=1, **case["kw"])
    import warnings

    import neurokit2 as nk

    method = case["tool"].split("-", 1)[1]

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nk.ecg_simulate(duration=case["duration"], sampling_rate=int(fs), heart_rate=70,
                                   method=method, random_state=1)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 24-h records and slow peers")
    parser.add_argument("--repeat", type=int, default=3, help="runs per case (best time is reported)")
    parser.add_argument("--fs", type=float, default=360.0)
    args = parser.parse_args()

    load_before = list(os.getloadavg())  # timings are only comparable on a quiet machine
    simulate(duration=5)  # warm imports and caches
    rows = []
    for case in _cases(args.quick):
        run = _runner(case, args.fs)
        seconds = _best_time(run, case.get("repeat", args.repeat))
        peak = _peak_mb(run) if case["tool"] == "ecgscope" else None
        n_leads = 12 if case["kw"].get("n_leads") == 12 else (2 if case["tool"] == "ecgscope" else 1)
        samples = case["duration"] * args.fs * n_leads
        rows.append(dict(case=case["name"], tool=case["tool"], duration_s=case["duration"], fs=args.fs,
                         n_leads=n_leads, seconds=round(seconds, 4),
                         msamples_per_s=round(samples / seconds / 1e6, 2),
                         realtime_factor=round(case["duration"] / seconds, 1),
                         peak_mb=None if peak is None else round(peak, 1)))
        print(f"  done: {case['name']} ({seconds:.3f} s)", flush=True)

    header = f"| {'case':<48} | {'time (s)':>9} | {'x real time':>11} | {'Msamples/s':>10} | {'peak MB':>8} |"
    print()
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for r in rows:
        peak = "" if r["peak_mb"] is None else f"{r['peak_mb']:.0f}"
        print(f"| {r['case']:<48} | {r['seconds']:>9.3f} | {r['realtime_factor']:>11,.0f} | "
              f"{r['msamples_per_s']:>10.2f} | {peak:>8} |")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = dict(machine=platform.machine(), python=platform.python_version(), cpus=os.cpu_count(),
                numpy=np.__version__,
                command="benchmarks/simulate_speed.py" + (" --quick" if args.quick else ""),
                repeat=args.repeat, time=time.strftime("%Y-%m-%dT%H:%M:%S"),
                load_average_before=load_before, load_average_after=list(os.getloadavg()))
    RESULTS.write_text(json.dumps(dict(meta=meta, rows=rows), indent=2))
    print(f"\nload average before/after: {load_before[0]:.1f} / {meta['load_average_after'][0]:.1f} "
          f"on {os.cpu_count()} CPUs; wrote {RESULTS}")


if __name__ == "__main__":
    main()
