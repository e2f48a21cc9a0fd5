"""Record-level rhythm data sets: CinC 2017 records, MIT-BIH AF windows, LUDB AF records.

A :class:`RhythmSet` is a list of variable-length signals with one rhythm
label each, the record and patient they come from, and one sampling rate.
Three builders read the local copies of the public databases:

- :func:`load_cinc2017`: the PhysioNet/CinC Challenge 2017 records (single
  lead, 300 Hz, 9-60 s) with their ``REFERENCE.csv`` labels ``N A O ~``
  (:data:`RHYTHM_CLASSES`). Patients are not published, so each record is its
  own patient. Reading 6,397 ``.mat`` files takes tens of seconds, so the
  signals are cached in one ``.npz`` (see :func:`cinc2017_cache_file`).
- :func:`mitdb_af_windows`: non-overlapping windows (10 s by default) of the
  MIT-BIH records, each inside one rhythm episode of the ``atr`` annotations,
  labelled ``"AF"`` when the episode is ``(AFIB`` or ``(AFL`` and ``"non-AF"``
  otherwise.
- :func:`ludb_af_records`: the 10-s LUDB records, ``"AF"`` when the header's
  rhythm statement is atrial fibrillation or atrial flutter.

Atrial flutter counts as AF in both zero-shot targets (AF-or-flutter vs the
rest): LUDB states flutter as its own rhythm and CinC 2017 has no separate
flutter class (its ``A`` class is what a CinC model learns for both).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import DatasetError

__all__ = [
    "AF_LABELS",
    "AF_RHYTHMS",
    "RHYTHM_CLASSES",
    "RhythmSet",
    "cinc2017_cache_file",
    "is_af_rhythm",
    "load_cinc2017",
    "load_rhythm_set",
    "ludb_af_records",
    "mitdb_af_windows",
    "save_rhythm_set",
]

#: CinC 2017 classes: normal sinus rhythm, AF, other rhythm, noisy.
RHYTHM_CLASSES: tuple[str, ...] = ("N", "A", "O", "~")
#: Labels of the zero-shot AF targets.
AF_LABELS: tuple[str, ...] = ("AF", "non-AF")
#: MIT-BIH rhythm codes (aux ``"(AFIB"``, ``"(AFL"``) counted as AF.
AF_RHYTHMS: frozenset[str] = frozenset({"AFIB", "AFL"})
_CACHE_VERSION = 1


@dataclass
class RhythmSet:
    """Variable-length ECG items with one rhythm label each, at one sampling rate.

    Attributes:
        signals: one float32 ``(n_leads, n_samples)`` array in mV per item.
        fs: sampling rate in Hz.
        labels: str label per item (``N A O ~`` or ``AF``/``non-AF``).
        records: unique item id per item (a record name, or ``"<record>:<start s>"`` for windows).
        patients: patient per item (records of one patient share it).
        source: where the items come from (``"cinc2017"``, ``"mitdb"``, ``"ludb"``).
        leads: lead names, shared by every item.
        starts_s: start of each item in its original record (0 for whole records).
        info: provenance (skipped records, window length, ...), JSON-safe.
    """

    signals: list
    fs: float
    labels: np.ndarray
    records: np.ndarray
    patients: np.ndarray
    source: str = ""
    leads: tuple = ()
    starts_s: np.ndarray | None = None
    info: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.signals = [np.atleast_2d(np.asarray(s, dtype=np.float32)) for s in self.signals]
        n = len(self.signals)
        self.fs = float(self.fs)
        if not self.fs > 0:
            raise DatasetError(f"sampling rate fs={self.fs!r} is not positive", fix="pass fs in Hz")
        self.labels = np.asarray(self.labels, dtype=str).reshape(-1)
        self.records = np.asarray(self.records, dtype=str).reshape(-1)
        self.patients = np.asarray(self.patients, dtype=str).reshape(-1)
        self.starts_s = (np.zeros(n) if self.starts_s is None
                         else np.asarray(self.starts_s, dtype=np.float64).reshape(-1))
        self.leads = tuple(str(x) for x in self.leads)
        for name in ("labels", "records", "patients", "starts_s"):
            if getattr(self, name).size != n:
                raise DatasetError(f"RhythmSet has {n} signals but {getattr(self, name).size} {name}",
                                   fix="pass one label, record, patient and start per signal")
        if np.unique(self.records).size != n:
            raise DatasetError("RhythmSet item ids (records) are not unique",
                               fix="name windows '<record>:<start>' so every item id is distinct")

    def __len__(self) -> int:
        return len(self.signals)

    def subset(self, idx) -> RhythmSet:
        """The items at ``idx`` (integer indices, a boolean mask, or item ids), in that order."""
        arr = np.asarray(idx)
        if arr.dtype.kind == "b":
            if arr.size != len(self):
                raise DatasetError(f"mask has {arr.size} entries for {len(self)} items",
                                   fix="pass one boolean per item")
            arr = np.flatnonzero(arr)
        elif arr.dtype.kind in "USO" and arr.size:
            lookup = {r: i for i, r in enumerate(self.records.tolist())}
            missing = [r for r in arr.astype(str).tolist() if r not in lookup]
            if missing:
                raise DatasetError(f"{len(missing)} item id(s) not in this RhythmSet (e.g. {missing[0]!r})",
                                   fix="pass ids from .records")
            arr = np.array([lookup[r] for r in arr.astype(str).tolist()], dtype=np.int64)
        arr = arr.astype(np.int64).reshape(-1)
        return RhythmSet([self.signals[i] for i in arr.tolist()], self.fs, self.labels[arr],
                         self.records[arr], self.patients[arr], self.source, self.leads, self.starts_s[arr], dict(self.info))

    @property
    def durations_s(self) -> np.ndarray:
        """Duration of each item in seconds."""
        return np.array([s.shape[-1] / self.fs for s in self.signals], dtype=np.float64)

    def resample(self, fs: float) -> RhythmSet:
        """The same items at sampling rate ``fs`` (polyphase FIR, :func:`~ecgscope.record.resampling.resample_signal`).

        Returns ``self`` when ``fs`` is the current rate.
        """
        from ..record.resampling import resample_signal

        fs = float(fs)
        if fs == self.fs:
            return self
        if not fs > 0:
            raise DatasetError(f"target sampling rate {fs!r} is not positive", fix="pass fs in Hz, e.g. 300")
        signals = [resample_signal(s, self.fs, fs) for s in self.signals]
        return RhythmSet(signals, fs, self.labels, self.records, self.patients, self.source, self.leads,
                         self.starts_s, dict(self.info))

    def summary(self) -> dict:
        """Counts per label, durations, patients and provenance (JSON-safe)."""
        labels, counts = np.unique(self.labels, return_counts=True)
        d = self.durations_s
        return {
            "source": self.source, "n_items": len(self), "n_patients": int(np.unique(self.patients).size),
            "fs": self.fs, "leads": list(self.leads),
            "labels": {str(k): int(v) for k, v in zip(labels, counts)},
            "duration_s": ({"min": float(d.min()), "median": float(np.median(d)), "max": float(d.max()),
                            "total": float(d.sum())} if d.size else {}),
            "info": self.info,
        }


def _finish(data: RhythmSet, fs: float | None) -> RhythmSet:
    return data if fs is None else data.resample(fs)


def _empty_check(items: list, what: str, directory) -> None:
    if not items:
        raise DatasetError(f"no {what} could be built", path=directory,
                           fix="check the records and their annotations/labels (see RhythmSet.info)")


# ------------------------------------------------------------------ CinC 2017
def cinc2017_cache_file(root=None, records=None, cache_dir=None) -> Path:
    """Path of the ``.npz`` cache of these CinC 2017 records (key: record list, file sizes and mtimes).

    The folder is ``cache_dir``, else ``$ECGSCOPE_CACHE/rhythm``, else
    ``platformdirs.user_cache_path("ecgscope") / "rhythm"`` (next to the beat cache).
    """
    from ._beat_cache import cache_dir_path
    from .loader import local_path, record_paths

    directory = local_path("cinc2017", root)
    chosen = record_paths("cinc2017", root, records)
    stats = []
    for rel in chosen:
        for ext in (".hea", ".mat"):
            p = directory / (rel + ext)
            st = p.stat() if p.is_file() else None
            stats.append([rel + ext, st.st_size if st else -1, st.st_mtime_ns if st else -1])
    ref = next((p for p in (directory / "REFERENCE.csv",) if p.is_file()), None)
    ref_stat = [ref.stat().st_size, ref.stat().st_mtime_ns] if ref else None
    text = json.dumps({"version": _CACHE_VERSION, "files": stats, "reference": ref_stat})
    key = hashlib.sha256(text.encode()).hexdigest()[:32]
    folder = Path(cache_dir).expanduser() if cache_dir is not None else cache_dir_path().parent / "rhythm"
    return folder / f"cinc2017-{key}.npz"


def save_rhythm_set(data: RhythmSet, path, *, dtype: str = "float32", compress: bool = False) -> Path:
    """Write ``data`` atomically to ``path`` (``.npz``: one flat signal array + offsets, no pickle).

    ``dtype="float16"`` halves the file (about 0.5 uV steps at 1 mV, below a 16-bit ADC's resolution at usual
    gains); ``compress`` zips it. :func:`load_rhythm_set` reads it back (as float32). Used for the CinC
    cache and to carry a prepared set to another machine (``benchmarks/rhythm_cv.py pack``).
    """
    path = Path(path)
    lengths = np.array([s.shape[-1] for s in data.signals], dtype=np.int64)
    flat = (np.concatenate([s.reshape(-1) for s in data.signals]) if data.signals else np.zeros(0)).astype(
        dtype, copy=False)
    header = {"fs": data.fs, "source": data.source, "leads": list(data.leads), "info": data.info,
              "n_leads": int(data.signals[0].shape[0]) if data.signals else 1}
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".rhythm-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            (np.savez_compressed if compress else np.savez)(
                fh, header=np.array(json.dumps(header)), flat=flat, lengths=lengths, labels=data.labels,
                records=data.records, patients=data.patients, starts_s=data.starts_s)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def load_rhythm_set(path) -> RhythmSet:
    """The :class:`RhythmSet` written by :func:`save_rhythm_set`."""
    data = _load_npz(Path(path))
    if data is None:
        raise DatasetError("not a readable rhythm set file", path=path,
                           fix="write it with save_rhythm_set (or benchmarks/rhythm_cv.py pack)")
    return data


def _save_npz(path: Path, data: RhythmSet) -> None:
    """The cache: :func:`save_rhythm_set`, silent if not writable."""
    try:
        save_rhythm_set(data, path)
    except OSError:
        pass


def _load_npz(path: Path) -> RhythmSet | None:
    """The cached set, or ``None`` when absent or damaged."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            head = json.loads(str(z["header"]))
            flat, lengths = z["flat"].astype(np.float32, copy=False), z["lengths"]
            arrays = {k: z[k] for k in ("labels", "records", "patients", "starts_s")}
    except (OSError, ValueError, KeyError, EOFError):
        return None
    n_leads = int(head["n_leads"])
    ends = np.cumsum(lengths * n_leads)
    signals = [flat[e - n * n_leads:e].reshape(n_leads, n) for e, n in zip(ends.tolist(), lengths.tolist())]
    return RhythmSet(signals, head["fs"], source=head["source"], leads=tuple(head["leads"]),
                     info=head["info"], **arrays)


