"""Beat datasets: one window (plus RR context) per annotated or detected beat.

:func:`build_beat_dataset` turns an annotated WFDB database (a registry name
read with :func:`ecgscope.datasets.load`, a folder, or a list of record paths)
into a :class:`BeatSet`: beat windows around the R peak at a chosen sampling
rate, AAMI EC57 labels, RR-interval features and the record and patient of
every beat. :func:`extract_beats` does the same for one
:class:`~ecgscope.record.Record`, at its reference annotations (training) or at
given / detected positions (inference).

Per record: the chosen leads are taken by canonical name (``"II"`` finds
``MLII``), the record is resampled to ``config.fs`` with
:meth:`Record.resample` (so a model trained at 360 Hz runs on 128, 250, 257
or 500 Hz data), optionally band-pass filtered, then cut with
:func:`ecgscope.signal.segment_beats`; RR features come from
:func:`ecgscope.signal.rr_features` over all beats of the record (de Chazal
et al., IEEE TBME 51(7), 2004). Records with paced beats are left out (EC57).
Results are cached on disk (see :mod:`ecgscope.datasets._beat_cache`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

from ..errors import ConfigError, DatasetError
from ..record import Record
from ..signal.beats import MORPHOLOGY_COLUMNS, RR_COLUMNS
from .labels import AAMI_CLASSES, aami_labels, beat_mask

__all__ = [
    "BeatDatasetConfig",
    "BeatSet",
    "DEFAULT_RR",
    "RR_NAMES",
    "build_beat_dataset",
    "extract_beats",
    "is_paced",
    "lead_reader",
]

#: RR feature names, in the column order of :func:`ecgscope.signal.rr_features`.
RR_NAMES: tuple[str, ...] = RR_COLUMNS
#: The default :attr:`BeatDatasetConfig.rr_features`: every interval and ratio (``irregularity`` and
#: ``pre_median``, added later, are opt-in so configs written before them keep their meaning).
DEFAULT_RR: tuple[str, ...] = tuple(name for name in RR_NAMES if name not in ("irregularity", "pre_median"))
_BEAT_NORMALISATIONS = (None, "zscore", "record", "median")
_PACED_CODES = ("/",)


def _pair(value, name: str) -> tuple[float, float]:
    try:
        before, after = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name}={value!r} is not two numbers",
                          fix=f"write {name} as [before_s, after_s]") from None
    if before < 0 or after < 0 or before + after <= 0 or not np.isfinite(before + after):
        raise ConfigError(f"{name}={value!r} must be two non-negative seconds with a positive sum",
                          fix=f"write {name} as [before_s, after_s], e.g. [0.25, 0.45]")
    return before, after


@dataclass(frozen=True)
class BeatDatasetConfig:
    """How beats are cut, labelled and described; hashable, JSON round-trips with :meth:`to_dict`.

    Attributes:
        classes: AAMI classes to learn, in output order (``N S V F`` and optionally ``Q``).
        fs: sampling rate of the windows in Hz (records are resampled to it).
        window: seconds ``(before, after)`` the R peak of the main window.
        extra_windows: further ``(before, after)`` windows (e.g. a wide
            context window); each is resampled to the main window's length and
            stacked as extra channels after the leads.
        leads: leads by canonical name (``"II"`` matches ``MLII``), in order.
        annotator: annotation file holding the reference beats.
        bandpass: ``(low, high)`` Hz zero-phase band-pass applied after
            resampling, or ``None``.
        normalize: per-beat normalisation of :func:`ecgscope.signal.segment_beats`
            (``None``, ``"zscore"``, ``"record"``, ``"median"``).
        rr_features: RR feature names (subset of :data:`RR_NAMES`; empty for none).
        template: append, per lead, the main window minus the record's median
            beat (over all its beats, no labels used) as a channel after the
            extra windows: how far a beat departs from the patient's own
            dominant morphology.
        context_beats: ``k`` neighbours on each side: when ``k > 0`` each beat's
            ``x`` also carries the main windows (leads only) of beats
            ``i-k..i-1, i+1..i+k`` after its own channels, and ``rr`` each
            neighbour's RR features plus a validity flag (neighbours past the
            record's ends are zeros with flag 0); see :meth:`context_offsets`.
        morphology: append to ``rr``, per lead, the scale-free summaries of
            :func:`ecgscope.signal.beat_morphology` (the main window against
            the record's median beat, no labels used), after the RR features.
        local_morphology: ``k > 0`` (with ``morphology``) appends the same
            summaries once more against each beat's *local* median beat (the
            beats within about ``k`` of it; blocks of ``k // 2`` beats share
            one), named ``<summary>_local``: a record whose QRS shape or
            amplitude drifts (electrode, axis, noise) is then also compared
            with its own recent beats, while the record-wide summaries still
            see runs of ectopic beats that a local median absorbs.
        rr_local: half-width in beats of the local RR average.
        exclude_paced: leave out records with paced beats (EC57 practice).
        keep_unlabelled: keep beats outside ``classes`` (Q, unclassifiable)
            with label ``-1`` instead of dropping them.
        drop_invalid: drop beats whose window runs past the signal ends
            (otherwise they are edge-padded).
    """

    classes: tuple[str, ...] = ("N", "S", "V", "F")
    fs: float = 360.0
    window: tuple[float, float] = (0.25, 0.45)
    extra_windows: tuple[tuple[float, float], ...] = ()
    leads: tuple[str, ...] = ("II",)
    annotator: str = "atr"
    bandpass: tuple[float, float] | None = (0.5, 40.0)
    normalize: str | None = None
    rr_features: tuple[str, ...] = DEFAULT_RR
    template: bool = False
    context_beats: int = 0
    morphology: bool = False
    local_morphology: int = 0
    rr_local: int = 10
    exclude_paced: bool = True
    keep_unlabelled: bool = False
    drop_invalid: bool = True

    def __post_init__(self) -> None:
        classes = tuple(str(c) for c in self.classes)
        bad = [c for c in classes if c not in AAMI_CLASSES]
        if not classes or bad or len(set(classes)) != len(classes):
            raise ConfigError(f"classes={list(self.classes)!r} must be distinct AAMI classes",
                              fix=f"choose from {list(AAMI_CLASSES)}, e.g. [N, S, V, F]")
        fs = float(self.fs)
        if not np.isfinite(fs) or not 1.0 <= fs <= 100_000.0:
            raise ConfigError(f"fs={self.fs!r} is not a plausible sampling rate", fix="use e.g. fs=360")
        window = _pair(self.window, "window")
        extra = tuple(_pair(w, "extra_windows") for w in self.extra_windows)
        leads = tuple(str(x) for x in ([self.leads] if isinstance(self.leads, str) else self.leads))
        if not leads:
            raise ConfigError("leads is empty", fix="name at least one lead, e.g. leads=[II]")
        band = None
        if self.bandpass is not None:
            band = tuple(float(v) for v in self.bandpass)
            if len(band) != 2 or not 0 <= band[0] < band[1] < fs / 2:
                raise ConfigError(f"bandpass={self.bandpass!r} must be (low, high) Hz "
                                  f"with high < fs/2 = {fs / 2:g}",
                                  fix="e.g. bandpass=[0.5, 40] or bandpass=null")
        if self.normalize not in _BEAT_NORMALISATIONS:
            raise ConfigError(f"normalize={self.normalize!r} is unknown",
                              fix=f"use one of {list(_BEAT_NORMALISATIONS)}")
        rr = tuple(str(x) for x in self.rr_features)
        unknown = [x for x in rr if x not in RR_NAMES]
        if unknown or len(set(rr)) != len(rr):
            raise ConfigError(f"rr_features {unknown or list(rr)} are unknown or repeated",
                              fix=f"choose from {list(RR_NAMES)}")
        if int(self.rr_local) < 1:
            raise ConfigError(f"rr_local={self.rr_local!r} must be >= 1", fix="use e.g. rr_local=10")
        if not isinstance(self.context_beats, (int, np.integer)) or isinstance(self.context_beats, bool) \
                or not 0 <= self.context_beats <= 64:
            raise ConfigError(f"context_beats={self.context_beats!r} must be an integer in 0..64",
                              fix="use e.g. context_beats=4 (0: the beat alone)")
        object.__setattr__(self, "context_beats", int(self.context_beats))
        object.__setattr__(self, "morphology", bool(self.morphology))
        if not isinstance(self.local_morphology, (int, np.integer)) or isinstance(self.local_morphology, bool) \
                or self.local_morphology < 0:
            raise ConfigError(f"local_morphology={self.local_morphology!r} must be an integer >= 0",
                              fix="use e.g. local_morphology=40 (0: off)")
        if self.local_morphology and not self.morphology:
            raise ConfigError("local_morphology needs morphology: true", fix="set morphology: true as well")
        object.__setattr__(self, "local_morphology", int(self.local_morphology))
        for name, value in (("classes", classes), ("fs", fs), ("window", window), ("extra_windows", extra),
                            ("leads", leads), ("bandpass", band), ("rr_features", rr),
                            ("rr_local", int(self.rr_local)), ("annotator", str(self.annotator))):
            object.__setattr__(self, name, value)

    # -------------------------------------------------------------- derived
    @property
    def samples(self) -> int:
        """Window length in samples at :attr:`fs`."""
        return int(round(sum(self.window) * self.fs))

    @property
    def beat_channels(self) -> int:
        """Channels of the beat itself: leads times windows (plus one template channel per lead)."""
        return len(self.leads) * (1 + len(self.extra_windows) + bool(self.template))

    @property
    def n_channels(self) -> int:
        """Channels of ``x``: :attr:`beat_channels` plus ``2k`` neighbour main windows (one per lead each)."""
        return self.beat_channels + 2 * self.context_beats * len(self.leads)

    def context_offsets(self) -> tuple[int, ...]:
        """Beat offsets of the neighbour blocks in ``x`` and ``rr``, in order: ``-k..-1, 1..k``."""
        k = self.context_beats
        return tuple(range(-k, 0)) + tuple(range(1, k + 1))

    @property
    def morphology_names(self) -> tuple[str, ...]:
        """Morphology columns of ``rr`` (``name`` for one lead, ``name:lead`` for several; empty when off)."""
        if not self.morphology:
            return ()
        names = MORPHOLOGY_COLUMNS + (tuple(f"{name}_local" for name in MORPHOLOGY_COLUMNS)
                                      if self.local_morphology else ())
        if len(self.leads) == 1:
            return names
        return tuple(f"{name}:{lead}" for lead in self.leads for name in names)

    @property
    def rr_names(self) -> tuple[str, ...]:
        """Columns of ``rr``: :attr:`rr_features`, :attr:`morphology_names`, then ``name@+o`` and
        ``valid@+o`` per neighbour offset."""
        own = self.rr_features + self.morphology_names
        per = (*own, "valid")
        return own + tuple(f"{name}@{o:+d}" for o in self.context_offsets() for name in per)

    def window_card(self) -> dict[str, Any]:
        """The checkpoint card's ``window`` entry."""
        card = {"before_s": self.window[0], "after_s": self.window[1], "samples": self.samples,
                "extra": [list(w) for w in self.extra_windows]}
        if self.context_beats:
            card["context_beats"] = self.context_beats
        return card

    # ------------------------------------------------------------ (de)serial
    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (tuples as lists)."""
        out = asdict(self)
        return json.loads(json.dumps(out))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "BeatDatasetConfig":
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ConfigError(f"unknown beat-dataset keys {unknown}", fix=f"valid keys: {sorted(names)}")
        kwargs = dict(data)
        if "extra_windows" in kwargs:
            kwargs["extra_windows"] = tuple(tuple(w) for w in kwargs["extra_windows"] or ())
        return cls(**kwargs)

    @classmethod
    def from_card(cls, card: Mapping[str, Any]) -> "BeatDatasetConfig":
        """The config a checkpoint was trained with (``card["training"]["beat_dataset"]``)."""
        try:
            return cls.from_dict(card["training"]["beat_dataset"])
        except (KeyError, TypeError):
            raise ConfigError("the model card has no training.beat_dataset entry",
                              fix="use a checkpoint written by ecgscope.training") from None

    def digest(self) -> str:
        """SHA-256 of the canonical JSON form of :meth:`identity`."""
        return hashlib.sha256(json.dumps(self.identity(), sort_keys=True).encode()).hexdigest()

    def identity(self) -> dict[str, Any]:
        """:meth:`to_dict` without ``template`` / ``context_beats`` / ``morphology`` / ``local_morphology`` when
        off (older digests and keys hold)."""
        data = self.to_dict()
        for key in ("template", "context_beats", "morphology", "local_morphology"):
            if not data[key]:
                del data[key]
        return data


# ====================================================================== BeatSet
@dataclass(eq=False)
class BeatSet:
    """Beats of one or more records as aligned arrays.

    Attributes:
        x: float32 ``(n, channels, samples)`` beat windows (mV or normalised).
        rr: float32 ``(n, len(rr_names))`` RR features.
        y: int64 ``(n,)`` index into ``classes``; ``-1`` when unknown.
        record_id, patient_id: ``(n,)`` strings.
        sample: int64 ``(n,)`` R-peak positions at the record's own rate.
        classes: class names.
        rr_names: RR feature names.
        symbol: ``(n,)`` source annotation codes (``""`` for given positions).
        meta: config, fs, window, leads, excluded records.
    """

    x: np.ndarray
    rr: np.ndarray
    y: np.ndarray
    record_id: np.ndarray
    patient_id: np.ndarray
    sample: np.ndarray
    classes: tuple[str, ...]
    rr_names: tuple[str, ...]
    symbol: np.ndarray | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.x = np.asarray(self.x, dtype=np.float32)
        n = self.x.shape[0]
        self.rr = np.asarray(self.rr, dtype=np.float32).reshape(n, -1)
        self.y = np.asarray(self.y, dtype=np.int64).reshape(-1)
        self.record_id = np.asarray(self.record_id, dtype=str).reshape(-1)
        self.patient_id = np.asarray(self.patient_id, dtype=str).reshape(-1)
        self.sample = np.asarray(self.sample, dtype=np.int64).reshape(-1)
        self.symbol = (np.full(n, "", dtype="<U1") if self.symbol is None
                       else np.asarray(self.symbol, dtype=str).reshape(-1))
        self.classes = tuple(self.classes)
        self.rr_names = tuple(self.rr_names)
        for name in ("y", "record_id", "patient_id", "sample", "symbol"):
            if getattr(self, name).shape[0] != n:
                raise ValueError(f"BeatSet.{name} has {getattr(self, name).shape[0]} entries, x has {n}")
        if self.rr.shape[1] != len(self.rr_names):
            raise ValueError(f"BeatSet.rr has {self.rr.shape[1]} columns for {len(self.rr_names)} rr_names")

    def __len__(self) -> int:
        return int(self.x.shape[0])

    @property
    def records(self) -> list[str]:
        """Distinct record ids in order of appearance."""
        return list(dict.fromkeys(self.record_id.tolist()))

    @property
    def patients(self) -> list[str]:
        """Distinct patient ids in order of appearance."""
        return list(dict.fromkeys(self.patient_id.tolist()))

    def subset(self, mask) -> "BeatSet":
        """The beats picked by a boolean mask or an index array."""
        idx = np.asarray(mask)
        return BeatSet(self.x[idx], self.rr[idx], self.y[idx], self.record_id[idx], self.patient_id[idx],
                       self.sample[idx], self.classes, self.rr_names, self.symbol[idx], dict(self.meta))

    def by_records(self, ids: Iterable[str]) -> "BeatSet":
        """The beats of the given records (unknown ids raise :class:`DatasetError`)."""
        wanted = [str(i) for i in ids]
        missing = sorted(set(wanted) - set(self.records))
        if missing:
            raise DatasetError(f"records {missing} are not in this beat set",
                               fix=f"choose from {self.records}")
        return self.subset(np.isin(self.record_id, wanted))

    def by_patients(self, ids: Iterable[str]) -> "BeatSet":
        """The beats of the given patients."""
        return self.subset(np.isin(self.patient_id, [str(i) for i in ids]))

    def class_counts(self) -> dict[str, int]:
        """Beats per class (all classes, zeros included; ``"?"`` counts unlabelled beats if any)."""
        out = {c: int(np.count_nonzero(self.y == i)) for i, c in enumerate(self.classes)}
        unknown = int(np.count_nonzero(self.y < 0))
        if unknown:
            out["?"] = unknown
        return out

    @classmethod
    def concat(cls, sets: Sequence["BeatSet"], meta: dict | None = None) -> "BeatSet":
        """Beats of several sets with the same classes and RR names, in order."""
        if not sets:
            raise DatasetError("no beat sets to concatenate", fix="pass at least one BeatSet")
        first = sets[0]
        for s in sets[1:]:
            if s.classes != first.classes or s.rr_names != first.rr_names or s.x.shape[1:] != first.x.shape[1:]:
                raise DatasetError("beat sets differ in classes, RR features or window shape",
                                   fix="build them with the same BeatDatasetConfig")
        cat = np.concatenate
        return cls(cat([s.x for s in sets]), cat([s.rr for s in sets]), cat([s.y for s in sets]),
                   cat([s.record_id for s in sets]), cat([s.patient_id for s in sets]),
                   cat([s.sample for s in sets]), first.classes, first.rr_names,
                   cat([s.symbol for s in sets]), dict(meta if meta is not None else first.meta))

    def __repr__(self) -> str:
        return (f"BeatSet({len(self)} beats, x{tuple(self.x.shape[1:])}, {len(self.records)} records, "
                f"classes={self.class_counts()})")


# ================================================================= extraction
def is_paced(record: Record, annotator: str = "atr") -> bool:
    """True when a record is marked paced or its reference annotations hold paced beats (``/``)."""
    if record.metadata.extra.get("paced"):
        return True
    ann = record.annotations.get(annotator)
    return ann is not None and bool(np.isin(ann.symbol.astype(str), _PACED_CODES).any())


def _rr_matrix(positions: np.ndarray, fs: float, config: BeatDatasetConfig) -> np.ndarray:
    """RR features of all beats, NaN-free: undefined values take the record's typical value."""
    if not config.rr_features:
        return np.zeros((positions.size, 0), np.float32)
    from ..signal import rr_features

    if positions.size < 2:
        return np.ones((positions.size, len(config.rr_features)), np.float32)
    frame = rr_features(positions, fs, local=config.rr_local, edge="nearest")
    values = frame[list(config.rr_features)].to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        fill = np.nanmedian(np.where(bad, np.nan, values), axis=0)
        fill = np.where(np.isfinite(fill), fill, 1.0)
        values = np.where(bad, fill[None, :], values)
    return values.astype(np.float32)


