"""HRV agreement: ecgscope against NeuroKit2 on the same NN series.

For each MIT-BIH DS1 record here (the paced records 102, 104, 107, 217 have
almost no normal beats and are left out) the NN series is built once from the
reference ``atr`` beats of the first ``--minutes`` minutes: intervals between
two consecutive beats labelled normal (N, L, R, e, j), everything touching
another beat dropped (``ecgscope.signal.clean_nn(..., method="none",
correction="remove")``), no further artefact correction. Both libraries get
exactly these intervals and their times (NeuroKit2 as ``{"RRI", "RRI_Time"}``,
which also makes it skip differences across the gaps).

NeuroKit2 is run twice: with its defaults (``nk.hrv_time``,
``nk.hrv_frequency``, ``nk.hrv_nonlinear``) and with settings matched to
ecgscope's definitions (4-Hz interpolation, no PSD normalisation, LFnu/HFnu
as ``100 LF / (LF + HF)``, DFA over 4-16 and 16-64 beats in non-overlapping
windows). Per index the table gives
the median over records of each value and the median and largest relative
difference ``|ecgscope - NK| / |NK|``. ``docs/bench/hrv_agreement.md``
explains every difference.

    python benchmarks/hrv_agreement.py [--data ../shared/data] [--minutes 5]

Prints the table and writes ``benchmarks/results/hrv_agreement.json``.
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

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = Path(os.environ.get("ECGSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data"))
RESULTS = ROOT / "benchmarks" / "results" / "hrv_agreement.json"
PACED = {"102", "104", "107", "217"}
#: ecgscope name -> NeuroKit2 name (both without the HRV_ prefix).
INDICES = {
    "MeanNN": "MeanNN", "SDNN": "SDNN", "RMSSD": "RMSSD", "SDSD": "SDSD", "pNN50": "pNN50", "pNN20": "pNN20",
    "MedianNN": "MedianNN", "MeanHR": None, "HTI": "HTI", "TINN": "TINN",
    "VLF": "VLF", "LF": "LF", "HF": "HF", "LFHF": "LFHF", "LFnu": "LFn", "HFnu": "HFn",
    "SD1": "SD1", "SD2": "SD2", "SD1SD2": "SD1SD2", "S": "S", "SampEn": "SampEn",
    "DFA_alpha1": "DFA_alpha1", "DFA_alpha2": "DFA_alpha2",
}


def nn_series(record, minutes: float):
    """The NN series of the first ``minutes`` of ``record`` from its ``atr`` beats."""
    from ecgscope.evaluation.matching import BEAT_SYMBOLS
    from ecgscope.signal.heart_rate_variability import clean_nn

    ann = record.annotations["atr"]
    keep = np.isin(ann.symbol, list(BEAT_SYMBOLS)) & (ann.sample < minutes * 60 * record.fs)
    pos, labels = ann.sample[keep], ann.symbol[keep]
    rr = np.diff(pos) * 1000.0 / record.fs
    return clean_nn(rr, labels, method="none", correction="remove", time=pos[1:] / record.fs)


def neurokit(series, matched: bool) -> dict[str, float]:
    """NeuroKit2's time, frequency and non-linear indices of ``series`` (defaults or matched settings)."""
    import neurokit2 as nk

    peaks = {"RRI": series.nn, "RRI_Time": series.time}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = nk.hrv_time(peaks).iloc[0].to_dict()
        if matched:
            out |= nk.hrv_frequency(peaks, interpolation_rate=4, normalize=False).iloc[0].to_dict()
            out |= nk.hrv_nonlinear(peaks, dfa_windows=[(4, 16), (16, 64)], overlap=False).iloc[0].to_dict()
        else:
            out |= nk.hrv_frequency(peaks).iloc[0].to_dict()
            out |= nk.hrv_nonlinear(peaks).iloc[0].to_dict()
    out = {k.removeprefix("HRV_"): float(v) for k, v in out.items() if np.isscalar(v)}
    if matched:  # Task Force normalised units, as ecgscope: 100 LF / (LF + HF)
        out["LFn"] = 100.0 * out["LF"] / (out["LF"] + out["HF"])
        out["HFn"] = 100.0 * out["HF"] / (out["LF"] + out["HF"])
    else:  # NeuroKit2's own LFn/HFn: fractions of its total power, shown in %
        out["LFn"] *= 100.0
        out["HFn"] *= 100.0
    return out


