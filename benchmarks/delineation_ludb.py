"""Wave delineation on LUDB: ecgscope against NeuroKit2's ``ecg_delineate``, per fiducial point.

Every record of ``ludb/RECORDS`` (the 100 records here) is read with
``ecgscope.read``; the R peaks come from ``ecgscope.signal.find_rpeaks`` on all
12 leads and are given to every method, so only delineation is compared.
ecgscope delineates the raw 12-lead signal at once; NeuroKit2 runs lead by lead
on ``nk.ecg_clean`` output (its documented pipeline) with ``method="dwt"``
(default), ``"peak"`` and ``"cwt"``. Each lead is scored against its own LUDB
annotation file: a detection matches a reference point of the same type
within 150 ms, one-to-one; only detections inside the annotated span count
(``ecgscope.evaluation.score_delineation``). Reported per point: Se and +P
(%), mean and SD of ``detected - reference`` (ms), median |error| (ms).

Split: ecgscope's parameters were chosen on the first 50 records of RECORDS
("dev") only; the other 50 ("held-out") were not looked at while tuning.
LUDB's other 100 records are not in this folder at all.

    python benchmarks/delineation_ludb.py [--data ../shared/data] [--methods ecgscope,dwt,peak,cwt]
                                          [--limit N]

Prints one table per split and writes ``benchmarks/results/delineation_ludb.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("ECGSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results" / "delineation_ludb.json"
POINTS = ("p_onset", "p_peak", "p_offset", "qrs_onset", "qrs_offset", "t_onset", "t_peak", "t_offset")
NK_KEYS = {"p_onset": "ECG_P_Onsets", "p_peak": "ECG_P_Peaks", "p_offset": "ECG_P_Offsets",
           "qrs_onset": "ECG_R_Onsets", "qrs_offset": "ECG_R_Offsets", "t_onset": "ECG_T_Onsets",
           "t_peak": "ECG_T_Peaks", "t_offset": "ECG_T_Offsets"}


def ecgscope_points(signal: np.ndarray, fs: float, rpeaks: np.ndarray) -> list[dict]:
    """Per lead: point -> samples, from ``ecgscope.signal.delineate`` on all leads."""
    from ecgscope.signal import delineate

    d = delineate(signal, fs, rpeaks)
    return [d.lead(i) for i in range(signal.shape[0])]


def neurokit_points(signal: np.ndarray, fs: float, rpeaks: np.ndarray, method: str) -> list[dict]:
    """Per lead: point -> samples, from ``nk.ecg_delineate`` on ``nk.ecg_clean`` output."""
    import neurokit2 as nk

    out = []
    for lead in signal:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                _, waves = nk.ecg_delineate(nk.ecg_clean(lead, sampling_rate=int(fs)), rpeaks,
                                            sampling_rate=int(fs), method=method)
            except Exception:  # noqa: BLE001 - a peer failing on a lead scores as "nothing found"
                waves = {}
        pts = {}
        for point, key in NK_KEYS.items():
            v = np.asarray(waves.get(key, []), dtype=float)
            pts[point] = np.where(np.isfinite(v), v, -1).astype(np.int64)
        out.append(pts)
    return out


def summarize(scores: list[pd.DataFrame]) -> pd.DataFrame:
    """Per point: Se, +P, mean, SD and median |error| over pooled leads."""
    from ecgscope.evaluation.delineation import summarize_delineation

    table = summarize_delineation(scores).set_index("point")
    allrows = pd.concat(scores, ignore_index=True)
    table["median_abs_ms"] = [
        float(np.median(np.abs(np.concatenate(allrows[allrows.point == p].errors_ms.to_list()))))
        if table.loc[p, "tp"] else np.nan for p in table.index]
    return table.reindex([p for p in POINTS if p in table.index])


def fmt_table(results: dict[str, pd.DataFrame]) -> str:
    """Markdown table: one row per point, one column group per method."""
    methods = list(results)
    cols = [f"{m}: Se / +P (%) | {m}: error mean ± SD (median abs) ms" for m in methods]
    head = "| point | " + " | ".join(cols) + " |"
    sep = "|---|" + "---|---|" * len(methods)
    rows = [head, sep]
    for p in POINTS:
        cells = []
        for m in methods:
            t = results[m]
            if p not in t.index or t.loc[p, "tp"] + t.loc[p, "fp"] == 0:  # the method does not report it
                cells += ["-", "-"]
                continue
            r = t.loc[p]
            cells += [f"{r.se:.1f} / {r.ppv:.1f}",
                      f"{r.mean_ms:+.1f} ± {r.sd_ms:.1f} ({r.median_abs_ms:.0f})"]
        rows.append(f"| {p} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--methods", default="ecgscope,dwt,peak,cwt")
    parser.add_argument("--limit", type=int, default=None, help="first N records only (a quick check)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from ecgscope.evaluation.delineation import ludb_reference, score_delineation
    from ecgscope.io import read
    from ecgscope.signal import find_rpeaks

    folder = args.data / "ludb"
    if not (folder / "RECORDS").is_file():
        print(f"LUDB not found under {folder}", file=sys.stderr)
        return 1
    ids = [line.strip().split("/")[-1] for line in (folder / "RECORDS").read_text().split() if line.strip()]
    ids = ids[: args.limit] if args.limit else ids
    methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    scores = {m: {"dev": [], "held-out": []} for m in methods}
    seconds = {m: 0.0 for m in methods}
    for k, rid in enumerate(ids):
        rec = read(folder / "data" / rid)
        rpeaks = find_rpeaks(rec.signal, rec.fs)
        refs = [ludb_reference(rec.annotations[lead.lower()]) for lead in rec.leads]
        split = "dev" if k < 50 else "held-out"
        for m in methods:
            start = time.perf_counter()
            pts = (ecgscope_points(rec.signal, rec.fs, rpeaks) if m == "ecgscope"
                   else neurokit_points(rec.signal, rec.fs, rpeaks, m))
            seconds[m] += time.perf_counter() - start
            scores[m][split] += [score_delineation(p, r, rec.fs) for p, r in zip(pts, refs)]
        print(f"\r{k + 1}/{len(ids)} records", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)

    label = {"ecgscope": "ecgscope", "dwt": "NK dwt", "peak": "NK peak", "cwt": "NK cwt"}
    out = {"records": len(ids), "tolerance_s": 0.15, "methods": methods,
           "seconds_per_record": {m: seconds[m] / len(ids) for m in methods},
           "python": platform.python_version(), "machine": platform.machine(), "splits": {}}
    for split in ("dev", "held-out", "all"):
        tables = {}
        for m in methods:
            sc = scores[m]["dev"] + scores[m]["held-out"] if split == "all" else scores[m][split]
            if sc:
                tables[label.get(m, m)] = summarize(sc)
        if not tables:
            continue
        n = sum(1 for k in range(len(ids)) if split == "all" or (split == "dev") == (k < 50))
        print(f"\n### {split} ({n} records, 12 leads each)\n")
        print(fmt_table(tables))
        out["splits"][split] = {m: t.reset_index().to_dict(orient="records") for m, t in tables.items()}
    print("\nseconds per 10-s 12-lead record: "
          + ", ".join(f"{label.get(m, m)} {seconds[m] / len(ids):.3f}" for m in methods))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=float))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