def _fit_length(beats: np.ndarray, length: int) -> np.ndarray:
    """Crop or edge-pad the last axis to ``length`` samples."""
    n = beats.shape[-1]
    if n == length:
        return beats
    if n > length:
        return beats[..., :length]
    return np.concatenate([beats, np.repeat(beats[..., -1:], length - n, axis=-1)], axis=-1)


def lead_reader(source, lead: str, root=None):
    """``read(record_id) -> (samples of lead, fs)`` for the records of ``source`` (a registry name such as
    ``"mitdb"``, with ``root``, or a folder of WFDB records), the lead found as beat datasets find it."""
    from ..io import read
    from .registry import DATABASES

    if isinstance(source, str) and source not in DATABASES:
        directory = Path(source).expanduser()

        def locate(rid: str) -> Path:
            return directory / rid
    else:
        from .loader import local_path, record_paths

        directory = local_path(str(source), root)

        def locate(rid: str) -> Path:
            return directory / record_paths(str(source), root, [rid])[0]

    def read_lead(record_id: str) -> tuple[np.ndarray, float]:
        record = _select_leads(read(locate(str(record_id))), [lead], str(record_id))
        return np.asarray(record.signal[0], dtype=np.float64), float(record.fs)

    return read_lead


def _select_leads(record: Record, leads: Sequence[str], source: str) -> Record:
    try:
        return record.select_leads(leads)
    except KeyError:
        raise DatasetError(f"record has leads {record.leads}, not all of {list(leads)}", path=source,
                           fix="choose leads that every record has (data.leads=[...])") from None