def compare(ours: list[dict], theirs: list[dict]) -> list[dict]:
    """Per index: medians of both and relative differences over records."""
    rows = []
    for key, nk_key in INDICES.items():
        if nk_key is None:
            continue
        a = np.array([o.get(f"HRV_{key}", np.nan) for o in ours], float)
        b = np.array([t.get(nk_key, np.nan) for t in theirs], float)
        ok = np.isfinite(a) & np.isfinite(b)
        rel = np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-12)
        rows.append({
            "index": key, "neurokit_name": nk_key, "n": int(ok.sum()),
            "ecgscope_median": float(np.median(a[ok])) if ok.any() else np.nan,
            "neurokit_median": float(np.median(b[ok])) if ok.any() else np.nan,
            "median_rel_diff_pct": float(100 * np.median(rel)) if ok.any() else np.nan,
            "max_rel_diff_pct": float(100 * rel.max()) if ok.any() else np.nan,
        })
    return rows


def fmt(rows_default: list[dict], rows_matched: list[dict]) -> str:
    """Markdown table of both comparisons."""
    lines = ["| index | ecgscope (median) | NK default (median) | diff vs default: median / max % "
             "| NK matched (median) | diff vs matched: median / max % |",
             "|---|---|---|---|---|---|"]
    for d, m in zip(rows_default, rows_matched):
        lines.append(f"| {d['index']} | {d['ecgscope_median']:.4g} | {d['neurokit_median']:.4g} | "
                     f"{d['median_rel_diff_pct']:.2g} / {d['max_rel_diff_pct']:.2g} | "
                     f"{m['neurokit_median']:.4g} | "
                     f"{m['median_rel_diff_pct']:.2g} / {m['max_rel_diff_pct']:.2g} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    from ecgscope.io import read
    from ecgscope.signal.heart_rate_variability import hrv

    folder = args.data / "mitdb"
    names = sorted(p.stem for p in folder.glob("*.hea") if p.stem not in PACED)
    if not names:
        print(f"MIT-BIH records not found under {folder}", file=sys.stderr)
        return 1
    ours, nk_default, nk_matched, used = [], [], [], []
    t_ours = t_nk = 0.0
    for name in names:
        series = nn_series(read(folder / name), args.minutes)
        if series.nn.size < 50:
            print(f"{name}: only {series.nn.size} NN intervals, skipped", file=sys.stderr)
            continue
        start = time.perf_counter()
        ours.append(hrv(series, clean=None))
        t_ours += time.perf_counter() - start
        start = time.perf_counter()
        nk_default.append(neurokit(series, matched=False))
        t_nk += time.perf_counter() - start
        nk_matched.append(neurokit(series, matched=True))
        used.append(name)
    rows_d, rows_m = compare(ours, nk_default), compare(ours, nk_matched)
    print(f"{len(used)} MIT-BIH records, first {args.minutes:g} min, NN from atr labels\n")
    print(fmt(rows_d, rows_m))
    print(f"\nseconds per record: ecgscope.hrv {t_ours / len(used):.3f}, NeuroKit2 time+frequency+nonlinear "
          f"{t_nk / len(used):.3f}")
    out = {"records": used, "minutes": args.minutes, "default": rows_d, "matched": rows_m,
           "seconds_per_record": {"ecgscope": t_ours / len(used), "neurokit2": t_nk / len(used)},
           "python": platform.python_version(), "machine": platform.machine()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