def _progress(items, enabled: bool, desc: str):
    if not enabled:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, unit="record", leave=False)


def load_cinc2017(root=None, *, records=None, fs: float | None = None, cache: bool = True,
                  progress: bool = True, cache_dir=None) -> RhythmSet:
    """The CinC 2017 records with their ``REFERENCE.csv`` labels (``N A O ~``) as a :class:`RhythmSet`.

    Args:
        root: data root holding ``cinc2017/`` (default ``$ECGSCOPE_DATA`` or the user cache).
        records: record names to load (default every local record with a label).
        fs: resample to this rate (default: keep 300 Hz).
        cache: read/write the ``.npz`` cache (:func:`cinc2017_cache_file`); signals are cached at 300 Hz.
        progress: progress bar while reading the ``.mat`` files.
        cache_dir: cache folder overriding the default.

    Records without a label in ``REFERENCE.csv`` are skipped (listed in ``info["unlabelled"]``).
    """
    from .loader import load

    path = cinc2017_cache_file(root, records, cache_dir) if cache else None
    data = _load_npz(path) if path is not None else None
    if data is None:
        signals, labels, names, unlabelled = [], [], [], []
        fs_read = None
        chosen = _records_list("cinc2017", root, records)
        for rec in _progress(load("cinc2017", root, chosen), progress, "cinc2017"):
            code = rec.metadata.extra.get("label")
            if code not in RHYTHM_CLASSES:
                unlabelled.append(rec.metadata.record_id)
                continue
            if fs_read is not None and rec.fs != fs_read:
                rec = rec.resample(fs_read)
            fs_read = rec.fs if fs_read is None else fs_read
            signals.append(rec.signal[:1])
            labels.append(code)
            names.append(rec.metadata.record_id)
        _empty_check(signals, "labelled CinC 2017 records", root)
        data = RhythmSet(signals, fs_read, labels, names, names, "cinc2017", ("ECG",),
                         info={"unlabelled": unlabelled, "labels": "REFERENCE.csv",
                               "patients": "not published; one patient per record"})
        if path is not None:
            _save_npz(path, data)
    return _finish(data, fs)