def extract_beats(
    record: Record,
    config: BeatDatasetConfig | None = None,
    positions=None,
    *,
    record_id: str | None = None,
    patient_id: str | None = None,
) -> BeatSet:
    """Beats of one record: at its ``config.annotator`` beats, or at ``positions`` (samples at ``record.fs``).

    With reference annotations, labels are the AAMI classes of ``config.classes``
    (others dropped unless ``config.keep_unlabelled``). With ``positions``
    (detected R peaks for inference) labels are ``-1``.
    """
    config = config or BeatDatasetConfig()
    rid = str(record_id or record.metadata.record_id or "record")
    pid = str(patient_id or record.metadata.patient_id or rid)
    source = str(record.metadata.source or rid)
    if positions is None:
        ann = record.annotations.get(config.annotator)
        if ann is None:
            raise DatasetError(f"no {config.annotator!r} annotations (has {sorted(record.annotations)})",
                               path=source,
                               fix="pass positions=detected R peaks, or set the annotator that holds the beats")
        is_beat = beat_mask(ann.symbol)
        pos = ann.sample[is_beat]
        symbols = ann.symbol[is_beat].astype(str)
        labels = aami_labels(symbols)
        lookup = {c: i for i, c in enumerate(config.classes)}
        y = np.array([lookup.get(c, -1) for c in labels.tolist()], dtype=np.int64)
    else:
        pos = np.sort(np.rint(np.asarray(positions, dtype=np.float64).reshape(-1))).astype(np.int64)
        symbols = np.full(pos.size, "", dtype="<U1")
        y = np.full(pos.size, -1, dtype=np.int64)
    rr = _rr_matrix(pos, record.fs, config)

    lead_rec = _select_leads(record, config.leads, source)
    lead_rec = Record(signal=lead_rec.signal, fs=lead_rec.fs, leads=lead_rec.leads,
                      original_leads=lead_rec.original_leads, metadata=lead_rec.metadata)
    at_fs = lead_rec.resample(config.fs)
    signal = at_fs.signal
    if config.bandpass is not None:
        from ..signal import bandpass

        signal = bandpass(signal, config.fs, *config.bandpass).astype(np.float32, copy=False)
    pos_t = np.rint(pos * (config.fs / record.fs)).astype(np.int64)
    x, valid, template = _segment_all(signal, pos_t, config)
    if config.morphology:
        rr = np.concatenate([rr, _morphology_matrix(x[:, :len(config.leads)], template, valid, config)], axis=1)
    if config.context_beats:
        x, rr = _with_context(x, rr, config)

    keep = np.ones(pos.size, bool)
    if positions is None and not config.keep_unlabelled:
        keep &= y >= 0
    if config.drop_invalid:
        keep &= valid
    n = int(keep.sum())
    return BeatSet(x[keep], rr[keep], y[keep], np.full(n, rid), np.full(n, pid), pos[keep],
                   config.classes, config.rr_names, symbols[keep],
                   {"fs": config.fs, "window": config.window_card(), "leads": list(config.leads)})


