"""EDF, EDF+ and BDF files through ``edfio``.

Reading: every signal whose physical dimension is a voltage (``uV``, ``mV``,
``V``) and whose sampling rate is the most common among them becomes a lead,
in mV; other signals (a different rate, or non-voltage such as SpO2) are
skipped and listed in ``metadata.extra["skipped_signals"]``, or resampled to
the ECG rate with ``resample=True``. EDF+ annotations become
``record.annotations["edf"]``: onset -> sample; a text that is a WFDB beat
symbol (``N``, ``V`` …) becomes the symbol, ``"<symbol>\\t<text>"`` splits
into symbol and aux, any other text is a comment (``"``) with the text in
``aux``. Patient code, sex, birthdate (-> age) and start time go to the
metadata.

Writing (EDF+C, 16-bit): each lead's physical range is its data range, the
digital range -32768..32767, so the resolution is range/65535. Records are
1 s long (or the shortest whole number of seconds holding a whole number of
samples); the signal is padded to whole records and its true length is
stored as ``nsamples=<n>`` in the recording field so this reader trims the
padding. NaN cannot be stored in EDF.

Reference: Kemp et al., "A simple format for exchange of digitized polygraphic
recordings", EEG Clin. Neurophysiol. 82 (1992); Kemp & Olivan, "European data
format 'plus' (EDF+)", Clin. Neurophysiol. 114 (2003).
"""

from __future__ import annotations

import datetime as _dt
import re
from collections import Counter
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, FormatError, UnitsError
from ..record import Annotations, Metadata, Record, resample_signal
from ._util import check_lead_names, finite_range, names_to_store, parse_age, parse_sex, record_id_from_path
from .validate import check_fs, unit_scale

__all__ = ["NAME", "EXTENSIONS", "sniff", "read", "write"]

NAME = "edf"
EXTENSIONS = (".edf", ".bdf", ".rec")

_EDF_MAGIC = b"0       "
_BDF_MAGIC = b"\xffBIOSEMI"
_NSAMPLES = re.compile(r"^nsamples=(\d+)$")
_AGE_FIELD = re.compile(r"^age=(\d+(?:\.\d+)?)$")


def sniff(path: Path, head: bytes) -> bool:
    """EDF (``"0       "``) or BDF (``"\\xffBIOSEMI"``) version field, with a plausible header length."""
    if not (head.startswith(_EDF_MAGIC) or head.startswith(_BDF_MAGIC)):
        return False
    field = head[184:192].strip()
    return len(head) < 192 or field.isdigit()


_TRUNCATED = re.compile(r"header indicates (\d+) data records, but file contains (\d+)")


def _load(path: Path):
    """edfio's Edf/Bdf; a file shorter than its header says is an error, not a silent crop."""
    import warnings

    import edfio

    with open(path, "rb") as fh:
        magic = fh.read(8)
    reader = edfio.read_bdf if magic == _BDF_MAGIC else edfio.read_edf
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            try:
                edf = reader(path)
            except UnicodeDecodeError:
                edf = reader(path, header_encoding="latin-1")
        except Exception as exc:  # edfio raises ValueError/IndexError/... on damaged files
            raise CorruptFileError(f"cannot be read as EDF/BDF ({type(exc).__name__}: {exc})".splitlines()[0],
                                   path=path, fix="check the file is complete (EDF files are often truncated)") from None
    for warning in caught:
        m = _TRUNCATED.search(str(warning.message))
        if m and int(m.group(2)) < int(m.group(1)):
            raise CorruptFileError(
                f"the file is truncated: the header announces {m.group(1)} data records but it holds {m.group(2)}",
                path=path, fix="re-export or re-download the recording",
            )
    return edf


