"""``ecgscope demo``'s checks over many simulator seeds: beats found, PVCs labelled V, AF onset/offset.

    .venv/bin/python benchmarks/demo_truth.py                 # seeds 0-19
    .venv/bin/python benchmarks/demo_truth.py --seeds 50
    .venv/bin/python benchmarks/demo_truth.py --rhythm-model runs/candidate --out /tmp/candidate.json
    .venv/bin/python benchmarks/demo_truth.py --beat-model runs/beats-candidate --out /tmp/candidate.json

Each seed simulates the 5-min demo record (:func:`ecgscope.synthesis.simulate_demo`:
PVCs, couplets, bigeminy, APCs, AF from 170 to 235 s, 24 dB noise) and
analyses it with the shipped beat model twice: with the RR-irregularity rule
alone (the ``analyze()`` default) and with the shipped rhythm model
(``ecgscope demo``, ``analyze --rhythm-model default``). The issue's targets
(beats found >= 99.5 %, PVCs labelled V >= 95 %, AF onset and offset within
+-3 s) are checks of one seed; this reports how often they hold over many.
Writes ``benchmarks/results/demo_truth.json`` and prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from _common import environment
from ecgscope.analysis.pipeline import analyze
from ecgscope.analysis.rhythm import ModelRhythmDetector
from ecgscope.cli.demo import demo_summary
from ecgscope.synthesis import simulate_demo

TOLERANCE_S = 3.0


def _row(seed: int, mode: str, summary: dict) -> dict:
    af = summary["af"] or {}
    return {"seed": seed, "mode": mode, "beats_truth": summary["beats_truth"], "beats_matched": summary["beats_matched"],
            "beats_extra": summary["beats_found"] - summary["beats_matched"], "pvc_truth": summary["pvc_truth"],
            "pvc_labelled_v": summary["pvc_labelled_v"], "apc_truth": summary["apc_truth"],
            "apc_labelled_s": summary["apc_labelled_s"], "af_found": af.get("found"),
            "onset_error_s": af.get("onset_error_s"), "offset_error_s": af.get("offset_error_s")}


def _summarise(rows: list[dict]) -> dict:
    on = np.array([abs(r["onset_error_s"]) if r["onset_error_s"] is not None else np.inf for r in rows])
    off = np.array([abs(r["offset_error_s"]) if r["offset_error_s"] is not None else np.inf for r in rows])
    seeds_ok = [(r["beats_matched"] >= 0.995 * r["beats_truth"]) and (r["pvc_labelled_v"] >= 0.95 * r["pvc_truth"])
                and a <= TOLERANCE_S and b <= TOLERANCE_S for r, a, b in zip(rows, on, off)]
    return {"seeds": len(rows),
            "beats_found_pct": 100 * sum(r["beats_matched"] for r in rows) / sum(r["beats_truth"] for r in rows),
            "extra_beats": sum(r["beats_extra"] for r in rows),
            "pvc_v_pct": 100 * sum(r["pvc_labelled_v"] for r in rows) / max(sum(r["pvc_truth"] for r in rows), 1),
            "apc_s_pct": 100 * sum(r["apc_labelled_s"] for r in rows) / max(sum(r["apc_truth"] for r in rows), 1),
            "af_found": sum(r["af_found"] is not None for r in rows),
            "onset_median_abs_s": float(np.median(on)), "offset_median_abs_s": float(np.median(off)),
            "onset_within_tol": int((on <= TOLERANCE_S).sum()), "offset_within_tol": int((off <= TOLERANCE_S).sum()),
            "all_checks_pass": int(sum(seeds_ok))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=20, help="seeds 0..N-1")
    ap.add_argument("--out", default="benchmarks/results/demo_truth.json")
    ap.add_argument("--rhythm-model", default="default", help="shipped name or checkpoint folder (a candidate)")
    ap.add_argument("--beat-model", default="default", help="shipped name or checkpoint folder (a candidate)")
    args = ap.parse_args()
    modes = {"rule": None, "rhythm model": ModelRhythmDetector(args.rhythm_model)}
    rows = []
    for seed in range(args.seeds):
        record = simulate_demo(seed=seed)
        for mode, detector in modes.items():
            report = analyze(record, beat_model=args.beat_model, rhythm_model=detector)
            rows.append(_row(seed, mode, demo_summary(record, report)))
        print(seed, *(f"{r['mode']}: {r['onset_error_s']:+.1f}/{r['offset_error_s']:+.1f}" for r in rows[-2:]
                      if r["onset_error_s"] is not None), flush=True)
    summary = {m: _summarise([r for r in rows if r["mode"] == m]) for m in modes}
    result = {"benchmark": "demo_truth", **environment(), "tolerance_s": TOLERANCE_S, "summary": summary, "rows": rows}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(result, indent=2))
    n = args.seeds
    print(f"\n| AF edges from | beats found | PVCs labelled V | APCs labelled S | AF found | onset within ±{TOLERANCE_S:g} s | "
          f"offset within ±{TOLERANCE_S:g} s | median abs onset / offset error | every check passes |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for m, s in summary.items():
        print(f"| {m} | {s['beats_found_pct']:.2f} % ({s['extra_beats']} extra) | {s['pvc_v_pct']:.1f} % | "
              f"{s['apc_s_pct']:.1f} % | "
              f"{s['af_found']}/{n} | {s['onset_within_tol']}/{n} | {s['offset_within_tol']}/{n} | "
              f"{s['onset_median_abs_s']:.1f} / {s['offset_median_abs_s']:.1f} s | {s['all_checks_pass']}/{n} |")
    print(f"\nper seed (onset / offset error, s):\n\n| seed | {' | '.join(modes)} |\n|---:|" + "---:|" * len(modes))
    for seed in range(n):
        cells = [next(r for r in rows if r["seed"] == seed and r["mode"] == m) for m in modes]
        print(f"| {seed} | " + " | ".join(f"{c['onset_error_s']:+.1f} / {c['offset_error_s']:+.1f}"
                                          if c["onset_error_s"] is not None else "not found" for c in cells) + " |")
    print(f"results -> {args.out}")


if __name__ == "__main__":
    main()
