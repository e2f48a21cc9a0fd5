"""MiniRocket speed: ``ecgscope.features.MiniRocket`` (PyTorch) against aeon's MiniRocket (numba).

Two cases on the same float32 data for both: 2,000 univariate series of 1,000 samples
(10-s windows at 100 Hz) and 200 12-channel series of 3,000 samples (10-s windows at
300 Hz); 10,000 features (aeon's default). Synthetic random walks: PPV pooling is
branch-free, so the time does not depend on the values. For each case: fit time
(dilations + biases) and transform time, with 1 and 2 threads (torch intra-op threads
for ours, aeon ``n_jobs`` = numba threads for aeon). Every callable runs once as a
warm-up first (that excludes numba's JIT compile and loads its cache), then the median
of ``--repeat`` interleaved runs is kept. The features are checked to agree (ours fitted
from aeon's parameters) before timing.

    python benchmarks/minirocket_speed.py [--repeat 3] [--n-uni 2000] [--n-multi 200]

Prints a Markdown table and writes ``benchmarks/results/minirocket_speed.json``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from pathlib import Path

import numpy as np
from _common import environment, write_result

ROOT = Path(__file__).resolve().parents[1]


def median_of_interleaved(cases: dict, repeat: int) -> dict[str, float]:
    """Median wall time (s) of each callable over ``repeat`` rounds, after one warm-up call each."""
    for fn in cases.values():
        fn()
    times: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(repeat):
        for label, fn in cases.items():
            start = time.perf_counter()
            fn()
            times[label].append(time.perf_counter() - start)
    return {label: statistics.median(ts) for label, ts in times.items()}


def with_threads(n_threads: int, fn):
    """``fn`` run with ``n_threads`` torch threads (restored afterwards)."""
    import torch

    def run():
        old = torch.get_num_threads()
        torch.set_num_threads(n_threads)
        try:
            return fn()
        finally:
            torch.set_num_threads(old)
    return run


def bench_case(name: str, X: np.ndarray, num_features: int, repeat: int, threads: list[int]) -> list[dict]:
    """Fit and transform timings of ours and aeon's on ``X`` ``(n, channels, length)``."""
    from aeon.transformations.collection.convolution_based import MiniRocket as AeonMiniRocket

    from ecgscope.features import MiniRocket

    aeon_fitted = {t: AeonMiniRocket(n_kernels=num_features, n_jobs=t, random_state=0).fit(X) for t in threads}
    ours_from_aeon = MiniRocket.from_aeon(aeon_fitted[threads[0]])
    head = X[:64]
    diff = np.abs(ours_from_aeon.transform(head) - aeon_fitted[threads[0]].transform(head))
    agree = float(np.mean(diff <= 1e-6))
    ours = MiniRocket(num_features=num_features, random_state=0).fit(X)

    cases = {}
    for t in threads:
        cases[("fit", "aeon", t)] = lambda t=t: AeonMiniRocket(n_kernels=num_features, n_jobs=t, random_state=0).fit(X)
        cases[("fit", "ecgscope", t)] = with_threads(t, lambda: MiniRocket(num_features=num_features,
                                                                           random_state=0).fit(X))
        cases[("transform", "aeon", t)] = lambda t=t: aeon_fitted[t].transform(X)
        cases[("transform", "ecgscope", t)] = with_threads(t, lambda: ours.transform(X))
    median = median_of_interleaved(cases, repeat)
    rows = []
    for (stage, impl, t), seconds in median.items():
        ref = median[(stage, "aeon", t)]
        rows.append({"case": name, "shape": list(X.shape), "stage": stage, "implementation": impl, "threads": t,
                     "seconds": seconds, "ms_per_series": 1e3 * seconds / X.shape[0],
                     "ratio_to_aeon": seconds / ref, "features_identical_to_aeon": agree})
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case (median is kept)")
    parser.add_argument("--n-uni", type=int, default=2000, help="univariate series (length 1,000)")
    parser.add_argument("--n-multi", type=int, default=200, help="12-channel series (length 3,000)")
    parser.add_argument("--num-features", type=int, default=10_000)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "minirocket_speed.json")
    args = parser.parse_args(argv)

    import aeon
    import numba
    import torch

    rng = np.random.default_rng(0)
    data = {"univariate 1 x 1000 (10 s @ 100 Hz)": (args.n_uni, 1, 1000),
            "12-channel 12 x 3000 (10 s @ 300 Hz)": (args.n_multi, 12, 3000)}
    rows = []
    load_before = os.getloadavg()
    for name, shape in data.items():
        X = np.cumsum(rng.standard_normal(shape, dtype=np.float32), axis=-1, dtype=np.float32)
        rows.extend(bench_case(name, X, args.num_features, args.repeat, args.threads))
    load_after = os.getloadavg()

    print("| case | stage | implementation | threads | median s | ms / series | x aeon |")
    print("|---|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['case']} (n={r['shape'][0]}) | {r['stage']} | {r['implementation']} | {r['threads']} | "
              f"{r['seconds']:.2f} | {r['ms_per_series']:.2f} | {r['ratio_to_aeon']:.2f} |")
    for name in data:
        agree = next(r["features_identical_to_aeon"] for r in rows if r["case"] == name)
        print(f"{name}: {100 * agree:.3f} % of features identical to aeon's (ours with aeon's parameters)")
    print(f"load average before / after: {load_before[0]:.1f} / {load_after[0]:.1f}")

    write_result(args.out, "minirocket_speed", argv, repeat=args.repeat, num_features=args.num_features,
                 warm_up="one untimed call of every case first (excludes numba JIT compile)",
                 **environment(torch, aeon, numba), load_average_before_after=[load_before[0], load_after[0]],
                 rows=rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
