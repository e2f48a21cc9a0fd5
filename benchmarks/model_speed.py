"""Model size and CPU inference speed of every registered beat model and variant.

For each model/variant at window 256 x 1 lead (5 classes, 4 RR features):
parameters, forward FLOPs per beat (torch's FLOP counter; 1 multiply-add = 2
FLOPs), and the wall time to classify 1,000 beats in batches of 256 on the CPU
with 1 and with 2 intra-op threads (eval mode, ``torch.inference_mode``; best
of ``--repeat`` runs after one warm-up). ``--onnx`` also times the exported
ONNX file in onnxruntime (CPU provider) with the same batches and threads;
``--cuda`` times the torch model on the GPU when there is one.

    python benchmarks/model_speed.py [--repeat 5] [--threads 1 2] [--onnx] [--cuda]

Prints a Markdown table and writes ``benchmarks/results/model_speed.json``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from _common import environment, write_result

ROOT = Path(__file__).resolve().parents[1]
WINDOW, LEADS, CLASSES, N_RR, BATCH = 256, 1, 5, 4, 256


def best_of(fn, repeat: int) -> float:
    """Fastest wall time of ``repeat`` calls, in seconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def flops_per_beat(model: torch.nn.Module) -> float:
    """Forward FLOPs for one beat, counted in train mode on a copy: in eval mode the Transformer's fused
    fast path hides its matrix products from the counter."""
    import copy

    from torch.utils.flop_counter import FlopCounterMode

    x, rr = torch.randn(2, LEADS, WINDOW), torch.rand(2, N_RR)
    with FlopCounterMode(display=False) as counter, torch.no_grad():
        copy.deepcopy(model).train()(x, rr)
    return float(counter.get_total_flops()) / 2


def onnx_timings(model, threads: list[int], repeat: int, x: np.ndarray, rr: np.ndarray
                 ) -> tuple[dict[int, float], float]:
    """Seconds per batch in onnxruntime for each thread count, and the torch/ORT max logit difference."""
    import onnxruntime as ort

    from ecgscope.models import export_onnx, onnx_parity

    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        path = export_onnx(model, Path(tmp) / "model.onnx")
        diff = onnx_parity(model, path)
        for n in threads:
            options = ort.SessionOptions()
            options.intra_op_num_threads = n
            options.inter_op_num_threads = 1
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
            out[n] = best_of(lambda: session.run(None, {"x": x, "rr": rr}), repeat)
    return out, diff


def cuda_ms_per_1000(model: torch.nn.Module, x: torch.Tensor, rr: torch.Tensor, repeat: int) -> float:
    """GPU time per 1,000 beats (batches of 256, float32, synchronised), on a copy of the model."""
    import copy

    gpu = copy.deepcopy(model).cuda()
    xg, rg = x.cuda(), rr.cuda()

    def run():
        with torch.inference_mode():
            gpu(xg, rg)
        torch.cuda.synchronize()

    best_of(run, 2)  # cuDNN autotuning and allocation
    return best_of(run, max(repeat, 10)) / x.shape[0] * 1000 * 1e3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per case (best is kept)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="intra-op thread counts")
    parser.add_argument("--models", nargs="*", default=None, help="model names (default: all registered)")
    parser.add_argument("--onnx", action="store_true", help="also time the exported ONNX file in onnxruntime")
    parser.add_argument("--cuda", action="store_true", help="also time the torch model on a GPU, if any")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "model_speed.json")
    args = parser.parse_args(argv)

    from ecgscope.models import create_model, list_models, model_class

    gen = torch.Generator().manual_seed(0)
    x = torch.randn(BATCH, LEADS, WINDOW, generator=gen)
    rr = 0.5 + torch.rand(BATCH, N_RR, generator=gen)
    rows = []
    for name in args.models or list_models():
        for variant in model_class(name).variants:
            model = create_model(name, in_leads=LEADS, n_classes=CLASSES, window=WINDOW, n_rr=N_RR,
                                 variant=variant, seed=0).eval()
            row = {"model": name, "variant": variant, "parameters": model.n_parameters(),
                   "mflop_per_beat": flops_per_beat(model) / 1e6,
                   "torch_ms_per_1000": {}, "onnx_ms_per_1000": {}}
            for n in args.threads:
                torch.set_num_threads(n)
                with torch.inference_mode():
                    seconds = best_of(lambda: model(x, rr), args.repeat)
                row["torch_ms_per_1000"][n] = seconds / BATCH * 1000 * 1e3
            if args.cuda and torch.cuda.is_available():
                row["cuda_ms_per_1000"] = cuda_ms_per_1000(model, x, rr, args.repeat)
            if args.onnx:
                timings, row["onnx_max_abs_diff"] = onnx_timings(model, args.threads, args.repeat, x.numpy(),
                                                                 rr.numpy())
                for n, seconds in timings.items():
                    row["onnx_ms_per_1000"][n] = seconds / BATCH * 1000 * 1e3
            rows.append(row)
            print(f"  {name}/{variant}: done", file=sys.stderr)

    header = ["model", "variant", "parameters", "MFLOP/beat"]
    header += [f"torch {n} thr (ms/1000 beats)" for n in args.threads]
    if args.onnx:
        header += [f"ORT {n} thr (ms/1000 beats)" for n in args.threads] + ["ORT max abs diff"]
    cuda = any("cuda_ms_per_1000" in r for r in rows)
    if cuda:
        header += ["GPU (ms/1000 beats)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(["---", "---", "---:", "---:"] + ["---:"] * (len(header) - 4)) + "|")
    for r in rows:
        cells = [r["model"], r["variant"], f"{r['parameters']:,}", f"{r['mflop_per_beat']:.1f}"]
        cells += [f"{r['torch_ms_per_1000'][n]:.0f}" for n in args.threads]
        if args.onnx:
            cells += [f"{r['onnx_ms_per_1000'][n]:.0f}" for n in args.threads]
            cells += [f"{r['onnx_max_abs_diff']:.1e}"]
        if cuda:
            cells += [f"{r['cuda_ms_per_1000']:.2f}"]
        print("| " + " | ".join(cells) + " |")

    write_result(args.out, "model_speed", argv,
                 setup={"window": WINDOW, "leads": LEADS, "classes": CLASSES, "n_rr": N_RR, "batch": BATCH,
                        "repeat": args.repeat},
                 **environment(torch), rows=rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
