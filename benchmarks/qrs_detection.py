"""QRS detection benchmark: ecgscope against NeuroKit2 and WFDB's XQRS on annotated WFDB records.

Every record with an ``atr`` annotation file in the given folders is
analysed by every method in one run. Beats are matched one-to-one within
150 ms (ANSI/AAMI EC57, as ``bxb``) against the reference beat annotations;
ventricular flutter episodes (``[`` ... ``]``) are excluded, as EC57 asks.
Reported: gross Se, +P, F1, median |timing error|, seconds per record and
the speed ratio to ecgscope (single lead = 1.0), with and without paced
records (those annotated with ``/``).

Methods: ``ecgscope`` on the first lead (MLII in MIT-BIH) and on all leads;
our classic re-implementations (``pan_tompkins``, ``hamilton``,
``elgendi``); NeuroKit2 ``nk.ecg_peaks`` methods, each after the cleaning
NeuroKit2 pairs with it (``nk.ecg_clean(method=...)``, ``neurokit`` cleaning
where it has none), on the first lead; ``xqrs`` (``wfdb.processing.xqrs_detect``)
on the first lead.

Options: ``--fs 128 250 500 1000`` repeats the accuracy run on records
resampled to those rates; ``--noise-stress`` adds electrode-motion, muscle
and baseline-wander noise (``benchmarks/noise.py``) to the first
``--noise-duration`` seconds of each record at 24, 18, 12, 6 and 0 dB;
``--peers`` picks methods; ``--xqrs-records N`` runs XQRS on the first N
records only (it is slow). Speed is timed separately, pinned to one CPU
core, best of ``--repeat`` runs on ``--speed-record`` (a 30-min 2-lead
360 Hz MIT-BIH record by default).

    python benchmarks/qrs_detection.py ../shared/data/mitdb --noise-stress

Prints tables, writes ``benchmarks/results/qrs_detection.json`` and the
Markdown table ``docs/bench/qrs_detection.md``.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ecgscope.evaluation import excluded_intervals, reference_beats, score_records  # noqa: E402
from ecgscope.record import resample_signal  # noqa: E402
from ecgscope.signal import find_rpeaks  # noqa: E402

NK_METHODS = ("neurokit", "pantompkins1985", "hamilton2002", "elgendi2010", "kalidas2017", "rodrigues2021",
              "engzeemod2012")
NK_CLEANING = {"neurokit": "neurokit", "pantompkins1985": "pantompkins1985", "hamilton2002": "hamilton2002",
               "elgendi2010": "elgendi2010", "engzeemod2012": "engzeemod2012"}
OURS = ("ecgscope", "ecgscope-all-leads", "pan_tompkins", "hamilton", "elgendi")
DEFAULT_PEERS = ["ecgscope", "ecgscope-all-leads", "pan_tompkins", "hamilton", "elgendi",
                 "nk:neurokit", "nk:pantompkins1985", "nk:hamilton2002", "nk:elgendi2010", "nk:kalidas2017",
                 "nk:rodrigues2021", "xqrs"]
SNRS = (24.0, 18.0, 12.0, 6.0, 0.0)


# --------------------------------------------------------------------------- methods
def detector(name: str):
    """``f(signal (leads, samples) float32, fs) -> int64 positions`` for a method name."""
    if name == "ecgscope":
        return lambda x, fs: find_rpeaks(x, fs, leads=[0])
    if name == "ecgscope-all-leads":
        return lambda x, fs: find_rpeaks(x, fs)
    if name in OURS:
        return lambda x, fs: find_rpeaks(x, fs, method=name, leads=[0])
    if name.startswith("nk:"):
        import neurokit2 as nk

        method = name[3:]
        cleaning = NK_CLEANING.get(method, "neurokit")

        def run(x, fs):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                clean = nk.ecg_clean(x[0].astype(np.float64), sampling_rate=int(round(fs)), method=cleaning)
                _, info = nk.ecg_peaks(clean, sampling_rate=int(round(fs)), method=method)
            return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)

        return run
    if name == "xqrs":
        from wfdb import processing

        return lambda x, fs: np.asarray(processing.xqrs_detect(x[0].astype(np.float64), fs=fs, verbose=False),
                                        dtype=np.int64)
    raise SystemExit(f"unknown method {name!r}; known: {', '.join(OURS)}, nk:<method>, xqrs")


# --------------------------------------------------------------------------- data
def load_records(folders: list[Path], only: set[str] | None):
    """``[(name, signal (leads, samples) float32, fs, reference, exclude, paced)]`` for records with ``atr``."""
    import wfdb

    out = []
    for folder in folders:
        for hea in sorted(folder.glob("*.hea")):
            base = hea.with_suffix("")
            if not base.with_suffix(".atr").exists() or (only and base.name not in only):
                continue
            rec = wfdb.rdrecord(str(base))
            ann = wfdb.rdann(str(base), "atr")
            pair = (ann.sample, ann.symbol)
            sig = np.ascontiguousarray(rec.p_signal.T.astype(np.float32))
            name = base.name if len(folders) == 1 else f"{folder.name}/{base.name}"
            out.append((name, sig, float(rec.fs), reference_beats(pair), excluded_intervals(pair),
                        "/" in set(ann.symbol)))
    return out


def resampled(records, fs_out: float):
    out = []
    for name, sig, fs, ref, ex, paced in records:
        k = fs_out / fs
        out.append((name, resample_signal(sig, fs, fs_out), fs_out, np.rint(ref * k).astype(np.int64),
                    np.rint(ex * k).astype(np.int64), paced))
    return out


# --------------------------------------------------------------------------- runs
def run_accuracy(records, methods, xqrs_records: int | None, label: str) -> dict:
    results = {}
    for method in methods:
        detect = detector(method)
        subset = records[:xqrs_records] if (method == "xqrs" and xqrs_records) else records
        per, seconds, failures = {}, [], []
        for name, sig, fs, ref, ex, paced in subset:
            start = time.perf_counter()
            try:
                det = detect(sig, fs)
            except Exception as exc:  # a peer failing on a record counts as no detections
                det = np.zeros(0, np.int64)
                failures.append(f"{name}: {type(exc).__name__}: {exc}")
            seconds.append(time.perf_counter() - start)
            per[name] = (ref, det, fs, ex, paced)
        table, gross, average = score_records({k: v[:4] for k, v in per.items()})
        _, gross_np, _ = score_records({k: v[:4] for k, v in per.items() if not v[4]})
        results[method] = {
            "records": len(per), "gross": gross.as_dict(), "average": average,
            "gross_without_paced": gross_np.as_dict(),
            "seconds_per_record": float(np.mean(seconds)), "failures": failures,
            "per_record": table.reset_index().to_dict(orient="records"),
        }
        print(f"  [{label}] {method:22s} Se {gross.se:7.3f}  +P {gross.ppv:7.3f}  "
              f"(no paced: {gross_np.se:7.3f} / {gross_np.ppv:7.3f})  {np.mean(seconds):7.3f} s/record"
              + (f"  {len(failures)} failures" if failures else ""), flush=True)
    return results


def run_noise(records, methods, duration: float, snrs, xqrs_records: int | None) -> dict:
    from noise import add_noise

    out = {}
    for method in methods:
        detect = detector(method)
        subset = records[:xqrs_records] if (method == "xqrs" and xqrs_records) else records
        out[method] = {}
        for snr in snrs:
            per = {}
            for i, (name, sig, fs, ref, ex, _) in enumerate(subset):
                n = int(duration * fs)
                r = ref[ref < n]
                noisy = add_noise(sig[:, :n], fs, r, snr, kind="mix", seed=i + 1)
                try:
                    det = detect(noisy, fs)
                except Exception:
                    det = np.zeros(0, np.int64)
                per[name] = (r, det, fs, ex)
            _, gross, _ = score_records(per)
            out[method][f"{snr:g}"] = {"se": gross.se, "ppv": gross.ppv, "f1": gross.f1, "records": len(per)}
        print("  [noise] " + f"{method:22s} " + "  ".join(
            f"{k} dB: {v['se']:.2f}/{v['ppv']:.2f}" for k, v in out[method].items()), flush=True)
    return out


def run_speed(record, methods, repeat: int) -> dict:
    name, sig, fs, *_ = record
    try:
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
        pinned = True
    except (AttributeError, OSError):
        pinned = False
    out = {}
    for method in methods:
        detect = detector(method)
        detect(sig[:, : int(10 * fs)], fs)  # warm-up (imports, caches)
        best = cpu = float("inf")
        for _ in range(repeat):
            start, start_cpu = time.perf_counter(), time.process_time()
            detect(sig, fs)
            best = min(best, time.perf_counter() - start)
            cpu = min(cpu, time.process_time() - start_cpu)
        out[method] = {"seconds": best, "cpu_seconds": cpu}
        print(f"  [speed] {method:22s} {best * 1000:9.1f} ms wall  {cpu * 1000:9.1f} ms CPU", flush=True)
    base = out.get("ecgscope", {}).get("seconds")
    base_cpu = out.get("ecgscope", {}).get("cpu_seconds")
    for v in out.values():
        v["ratio"] = v["seconds"] / base if base else None
        v["cpu_ratio"] = v["cpu_seconds"] / base_cpu if base_cpu else None
    return {"record": name, "fs": fs, "leads": int(sig.shape[0]), "minutes": sig.shape[1] / fs / 60.0,
            "pinned_to_one_core": pinned, "repeat": repeat, "methods": out}


# --------------------------------------------------------------------------- report
def markdown(report: dict) -> str:
    lines = ["# QRS detection benchmark", "",
             f"Command: `{report['command']}`", "",
             f"Machine: {report['environment']['machine']}; Python {report['environment']['python']}; "
             f"numpy {report['environment']['numpy']}; neurokit2 {report['environment'].get('neurokit2')}; "
             f"wfdb {report['environment'].get('wfdb')}. Timings are indicative (shared cores).", "",
             f"Records: {report['n_records']} ({report['n_paced']} paced) from {', '.join(report['folders'])}; "
             "matching window 150 ms, one-to-one (EC57/bxb); ventricular flutter episodes excluded; "
             "gross statistics (pooled counts).", ""]
    speed = report.get("speed", {}).get("methods", {})
    for fs_label, results in report["accuracy"].items():
        lines += [f"## Accuracy at {fs_label}", "",
                  "| method | Se % | +P % | F1 % | Se % (no paced) | +P % (no paced) | median abs err (ms) "
                  "| s / record | speed ratio |",
                  "|---|---|---|---|---|---|---|---|---|"]
        base = results.get("ecgscope", {}).get("seconds_per_record")
        for method, r in results.items():
            g, gn = r["gross"], r["gross_without_paced"]
            ratio = r["seconds_per_record"] / base if base else float("nan")
            note = f" ({r['records']} records)" if r["records"] != report["n_records"] else ""
            lines.append(f"| {method}{note} | {g['se']:.3f} | {g['ppv']:.3f} | {g['f1']:.3f} | {gn['se']:.3f} "
                         f"| {gn['ppv']:.3f} | {g['median_abs_error_ms']:.1f} | {r['seconds_per_record']:.3f} "
                         f"| {ratio:.1f} |")
        lines.append("")
    if speed:
        s = report["speed"]
        lines += [f"## Speed: record {s['record']} ({s['minutes']:.0f} min, {s['leads']} leads, {s['fs']:g} Hz), "
                  f"best of {s['repeat']}, {'one core' if s['pinned_to_one_core'] else 'not pinned'}", "",
                  "| method | wall ms | x ecgscope | CPU ms | x ecgscope (CPU) |", "|---|---|---|---|---|"]
        for method, v in speed.items():
            lines.append(f"| {method} | {v['seconds'] * 1000:.1f} | {v['ratio']:.1f} | {v['cpu_seconds'] * 1000:.1f} "
                         f"| {v['cpu_ratio']:.1f} |")
        lines.append("")
    if report.get("noise"):
        snrs = list(next(iter(report["noise"].values())).keys())
        lines += [f"## Noise stress (first {report['noise_duration']:g} s of each record, em+ma+bw mix, "
                  "Se % / +P %)", "",
                  "| method | " + " | ".join(f"{s} dB" for s in snrs) + " |",
                  "|---|" + "---|" * len(snrs)]
        for method, by_snr in report["noise"].items():
            lines.append(f"| {method} | " + " | ".join(f"{v['se']:.2f} / {v['ppv']:.2f}" for v in by_snr.values())
                         + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("folders", nargs="+", type=Path, help="WFDB folders with .hea/.dat/.atr")
    ap.add_argument("--fs", nargs="*", type=float, default=[], help="also run at these resampled rates")
    ap.add_argument("--peers", default=",".join(DEFAULT_PEERS), help="comma-separated methods")
    ap.add_argument("--records", default="", help="comma-separated record names (default all)")
    ap.add_argument("--xqrs-records", type=int, default=0, help="run XQRS on the first N records only (0: all)")
    ap.add_argument("--noise-stress", action="store_true", help="add the noise stress test")
    ap.add_argument("--noise-duration", type=float, default=300.0, help="seconds of each record in the stress test")
    ap.add_argument("--snr", nargs="*", type=float, default=list(SNRS))
    ap.add_argument("--repeat", type=int, default=3, help="speed: best of N")
    ap.add_argument("--speed-record", default="101", help="record timed for speed (name in the folders)")
    ap.add_argument("--no-speed", action="store_true")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "qrs_detection.json")
    ap.add_argument("--md", type=Path, default=ROOT / "docs" / "bench" / "qrs_detection.md")
    ap.add_argument("--append", action="store_true", help="append to --md instead of replacing it")
    args = ap.parse_args(argv)

    methods = [m.strip() for m in args.peers.split(",") if m.strip()]
    for m in methods:
        detector(m)  # fail early on unknown names / missing packages
    only = {r.strip() for r in args.records.split(",") if r.strip()} or None
    records = load_records(args.folders, only)
    if not records:
        raise SystemExit("no annotated WFDB records (.hea + .atr) found in " + ", ".join(map(str, args.folders)))
    print(f"{len(records)} records; methods: {', '.join(methods)}", flush=True)
    xq = args.xqrs_records or None
    accuracy = {"native rate": run_accuracy(records, methods, xq, "native")}
    for fs_out in args.fs:
        accuracy[f"{fs_out:g} Hz (resampled)"] = run_accuracy(resampled(records, fs_out), methods, xq, f"{fs_out:g} Hz")
    report = {
        "command": "python benchmarks/qrs_detection.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "environment": {
            "machine": f"{platform.machine()} {platform.processor() or ''} {os.cpu_count()} CPUs".strip(),
            "python": platform.python_version(), "numpy": np.__version__,
            "neurokit2": _version("neurokit2"), "wfdb": _version("wfdb"),
        },
        "folders": [str(f) for f in args.folders], "n_records": len(records),
        "n_paced": int(sum(r[5] for r in records)), "records": [r[0] for r in records],
        "tolerance_s": 0.15, "accuracy": accuracy,
    }
    if args.noise_stress:
        report["noise_duration"] = args.noise_duration
        report["noise"] = run_noise(records, methods, args.noise_duration, args.snr, xq)
    if not args.no_speed:
        pick = [r for r in records if r[0].split("/")[-1] == args.speed_record] or records[:1]
        report["speed"] = run_speed(pick[0], methods, args.repeat)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=1, default=float))
    text = markdown(report)
    args.md.parent.mkdir(parents=True, exist_ok=True)
    if args.append and args.md.exists():
        text = text.replace("# QRS detection benchmark", "# QRS detection benchmark (continued)", 1)
        args.md.write_text(args.md.read_text() + "\n" + text + "\n")
    else:
        args.md.write_text(text + "\n")
    print()
    print(text)
    return 0


def _version(package: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(package)
    except Exception:
        return None


if __name__ == "__main__":
    sys.exit(main())
