"""Reading speed: ``ecgscope.read`` against ``wfdb.rdrecord`` on real WFDB records.

The headline case is a 30-min 2-lead MIT-BIH record (default ``mitdb/101``):
``ecgscope.read`` (signal in mV as float32, every annotation file, the NaN
and units checks) must take at most 1.2x what ``wfdb.rdrecord`` alone takes
(float64 physical signal, no annotations). Also timed: the signal alone
(``annotators=[]``), ``rdrecord`` + ``rdann`` (the same content through wfdb),
and the short CinC 2017 and 12-lead LUDB records. Best of N runs each.

    python benchmarks/read_speed.py [--repeat 20] [--data ../shared/data]

Prints a table and writes ``benchmarks/results/read_speed.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from _common import environment, write_result

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("ECGSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def best_of_interleaved(cases: dict, repeat: int) -> dict[str, float]:
    """Fastest wall time (s) of each callable over ``repeat`` rounds; one call of each per round.

    Interleaving spreads machine noise (shared cores) evenly over the cases.
    """
    for fn in cases.values():
        fn()  # warm-up: imports, file cache
    best = {label: float("inf") for label in cases}
    for _ in range(repeat):
        for label, fn in cases.items():
            start = time.perf_counter()
            fn()
            best[label] = min(best[label], time.perf_counter() - start)
    return best


def bench_record(data: Path, rel: str, annotators: list[str], repeat: int) -> list[dict]:
    """Time the readers on one record ``data/rel``; ratios are to ``wfdb.rdrecord``."""
    import wfdb

    import ecgscope

    base = data / rel
    name = str(base)
    baseline_label = "wfdb.rdrecord (float64, no annotations)"
    cases = {
        baseline_label: lambda: wfdb.rdrecord(name),
        "ecgscope.read (float32 mV + annotations + checks)": lambda: ecgscope.read(base),
        "ecgscope.read(annotators=[]) (signal only)": lambda: ecgscope.read(base, annotators=[]),
    }
    if annotators:
        label = f"wfdb.rdrecord + rdann x{len(annotators)}" if len(annotators) > 1 else "wfdb.rdrecord + rdann(atr)"
        cases[label] = lambda: (wfdb.rdrecord(name), [wfdb.rdann(name, a) for a in annotators])
    best = best_of_interleaved(cases, repeat)
    return [{"record": rel, "reader": label, "ms": seconds * 1e3, "ratio_to_rdrecord": seconds / best[baseline_label]}
            for label, seconds in best.items()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder holding mitdb/, cinc2017/, ludb/")
    parser.add_argument("--record", default="mitdb/101", help="the 30-min record, relative to --data")
    parser.add_argument("--repeat", type=int, default=20, help="runs per case (best is kept)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "read_speed.json")
    args = parser.parse_args(argv)

    main_record = args.data / args.record
    if not main_record.with_suffix(".hea").is_file():
        print(f"shared data not found at {main_record}.hea; pass --data", file=sys.stderr)
        return 1
    rows = bench_record(args.data, args.record, ["atr"], args.repeat)
    for extra, anns in (("cinc2017/A00001", []), ("ludb/data/1", ["i", "ii", "iii", "avr", "avl", "avf",
                                                                   "v1", "v2", "v3", "v4", "v5", "v6"])):
        if (args.data / extra).with_suffix(".hea").is_file():
            rows.extend(bench_record(args.data, extra, anns, args.repeat))

    width = max(len(r["reader"]) for r in rows)
    print(f"| {'record':<16} | {'reader':<{width}} | {'best ms':>8} | {'x rdrecord':>10} |")
    print(f"|{'-' * 18}|{'-' * (width + 2)}|{'-' * 9}:|{'-' * 11}:|")
    for r in rows:
        print(f"| {r['record']:<16} | {r['reader']:<{width}} | {r['ms']:>8.2f} | {r['ratio_to_rdrecord']:>10.2f} |")
    headline = next(r for r in rows if r["record"] == args.record and r["reader"].startswith("ecgscope.read (")).copy()
    headline["target_ratio"] = 1.2
    headline["passes"] = headline["ratio_to_rdrecord"] <= 1.2
    print(f"\nheadline: ecgscope.read / wfdb.rdrecord on {headline['record']} = "
          f"{headline['ratio_to_rdrecord']:.2f} (target <= 1.2: {'pass' if headline['passes'] else 'FAIL'})")

    import wfdb

    write_result(args.out, "read_speed", argv, repeat=args.repeat, **environment(np, wfdb), headline=headline,
                 rows=rows)
    return 0 if headline["passes"] else 3


if __name__ == "__main__":
    raise SystemExit(main())