def _segment_all(signal: np.ndarray, pos: np.ndarray, config: BeatDatasetConfig
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Main window plus extra windows (resampled to the main length), stacked on the channel axis; the
    validity of each beat; the record's median beat when the template channel or morphology needs it."""
    from ..signal import segment_beats

    length = config.samples
    if pos.size == 0:
        return np.zeros((0, config.beat_channels, length), np.float32), np.zeros(0, bool), None
    beats, valid = segment_beats(signal, config.fs, pos, config.window, normalize=config.normalize)
    beats = _fit_length(beats, length)
    parts = [beats]
    for win in config.extra_windows:
        fs_k = config.fs * length / (sum(win) * config.fs)
        wide, ok = segment_beats(signal, config.fs, pos, win, target_fs=fs_k, normalize=config.normalize)
        parts.append(_fit_length(wide, length))
        valid = valid & ok
    template = _record_template(beats, valid) if config.template or config.morphology else None
    if config.template:
        parts.append(beats - template)
    x = np.concatenate(parts, axis=1) if len(parts) > 1 else beats
    return np.ascontiguousarray(x, dtype=np.float32), valid, template


def _with_context(x: np.ndarray, rr: np.ndarray, config: BeatDatasetConfig) -> tuple[np.ndarray, np.ndarray]:
    """Append each beat's record neighbours (labelled or not): main windows to ``x``, RR + flag to ``rr``."""
    n, leads, length = x.shape[0], len(config.leads), x.shape[2]
    offsets = config.context_offsets()
    safe, ok = _neighbours(n, offsets)
    near_x = np.where(ok[:, :, None, None], x[safe, :leads], 0.0).reshape(n, len(offsets) * leads, length)
    return (np.concatenate([x, near_x.astype(np.float32)], axis=1),
            np.concatenate([rr, context_rr(rr, offsets)], axis=1))


def _neighbours(n: int, offsets) -> tuple[np.ndarray, np.ndarray]:
    """``(index, inside)``, each ``(n, len(offsets))``: neighbour indices (clipped) and whether they exist."""
    idx = np.arange(n)[:, None] + np.asarray(offsets, np.int64)[None, :]
    return np.clip(idx, 0, max(n - 1, 0)), (idx >= 0) & (idx < n)


def context_rr(rr: np.ndarray, offsets) -> np.ndarray:
    """The neighbours' RR columns of a record's beats ``rr`` ``(n, m)``: per offset its ``m`` features and a
    validity flag (zeros past the record's ends), ``(n, len(offsets) * (m + 1))`` float32."""
    safe, ok = _neighbours(rr.shape[0], offsets)
    near = np.concatenate([np.where(ok[:, :, None], rr[safe], 0.0), ok[:, :, None]], axis=2)
    return near.reshape(rr.shape[0], -1).astype(np.float32)


def _morphology_matrix(main: np.ndarray, template: np.ndarray | None, valid: np.ndarray,
                       config: BeatDatasetConfig) -> np.ndarray:
    """:func:`ecgscope.signal.beat_morphology` of each lead's main windows ``(n, leads, samples)`` against
    the record's median beat ``template`` ``(1, leads, samples)`` (and, with ``local_morphology``, against
    each beat's local median beat), float32 columns in :attr:`BeatDatasetConfig.morphology_names` order."""
    from ..signal import beat_morphology

    if main.shape[0] == 0:
        return np.zeros((0, len(config.morphology_names)), np.float32)
    refs = [template]
    if config.local_morphology:
        refs.append(_local_template(main, valid, config.local_morphology))
    cols = [beat_morphology(main[:, k], config.fs, config.window[0], ref[:, k]).to_numpy()
            for k in range(main.shape[1]) for ref in refs]
    return np.concatenate(cols, axis=1).astype(np.float32)


def _record_template(beats: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """The record's median beat ``(1, leads, samples)`` over its valid beats (all beats if none is valid)."""
    ref = beats[valid] if valid.any() else beats
    return np.median(ref, axis=0, keepdims=True)


def _local_template(beats: np.ndarray, valid: np.ndarray, k: int) -> np.ndarray:
    """Each beat's local median beat ``(n, leads, samples)``: blocks of ``max(1, k // 2)`` beats share the
    median of the valid beats from ``k`` before the block to ``k`` after it (the record's, if none is valid)."""
    n, step = beats.shape[0], max(1, k // 2)
    out = np.empty_like(beats)
    whole = None
    for start in range(0, n, step):
        lo, hi = max(0, start - k), min(n, start + step + k)
        near = beats[lo:hi][valid[lo:hi]]
        if near.shape[0]:
            out[start:start + step] = np.median(near, axis=0)
        else:
            whole = _record_template(beats, valid) if whole is None else whole
            out[start:start + step] = whole[0]
    return out


# ================================================================== datasets
@dataclass
class _Source:
    """One record to read: its id, path (for the cache key) and how to read it."""

    record_id: str
    path: Path | None
    read: Any  # () -> Record


def _wfdb_stem(path) -> Path:
    p = Path(path)
    return p.with_suffix("") if p.suffix.lower() in (".hea", ".dat", ".atr") else p


def _resolve_sources(source, root=None, records=None) -> tuple[list[_Source], str]:
    """Records to read from a registry name, a folder, paths or Record objects."""
    from ..io import read
    from .paths import natural_key, parse_records_file
    from .registry import DATABASES

    if isinstance(source, Record):
        source = [source]
    if isinstance(source, str) and source in DATABASES:
        from .loader import load, local_path, record_paths

        directory = local_path(source, root)
        rels = record_paths(source, root, records)
        stream = load(source, root, records=rels)  # sources are read once each, in this order
        return [_Source(rel.rsplit("/", 1)[-1], directory / rel, lambda: next(stream)) for rel in rels], source
    if isinstance(source, (str, Path)):
        directory = Path(source).expanduser()
        if not directory.is_dir():
            raise DatasetError("is neither a registered database nor a folder of WFDB records", path=source,
                               fix="pass a registry name (ecgscope data list), a folder or a list of record paths")
        if records is not None:
            names = [str(r) for r in records]
        elif (directory / "RECORDS").is_file():
            names = parse_records_file(directory / "RECORDS")
        else:
            names = sorted((p.stem for p in directory.glob("*.hea")), key=natural_key)
        if not names:
            raise DatasetError("holds no WFDB records (.hea files)", path=directory,
                               fix="point at the folder that holds the .hea/.dat/.atr files")
        paths = [directory / n for n in names]
        return [_Source(p.name, p, lambda p=p: read(p)) for p in paths], str(directory)
    items = list(source)
    if not items:
        raise DatasetError("no records given", fix="pass a registry name, a folder or record paths")
    out = []
    for item in items:
        if isinstance(item, Record):
            rid = str(item.metadata.record_id or f"record{len(out)}")
            out.append(_Source(rid, None, lambda item=item: item))
        else:
            p = _wfdb_stem(item)
            out.append(_Source(p.name, p, lambda p=p: read(p)))
    return out, "records"


def _file_stats(path: Path | None) -> list:
    """``[[name, size, mtime_ns], ...]`` of the files of a record (``<stem>.*``)."""
    if path is None:
        return []
    return [[p.name, st.st_size, st.st_mtime_ns] for p in sorted(path.parent.glob(path.name + ".*"))
            for st in [p.stat()] if p.is_file()]


def build_beat_dataset(
    source,
    config: BeatDatasetConfig | None = None,
    *,
    root=None,
    records: Sequence[str] | None = None,
    patients: Mapping[str, str] | None = None,
    cache_dir=None,
    cache: bool = True,
    progress: bool = False,
) -> BeatSet:
    """All labelled beats of a database as one :class:`BeatSet` (cached on disk).

    Args:
        source: a registry name (``"mitdb"``, read with ``load(name, root)``), a
            folder of WFDB records, a list of record paths, or Records.
        config: how beats are cut and labelled (default :class:`BeatDatasetConfig`).
        root: data root for registry names.
        records: record names to use (default all in the source), e.g. ``DS1``.
        patients: optional ``{record: patient}`` overrides.
        cache_dir: cache folder (default the user cache ``.../ecgscope/beats``).
        cache: read and write the cache (Record inputs are never cached).
        progress: show a progress bar while extracting.

    Example::

        beats = build_beat_dataset("mitdb", records=DS1, root="../shared/data")
    """
    from . import _beat_cache

    config = config or BeatDatasetConfig()
    sources, label = _resolve_sources(source, root, records)
    cacheable = cache and all(s.path is not None for s in sources)
    key = None
    if cacheable:
        key = _beat_cache.cache_key(config.identity(), [[s.record_id, _file_stats(s.path)] for s in sources])
        hit = _beat_cache.load(key, cache_dir)
        if hit is not None:
            return _with_patients(hit, patients)
    parts, excluded = [], []
    iterator = sources
    if progress:
        from tqdm.auto import tqdm

        iterator = tqdm(sources, desc=f"beats from {label}", unit="record")
    for src in iterator:
        record = src.read()
        if config.exclude_paced and is_paced(record, config.annotator):
            excluded.append(src.record_id)
            continue
        parts.append(extract_beats(record, config, record_id=src.record_id))
    if not parts:
        raise DatasetError(f"no records left in {label} (paced records excluded: {excluded})",
                           fix="choose records without paced beats or set exclude_paced=false")
    meta = {**parts[0].meta, "config": config.to_dict(), "source": label, "excluded": excluded,
            "records": [p.records[0] for p in parts if len(p)], "key": key}
    beats = BeatSet.concat(parts, meta)
    if cacheable:
        _beat_cache.save(key, beats, cache_dir)
    return _with_patients(beats, patients)


def _with_patients(beats: BeatSet, patients: Mapping[str, str] | None) -> BeatSet:
    if patients:
        beats.patient_id = np.array([str(patients.get(r, p)) for r, p in zip(beats.record_id.tolist(),
                                                                           beats.patient_id.tolist())])
    return beats
