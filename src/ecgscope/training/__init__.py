"""Training layer: experiment configs, the beat-classifier trainer, balancing, cross-validation.

- :class:`ExperimentConfig` (``DataConfig``, ``ModelConfig``, ``TrainConfig``) <-> YAML
  with dotted overrides: :func:`load_config`, :func:`apply_overrides`.
- :func:`fit`: AdamW + warm-up/cosine, weighted CE or focal loss, EMA, early
  stopping on a patient-wise validation split, AMP/compile on CUDA, DDP via torchrun.
- :func:`oversample`: random / SMOTE / ADASYN inside the training fold only.
- :func:`train_experiment`: a full run into a checkpoint folder;
  :func:`cross_validate`: patient-wise k-fold CV with out-of-fold predictions.
- :class:`LeakGuard` / :class:`DataLeakError`: the hard check that test patients
  never reach training, normalisation, oversampling or validation.
"""

from .._lazy import lazy_exports

_EXPORTS = {
    # config.py
    "DataConfig": "config", "ModelConfig": "config", "TrainConfig": "config", "ExperimentConfig": "config",
    "load_config": "config", "apply_overrides": "config", "parse_override": "config",
    # trainer.py
    "fit": "trainer", "prepare_data": "trainer", "predict_proba": "trainer", "FitResult": "trainer",
    "PreparedData": "trainer", "classification_metrics": "trainer",
    # balance.py, validation.py, normalisation.py
    "oversample": "balance", "validation_split": "validation", "choose_validation_patients": "validation",
    "fit_normalisation": "normalisation", "apply_normalisation": "normalisation",
    # leakage.py
    "LeakGuard": "leakage", "DataLeakError": "leakage",
    # experiment.py, cv.py
    "train_experiment": "experiment", "TrainOutcome": "experiment", "load_beats": "experiment",
    "build_model": "experiment", "cross_validate": "cv", "CVResult": "cv",
    # reproducibility.py
    "seed_everything": "reproducibility", "code_version": "reproducibility",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
