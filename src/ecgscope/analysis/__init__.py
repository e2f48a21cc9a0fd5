"""Analysis layer: the end-to-end pipeline and its rendering (ECG paper, reports)."""

from .._lazy import lazy_exports

_EXPORTS = {
    "analyze": "pipeline", "Report": "report",
} | {
    name: "paper"
    for name in (
        "plot_ecg", "draw_paper", "draw_trace", "draw_calibration_pulse", "draw_annotations",
        "new_paper_figure", "layout_12lead", "layout_rows", "PaperStyle", "Layout", "Panel",
    )
}
_EXPORTS["classify_beats"] = "classify"
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
