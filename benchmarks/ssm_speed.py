"""CPU speed and memory of the selective SSM: our chunked SSD block, the same block with the per-step
recurrence, and mambapy's Mamba block (parallel scan, Mamba-1).

For each implementation, sequence length and thread count, a fresh Python
subprocess builds the block (d_model 64, expand 2, d_state 16, d_conv 4; ours
with headdim 16 -> 8 heads, mambapy with ``n_layers=1``, i.e. one RMSNorm +
Mamba block + residual) and a float32 batch (32, L, 64), then:

* memory: peak resident-set growth (``resource.getrusage(RUSAGE_SELF).ru_maxrss``
  after minus before) of one forward under ``torch.no_grad`` and then of one
  forward + backward (``.sum().backward()``; the high-water mark only rises,
  and a training step needs more than inference, so the second figure is the
  training peak);
* time: median of ``--repeat`` timed calls after one warm-up, forward
  (``torch.no_grad``) and forward + backward, stopping early after
  ``--budget`` seconds per case (at least 3 calls).

    python benchmarks/ssm_speed.py [--lengths 128 256 512 1024 2048] [--threads 1] [--repeat 7]

Prints a Markdown table and writes ``benchmarks/results/ssm_speed.json``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _common import environment

ROOT = Path(__file__).resolve().parents[1]
D_MODEL, D_STATE, BATCH = 64, 16, 32
IMPLS = ("chunked", "chunked32", "naive", "mambapy")
LABELS = {"chunked": "ours, chunked SSD (Q=64)", "chunked32": "ours, chunked SSD (Q=32)",
          "naive": "ours, per-step recurrence", "mambapy": "mambapy Mamba (pscan)"}


def build(impl: str):
    """The block under test, seeded."""
    import torch

    torch.manual_seed(0)
    if impl == "mambapy":
        from mambapy.mamba import Mamba, MambaConfig

        return Mamba(MambaConfig(d_model=D_MODEL, n_layers=1, d_state=D_STATE, expand_factor=2, d_conv=4))
    from ecgscope.models.ssm import SelectiveSSM

    scan = "reference" if impl == "naive" else "chunked"
    return SelectiveSSM(D_MODEL, d_state=D_STATE, d_conv=4, expand=2, headdim=16,
                        chunk_size=32 if impl == "chunked32" else 64, scan=scan)


def timed(fn, repeat: int, budget: float) -> float:
    """Median wall time of up to ``repeat`` calls after a warm-up (at least 3; no more after ``budget`` s)."""
    fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeat and (len(times) < 3 or time.perf_counter() - start < budget):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def child(impl: str, length: int, threads: int, repeat: int, budget: float) -> dict:
    """One case, run inside a fresh subprocess; returns its measurements."""
    import resource

    import torch

    torch.set_num_threads(threads)
    model = build(impl)
    x = torch.randn(BATCH, length, D_MODEL, generator=torch.Generator().manual_seed(1), requires_grad=True)

    def fwd():
        with torch.no_grad():
            model(x)

    def fwd_bwd():
        model(x).sum().backward()
        model.zero_grad(set_to_none=True)
        x.grad = None

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB

    base = rss_mb()
    fwd()
    peak_fwd = rss_mb() - base
    fwd_bwd()
    peak_train = rss_mb() - base
    return {"impl": impl, "length": length, "threads": threads,
            "parameters": sum(p.numel() for p in model.parameters()),
            "fwd_s": timed(fwd, repeat, budget), "fwd_bwd_s": timed(fwd_bwd, repeat, budget),
            "peak_fwd_mb": peak_fwd, "peak_fwd_bwd_mb": peak_train}


def table(rows: list[dict]) -> str:
    """Markdown table with ratio columns against mambapy (>1 means faster / smaller than mambapy)."""
    ref = {(r["length"], r["threads"]): r for r in rows if r["impl"] == "mambapy"}
    lines = ["| L | threads | implementation | params | fwd (ms) | fwd+bwd (ms) "
             "| speed-up fwd+bwd vs mambapy | peak MB fwd | peak MB fwd+bwd | memory vs mambapy |",
             "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(rows, key=lambda r: (r["threads"], r["length"], IMPLS.index(r["impl"]))):
        m = ref.get((r["length"], r["threads"]))
        speed = f"{m['fwd_bwd_s'] / r['fwd_bwd_s']:.2f}×" if m else "–"
        mem = "–"
        if m and m["peak_fwd_bwd_mb"] > 0:
            mem = f"{r['peak_fwd_bwd_mb'] / m['peak_fwd_bwd_mb']:.2f}×"
        lines.append(f"| {r['length']} | {r['threads']} | {LABELS[r['impl']]} | {r['parameters']:,} "
                     f"| {r['fwd_s'] * 1e3:.0f} | {r['fwd_bwd_s'] * 1e3:.0f} | {speed} "
                     f"| {r['peak_fwd_mb']:.0f} | {r['peak_fwd_bwd_mb']:.0f} | {mem} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, nargs="+", default=[128, 256, 512, 1024, 2048])
    parser.add_argument("--threads", type=int, nargs="+", default=[1])
    parser.add_argument("--impls", nargs="+", default=list(IMPLS), choices=IMPLS)
    parser.add_argument("--naive-max-length", type=int, default=4096,
                        help="skip the per-step recurrence above this length (it takes minutes per call)")
    parser.add_argument("--repeat", type=int, default=7, help="timed calls per case (median kept)")
    parser.add_argument("--budget", type=float, default=30.0, help="seconds of timed calls per case, at most")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "ssm_speed.json")
    parser.add_argument("--child", nargs=3, metavar=("IMPL", "L", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        impl, length, threads = args.child[0], int(args.child[1]), int(args.child[2])
        print(json.dumps(child(impl, length, threads, args.repeat, args.budget)))
        return 0

    rows = []
    for threads in args.threads:
        for length in args.lengths:
            for impl in args.impls:
                if impl == "naive" and length > args.naive_max_length:
                    continue
                cmd = [sys.executable, __file__, "--child", impl, str(length), str(threads),
                       "--repeat", str(args.repeat), "--budget", str(args.budget)]
                out = subprocess.run(cmd, capture_output=True, text=True, check=True)
                rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(f"  {impl} L={length} threads={threads}: {rows[-1]['fwd_bwd_s'] * 1e3:.0f} ms fwd+bwd",
                      file=sys.stderr, flush=True)

    import torch

    md = table(rows)
    print(md)
    meta = {"batch": BATCH, "d_model": D_MODEL, "d_state": D_STATE, "expand": 2, "d_conv": 4, "headdim": 16,
            **environment(torch),
            "memory_method": "ru_maxrss growth after building model and input, one fresh subprocess per case",
            "time_method": f"median of up to {args.repeat} calls after one warm-up, budget {args.budget} s"}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
