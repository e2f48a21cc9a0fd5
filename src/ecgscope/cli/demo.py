"""``ecgscope demo``: simulate the demo record, analyse it, write all reports, score against the truth.

Needs no download: the record comes from the simulator
(:func:`~ecgscope.synthesis.simulate_demo`) and the models ship with the
package. The summary compares the analysis with the simulator's ground truth:
beats found, PVCs labelled V, and the atrial-fibrillation episode's onset and offset.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from ..errors import ModelError
from ._common import console, err_console

__all__ = ["register", "demo_summary"]


def demo_summary(record, report) -> dict:
    """Analysis vs ground truth: beats, PVC and APC sensitivity, AF onset/offset errors."""
    from ..evaluation.matching import BEAT_SYMBOLS, match_beats

    atr = record.annotations["atr"]
    is_beat = np.isin(atr.symbol.astype(str), list(BEAT_SYMBOLS))
    ref, sym = atr.sample[is_beat], atr.symbol[is_beat].astype(str)
    found = np.asarray(report.beats.sample, np.int64)
    m = match_beats(ref, found, record.fs)
    labels = np.asarray(report.beats.label, dtype=object)
    pvc = sym[m.ref_index] == "V"
    apc = sym[m.ref_index] == "A"
    truth_af = [e for e in record.metadata.extra.get("episodes", []) if e[2] == "AFIB"]
    found_af = report.episodes("AF")
    af = None
    if truth_af:
        a, b = truth_af[0][0], truth_af[0][1]
        best = min(found_af, key=lambda e: abs(e.start_s - a) + abs(e.end_s - b), default=None)
        af = {"truth": [a, b], "found": [best.start_s, best.end_s] if best else None,
              "onset_error_s": best.start_s - a if best else None, "offset_error_s": best.end_s - b if best else None}
    return {
        "beats_truth": int(ref.size), "beats_found": int(found.size), "beats_matched": int(m.ref_index.size),
        "beat_sensitivity": m.ref_index.size / max(ref.size, 1),
        "pvc_truth": int((sym == "V").sum()),
        "pvc_labelled_v": int((labels[m.test_index][pvc] == "V").sum()),
        "apc_truth": int((sym == "A").sum()),
        "apc_labelled_s": int((labels[m.test_index][apc] == "S").sum()),
        "labelled": report.ectopy.labelled, "af": af,
    }


def _print(summary: dict, paths: dict, elapsed: float) -> None:
    s = summary
    console.print(f"beats found     {s['beats_matched']} of {s['beats_truth']} true beats "
                  f"({100 * s['beat_sensitivity']:.1f} %), {s['beats_found'] - s['beats_matched']} extra", highlight=False)
    if s["labelled"]:
        pct = 100 * s["pvc_labelled_v"] / max(s["pvc_truth"], 1)
        console.print(f"PVCs labelled V {s['pvc_labelled_v']} of {s['pvc_truth']} ({pct:.1f} %)", highlight=False)
        pct = 100 * s["apc_labelled_s"] / max(s["apc_truth"], 1)
        console.print(f"APCs labelled S {s['apc_labelled_s']} of {s['apc_truth']} ({pct:.1f} %)", highlight=False)
    else:
        console.print("PVCs labelled V not assessed (no beat model)", highlight=False)
    af = s["af"]
    if af and af["found"]:
        console.print(f"AF episode      found {af['found'][0]:.1f}–{af['found'][1]:.1f} s, truth "
                      f"{af['truth'][0]:.1f}–{af['truth'][1]:.1f} s (onset {af['onset_error_s']:+.1f} s, "
                      f"offset {af['offset_error_s']:+.1f} s)", highlight=False)
    elif af:
        console.print(f"AF episode      not found (truth {af['truth'][0]:.1f}–{af['truth'][1]:.1f} s)", highlight=False)
    console.print(f"analysis        {elapsed:.2f} s", highlight=False)
    for p in paths.values():
        console.print(f"report          {p}", highlight=False)


def register(app: typer.Typer) -> None:
    """Add the ``demo`` command."""

    @app.command("demo")
    def demo(
        output: Path = typer.Option(Path("ecgscope-demo"), "--output", "-o", help="Folder for the reports."),
        seed: int = typer.Option(0, "--seed", help="Simulator seed (same seed, same record)."),
    ) -> None:
        """Simulate a 5-min ECG with PVCs, couplets, bigeminy, APCs and AF; analyse it with the shipped beat and rhythm models; write JSON/HTML/PDF."""
        from ..analysis.pipeline import analyze
        from ..analysis.render import render
        from ..synthesis import simulate_demo

        record = simulate_demo(seed=seed)
        try:
            report = analyze(record, beat_model="default", rhythm_model="default")
        except ModelError as exc:
            err_console.print(f"[yellow]warning:[/] {exc} Falling back to unlabelled beats and the rhythm rule.",
                              highlight=False, soft_wrap=True)
            report = analyze(record, beat_model=None)
        paths = render(report, record, output, stem=record.metadata.record_id)
        _print(demo_summary(record, report), paths, report.provenance.elapsed_s or 0.0)