def read(path: Path, *, resample: bool = False, units: str | None = None, fs: float | None = None,
         leads: list[str] | None = None) -> Record:
    """Read an EDF/EDF+/BDF file.

    Args:
        resample: resample voltage signals at other rates to the ECG rate
            instead of skipping them.
        units: units to assume for signals with an empty or unknown physical
            dimension (otherwise those are skipped).
        fs: expected ECG sampling rate; picks the signals at that rate.
        leads: names for the leads read, replacing the signal labels.
    """
    path = Path(path)
    edf = _load(path)
    try:
        signals = [s for s in edf.signals]
    except Exception as exc:
        raise CorruptFileError(f"cannot read the EDF signals ({exc})", path=path) from None
    labels = [s.label.strip() for s in signals]
    candidates, skipped = [], []
    for i, sig in enumerate(signals):
        dim = sig.physical_dimension.strip()
        unit = dim or units
        scale = None
        if unit:
            try:
                scale = unit_scale(unit, path)
            except UnitsError:
                scale = None
        if scale is None:
            skipped.append(f"{labels[i] or i} ({dim or 'no unit'}, {sig.sampling_frequency:g} Hz)")
            continue
        candidates.append((i, scale))
    if not candidates:
        raise UnitsError(
            "no signal has a voltage unit (uV, mV, V)" + (f"; signals: {', '.join(skipped[:6])}" if skipped else ""),
            path=path, fix="pass units='uV' (or 'mV') to read signals with an empty physical dimension",
        )
    rates = Counter(float(signals[i].sampling_frequency) for i, _ in candidates)
    if fs is not None:
        target = check_fs(fs, path)
        if target not in rates and not resample:
            raise FormatError(f"no voltage signal is sampled at {target:g} Hz (rates: {sorted(rates)})", path=path,
                              fix="omit fs=, or pass resample=True")
    else:
        target = max(rates, key=lambda r: (rates[r], r))
    target = check_fs(target, path)
    rows, names, kept_units = [], [], []
    for i, scale in candidates:
        sig = signals[i]
        rate = float(sig.sampling_frequency)
        try:
            data = np.asarray(sig.data, dtype=np.float32)
        except Exception as exc:
            raise CorruptFileError(f"signal {labels[i]!r} cannot be decoded ({exc})", path=path) from None
        if rate != target:
            if not resample:
                skipped.append(f"{labels[i]} ({rate:g} Hz)")
                continue
            data = resample_signal(data, rate, target)
        rows.append(data * np.float32(scale) if scale != 1.0 else data)
        names.append(labels[i] or f"lead{len(names) + 1}")
        kept_units.append(sig.physical_dimension.strip() or str(units))
    n = min(r.size for r in rows)
    signal = np.stack([r[:n] for r in rows])
    if leads is not None:
        names = check_lead_names(leads, len(names), path)
    record_id = record_id_from_path(path)
    metadata, n_true = _metadata(edf, record_id, path)
    metadata.units = kept_units
    if skipped:
        metadata.extra["skipped_signals"] = skipped
    if n_true is not None and n_true <= signal.shape[1]:
        signal = signal[:, :n_true]
    annotations = _annotations(edf, target, path)
    return Record(signal=signal, fs=target, original_leads=names,
                  annotations={"edf": annotations} if annotations is not None else {}, metadata=metadata)


def _metadata(edf, record_id: str, path: Path) -> tuple[Metadata, int | None]:
    meta = Metadata(record_id=record_id, patient_id=record_id)
    start = None
    try:
        start = edf.startdate
        meta.start_time = _dt.datetime.combine(start, edf.starttime).isoformat()
    except Exception:  # anonymised ("X") or non-EDF+ dates: keep the time of day if it says something
        try:
            if edf.starttime != _dt.time(0, 0):
                meta.start_time = edf.starttime.isoformat()
        except Exception:
            pass
    try:
        patient = edf.patient
        code, sex = patient.code, patient.sex
        if code and code != "X":
            meta.patient_id = code.replace("_", " ")
        meta.sex = parse_sex(sex)
        for field in patient.additional:
            if m := _AGE_FIELD.match(field):
                meta.age = parse_age(m.group(1))
        if meta.age is None and start is not None:
            try:
                born = patient.birthdate
                meta.age = float(start.year - born.year - ((start.month, start.day) < (born.month, born.day)))
            except Exception:
                pass
    except Exception:
        pass
    n_true = None
    try:
        for field in edf.recording.additional:
            if m := _NSAMPLES.match(field):
                n_true = int(m.group(1))
    except Exception:
        pass
    try:
        text = edf.local_patient_identification.strip()
        if text and text != "X X X X":
            meta.extra["edf_patient"] = text
    except Exception:
        pass
    return meta, n_true