def _records_list(name: str, root, records) -> list[str]:
    from .loader import record_paths

    return record_paths(name, root, records)


# ------------------------------------------------------------------ MIT-BIH
def is_af_rhythm(label: str) -> bool:
    """Whether a MIT-BIH rhythm code (``"AFIB"``, ``"(AFL"``) is atrial fibrillation or flutter."""
    return str(label).lstrip("(").rstrip("\x00").strip().upper() in AF_RHYTHMS


def _lead_or_none(record, lead: str):
    try:
        return record.lead_index(lead)
    except KeyError:
        return None


def _usable(x: np.ndarray) -> bool:
    """False for windows with non-finite samples or a flat line (unreadable signal)."""
    return bool(np.all(np.isfinite(x)) and np.ptp(x) > 1e-3)


def mitdb_af_windows(root=None, *, records=None, window_s: float = 10.0, fs: float | None = None,
                     lead: str = "II", database: str = "mitdb") -> RhythmSet:
    """Non-overlapping ``window_s`` windows of MIT-BIH records labelled ``"AF"`` / ``"non-AF"``.

    Each rhythm episode of the ``atr`` annotations (aux ``"(N"``, ``"(AFIB"`` ...)
    is tiled from its start with whole windows, so no window straddles a
    rhythm change; samples before the first rhythm annotation are unlabelled
    and skipped. ``(AFIB`` and ``(AFL`` are ``"AF"``, every other rhythm
    ``"non-AF"``. Windows with non-finite samples or a flat line are dropped.
    Records without ``lead`` (``"II"`` matches ``MLII``) are skipped and listed
    in ``info["skipped"]``. Item ids are ``"<record>:<start s>"``; patients
    follow the database (mitdb 201 and 202 are one patient).

    Args:
        root: data root holding ``mitdb/``.
        records: record names (default every local record; pass DS1 names to stay off DS2).
        window_s: window length in seconds.
        fs: resample the windows to this rate (default the record's 360 Hz).
        lead: the lead to keep.
        database: registry name of another database with rhythm annotations in ``atr`` (e.g. ``"afdb"``).
    """
    from .labels import rhythm_episodes
    from .loader import load

    if not window_s > 0:
        raise DatasetError(f"window_s={window_s!r} is not positive", fix="pass window_s=10.0")
    signals, labels, names, patients, starts = [], [], [], [], []
    skipped: dict[str, str] = {}
    dropped = 0
    fs_read = None
    for rec in load(database, root, _records_list(database, root, records)):
        rid = rec.metadata.record_id
        li = _lead_or_none(rec, lead)
        ann = rec.annotations.get("atr")
        if li is None:
            skipped[rid] = f"no lead {lead} (leads {rec.original_leads})"
            continue
        if ann is None or len(ann) == 0:
            skipped[rid] = "no atr annotations"
            continue
        episodes = rhythm_episodes(ann.sample, ann.aux, rec.n_samples)
        if not episodes:
            skipped[rid] = "no rhythm annotations"
            continue
        if fs_read is not None and rec.fs != fs_read:
            rec = rec.resample(fs_read)
            ann = rec.annotations["atr"]
            episodes = rhythm_episodes(ann.sample, ann.aux, rec.n_samples)
        fs_read = rec.fs
        width = round(window_s * rec.fs)
        x = rec.signal[li]
        for start, stop, rhythm in episodes:
            for a in range(start, stop - width + 1, width):
                w = x[a:a + width]
                if not _usable(w):
                    dropped += 1
                    continue
                t0 = a / rec.fs
                signals.append(w[None, :])
                labels.append("AF" if is_af_rhythm(rhythm) else "non-AF")
                names.append(f"{rid}:{t0:.3f}")
                patients.append(rec.metadata.patient_id or rid)
                starts.append(t0)
    _empty_check(signals, f"{database} AF windows", root)
    info = {"window_s": float(window_s), "lead": lead, "skipped": skipped, "dropped_unusable": dropped,
            "positive": "rhythm (AFIB or (AFL", "negative": "every other annotated rhythm"}
    data = RhythmSet(signals, fs_read, labels, names, patients, database, (lead,), starts, info)
    return _finish(data, fs)


