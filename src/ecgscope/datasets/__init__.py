"""Public ECG databases: registry, download, verification, loading, labels and splits.

- :data:`DATABASES` / :func:`get_database`: one entry per database (PhysioNet
  slug and version, fs, leads, records, licence, citation, label encoding).
- :func:`download` / :func:`verify`: resumable, SHA-256-checked downloads into
  ``<root>/<name>`` and checks of a local copy.
- :func:`load`: iterate :class:`~ecgscope.record.Record` s with patient and labels.
- :func:`aami_labels`, :data:`AAMI_MAP`, :data:`DS1`, :data:`DS2`,
  :data:`MITDB_PACED_RECORDS`: AAMI EC57 labels and the inter-patient protocol.
- :func:`load_split`: versioned patient-wise stratified k-fold splits.
- :class:`RhythmSet`, :func:`load_cinc2017`, :func:`mitdb_af_windows`,
  :func:`ludb_af_records`: record-level rhythm data (CinC 2017, zero-shot AF targets).
"""

from .._lazy import lazy_exports

_EXPORTS = {
    # registry.py
    "Database": "registry", "DATABASES": "registry", "PHYSIONET_CITATION": "registry",
    "get_database": "registry", "database_names": "registry",
    # paths.py
    "data_root": "paths", "database_dir": "paths", "local_records": "paths", "ENV_DATA": "paths",
    # remote.py
    "download": "remote", "plan_download": "remote", "run_download": "remote",
    "fetch_file": "remote", "physionet_url": "remote", "sha256_file": "remote",
    "parse_sha256sums": "remote",
    # integrity.py
    "verify": "integrity", "VerifyReport": "integrity", "FileCheck": "integrity",
    # loader.py
    "load": "loader", "record_paths": "loader", "local_path": "loader",
    "CINC2017_LABELS": "loader", "CPSC2021_LABELS": "loader",
    # labels.py
    "AAMI_CLASSES": "labels", "AAMI_MAP": "labels", "aami_labels": "labels", "aami_counts": "labels",
    "beat_mask": "labels", "MITDB_PACED_RECORDS": "labels", "is_paced_record": "labels",
    "exclude_paced": "labels", "DS1": "labels", "DS2": "labels", "mitdb_patient": "labels",
    "rhythm_episodes": "labels",
    # splits/
    "Split": "splits", "load_split": "splits", "available_splits": "splits",
    # beats.py
    "BeatDatasetConfig": "beats", "build_beat_dataset": "beats", "BeatSet": "beats",
    # rhythm.py
    "RHYTHM_CLASSES": "rhythm", "AF_LABELS": "rhythm", "RhythmSet": "rhythm", "load_cinc2017": "rhythm",
    "mitdb_af_windows": "rhythm", "ludb_af_records": "rhythm", "save_rhythm_set": "rhythm",
    "load_rhythm_set": "rhythm",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