def _annotations(edf, fs: float, path: Path) -> Annotations | None:
    try:
        items = list(edf.annotations)
    except Exception as exc:
        raise CorruptFileError(f"the EDF+ annotations cannot be decoded ({exc})", path=path) from None
    if not items:
        return None
    from ._wfdb_ann import standard_labels

    symbols_known = set(standard_labels().values()) - {" "}
    sample, symbol, aux = [], [], []
    for ann in items:
        text = str(ann.text)
        head, sep, tail = text.partition("\t")
        if sep and head in symbols_known:
            sym, note = head, tail
        elif text in symbols_known:
            sym, note = text, ""
        else:
            sym, note = '"', text
        sample.append(int(round(float(ann.onset) * fs)))
        symbol.append(sym)
        aux.append(note)
    return Annotations(sample=sample, symbol=symbol, aux=aux, annotator="edf")


# --------------------------------------------------------------------- write
def _record_duration(fs: float) -> float:
    """Shortest whole-second (or 0.1-s multiple) data record holding a whole number of samples."""
    for d in list(range(1, 101)) + [x / 10 for x in range(1, 10)]:
        spr = fs * d
        if abs(spr - round(spr)) < 1e-9 * spr and round(spr) >= 1:
            return float(d)
    raise FormatError(f"EDF cannot store {fs:g} Hz: no record duration holds a whole number of samples",
                      fix="resample to an integer rate first (record.resample(500))")


def _edf_text(value, default: str = "X") -> str:
    text = re.sub(r"\s+", "_", str(value).strip()) if value not in (None, "") else default
    return "".join(c for c in text if 32 < ord(c) < 127) or default


def _annotation_text(symbol: str, aux: str) -> str:
    if symbol in ('"', ""):
        return aux or '"'
    return f"{symbol}\t{aux}" if aux else symbol


def write(record: Record, path: Path) -> list[Path]:
    """Write EDF+ (16-bit; ``.bdf`` suffix: 24-bit BDF+) with annotations and patient fields."""
    import edfio

    path = Path(path)
    bdf = path.suffix.lower() == ".bdf"
    if not np.isfinite(record.signal).all():
        raise FormatError("EDF cannot store NaN or infinite samples", path=path,
                          fix="read with nonfinite='interpolate', or write WFDB/NPZ/JSON, which keep NaN")
    fs = float(record.fs)
    duration = _record_duration(fs)
    spr = int(round(fs * duration))
    n = record.n_samples
    padded = int(np.ceil(n / spr)) * spr if n else spr
    lo, hi = finite_range(record.signal)
    same = hi <= lo
    lo, hi = np.where(same, lo - 0.001, lo), np.where(same, hi + 0.001, hi)
    signal_cls = edfio.BdfSignal if bdf else edfio.EdfSignal
    digital = (-(2**23), 2**23 - 1) if bdf else (-32768, 32767)
    signals = []
    for i, name in enumerate(names_to_store(record)):
        data = np.empty(padded, dtype=np.float64)
        data[:n] = record.signal[i]
        data[n:] = record.signal[i, -1] if n else 0.0
        signals.append(signal_cls(data, fs, label=name[:16], physical_dimension="mV",
                                  physical_range=(float(lo[i]), float(hi[i])), digital_range=digital))
    meta = record.metadata
    additional = [] if meta.age is None else [f"age={meta.age:g}"]
    patient = edfio.Patient(code=_edf_text(meta.patient_id), sex=meta.sex if meta.sex in ("M", "F") else "X",
                            additional=additional)
    start = _start(meta.start_time)
    recording = edfio.Recording(startdate=start.date() if start else None,
                                equipment_code="ecgscope", additional=[f"nsamples={n}"])
    annotations = [
        edfio.EdfAnnotation(float(s) / fs, None, _annotation_text(sym, a))
        for ann in record.annotations.values()
        for s, sym, a in zip(ann.sample.tolist(), ann.symbol.tolist(), ann.aux.tolist())
    ]
    annotations.sort(key=lambda a: a.onset)
    cls = edfio.Bdf if bdf else edfio.Edf
    try:
        edf = cls(signals, patient=patient, recording=recording, starttime=start.time() if start else None,
                  data_record_duration=duration, annotations=annotations or None)
        edf.write(path)
    except ValueError as exc:
        raise FormatError(f"cannot write EDF ({exc})", path=path) from None
    return [path]


def _start(text: str | None):
    if not text:
        return None
    try:
        stamp = _dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return stamp.replace(tzinfo=None, microsecond=0) if 1985 <= stamp.year <= 2084 else None