# ------------------------------------------------------------------ LUDB
def _ludb_is_af(rhythm: str | None) -> bool:
    text = (rhythm or "").lower()
    return "fibrillation" in text or "flutter" in text


def ludb_af_records(root=None, *, fs: float | None = None, lead: str = "II", records=None) -> RhythmSet:
    """The LUDB records (whole 10 s, one lead) labelled ``"AF"`` (fibrillation or flutter) / ``"non-AF"``.

    The label comes from the header's ``Rhythm:`` statement
    (:func:`ecgscope.datasets.loader.ludb_rhythm`); records without one are
    skipped (``info["skipped"]``). One patient per record.
    """
    from .loader import load

    signals, labels, names, rhythms = [], [], [], {}
    skipped: dict[str, str] = {}
    fs_read = None
    for rec in load("ludb", root, _records_list("ludb", root, records)):
        rid = rec.metadata.record_id
        rhythm = rec.metadata.extra.get("rhythm")
        li = _lead_or_none(rec, lead)
        if rhythm is None or li is None:
            skipped[rid] = "no rhythm statement" if rhythm is None else f"no lead {lead}"
            continue
        if fs_read is not None and rec.fs != fs_read:
            rec = rec.resample(fs_read)
        fs_read = rec.fs
        signals.append(rec.signal[li][None, :])
        labels.append("AF" if _ludb_is_af(rhythm) else "non-AF")
        names.append(rid)
        rhythms[rid] = rhythm
    _empty_check(signals, "LUDB records with a rhythm statement", root)
    info = {"lead": lead, "skipped": skipped, "rhythms": rhythms,
            "positive": "header rhythm atrial fibrillation or atrial flutter",
            "negative": "every other rhythm"}
    return _finish(RhythmSet(signals, fs_read, labels, names, names, "ludb", (lead,), None, info), fs)
