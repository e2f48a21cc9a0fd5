"""Evaluation layer: QRS matching (bxb-style), beat and delineation scores, reports.

Names are imported lazily from their modules on first use.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    # beat-by-beat QRS matching and detection scores (matching.py)
    "BEAT_SYMBOLS": "matching", "BeatMatch": "matching", "DetectionScore": "matching",
    "match_beats": "matching", "score_detection": "matching", "score_records": "matching",
    "reference_beats": "matching", "excluded_intervals": "matching",
    # wave delineation scores (delineation.py)
    "score_delineation": "delineation",
    # AAMI EC57 beat-classification report (aami.py)
    "AAMIReport": "aami", "aami_report": "aami",
    # generic multi-class metrics, ROC/PR, calibration (classification.py)
    "EvaluationError": "classification", "LabelError": "classification",
    "MulticlassMetrics": "classification", "multiclass_metrics": "classification", "mean_f1": "classification",
    "confusion_matrix": "classification", "metrics_from_confusion": "classification",
    "ClassCurves": "classification", "roc_pr_curves": "classification",
    "ReliabilityBins": "classification", "reliability_bins": "classification",
    "expected_calibration_error": "classification",
    # bootstrap confidence intervals over records/patients (bootstrap.py)
    "BootstrapCI": "bootstrap", "bootstrap_ci": "bootstrap", "bootstrap_sums": "bootstrap",
    "confusion_bootstrap": "bootstrap", "percentile_interval": "bootstrap",
    # report writers and figures (report_io.py, plots.py)
    "to_jsonable": "report_io", "write_json": "report_io", "markdown_table": "report_io", "latex_table": "report_io",
    "plot_confusion_matrix": "plots", "plot_roc_curves": "plots", "plot_pr_curves": "plots",
    "plot_reliability": "plots",
    # record-level rhythm metrics and protocols (rhythm.py, rhythm_protocols.py)
    "rhythm_report": "rhythm", "af_report": "rhythm", "rhythm_table": "rhythm", "rhythm_class_table": "rhythm",
    "af_table": "rhythm", "RhythmCVResult": "rhythm_protocols", "cross_validate_rhythm": "rhythm_protocols",
    "zero_shot": "rhythm_protocols",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
