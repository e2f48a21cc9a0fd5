"""WFDB records (PhysioNet): ``.hea`` header + signal files + annotation files.

Reads every signal format the ``wfdb`` package supports (212, 16, 24, 32, 80,
310, 311, 61, 160, FLAC 5xx ...), multi-segment records, and PhysioNet
Challenge records whose samples sit in a ``.mat`` file described by a
``.hea`` header (CinC 2017). Samples are read as integers and scaled to mV in
float32 here, which equals ``wfdb.rdrecord(...).p_signal`` (cast to float32)
while taking a fraction of its time; invalid-sample codes become NaN.

Annotation files next to the record are loaded by extension: every file
``<record>.<ext>`` whose extension is a known annotator (:data:`KNOWN_ANNOTATORS`,
LUDB's per-lead ``i ii … v6``, or the lower-cased name of one of the record's
leads) becomes ``record.annotations[ext]``.

Reference: Goldberger et al., "PhysioBank, PhysioToolkit, and PhysioNet",
Circulation 101(23), 2000; WFDB file formats, https://physionet.org/physiotools/wag/.
"""

from __future__ import annotations

import datetime as _dt
import re
from pathlib import Path

import numpy as np

from ..errors import (
    CorruptFileError,
    FormatError,
    HeaderError,
    MissingFileError,
    UnitsError,
)
from ..record import Annotations, Metadata, Record
from ._wfdb_ann import read_annotation_file, write_annotation_file
from ._util import (
    INT16_MAX,
    check_lead_names,
    finite_range,
    int16_gain_baseline,
    names_to_store,
    parse_age,
    parse_sex,
    per_lead,
    resolve_fs,
)
from .validate import check_fs, unit_scale

__all__ = ["NAME", "EXTENSIONS", "KNOWN_ANNOTATORS", "sniff", "read", "write", "parse_comments"]

NAME = "wfdb"
EXTENSIONS = (".hea", ".dat")

#: Annotation file extensions loaded by default (PhysioNet conventions).
KNOWN_ANNOTATORS: tuple[str, ...] = (
    "atr", "ari", "man", "ann", "qrs", "qrsc", "ecg", "wqrs", "gqrs", "sqrs", "jqrs", "xqrs",
    "pu", "pu0", "pu1", "q1c", "q2c", "qt1", "qt2", "apn", "st", "stc", "16a", "all",
    "blh", "blm", "alh", "alm", "bph", "bpm", "pwave", "trigger", "marker", "edf",
    "i", "ii", "iii", "avr", "avl", "avf", "v1", "v2", "v3", "v4", "v5", "v6",
)

#: Bits per stored sample for each WFDB format (None: compressed, size unknown).
_FORMAT_BITS = {
    "8": 8, "16": 16, "24": 24, "32": 32, "61": 16, "80": 8, "160": 16, "212": 12,
    "310": 32 / 3, "311": 32 / 3, "508": None, "516": None, "524": None,
}
#: Formats whose digital values fit int16 (read with ``return_res=16``).
_NARROW = {"16", "61", "80", "160", "212", "310", "311", "508", "516"}
#: Digital "invalid sample" code of each format (WFDB convention).
_INVALID = {
    "80": -(2**7), "508": -(2**7), "310": -(2**9), "311": -(2**9), "212": -(2**11),
    "16": -(2**15), "61": -(2**15), "160": -(2**15), "516": -(2**15),
    "24": -(2**23), "524": -(2**23), "32": -(2**31),
}

_RECORD_LINE = re.compile(rb"^\s*[\w\-.]+(/\d+)?\s+\d+(\s|$)")
_VALID_NAME = re.compile(r"^[\w\-]+$")


# --------------------------------------------------------------------- sniff
def sniff(path: Path, head: bytes) -> bool:
    """A ``.hea`` header by content, or a signal/annotation file of a record whose ``.hea`` exists."""
    path = Path(path)
    if path.suffix.lower() == ".hea":
        return _looks_like_header(head)
    hea = path.with_suffix(".hea")
    if not hea.is_file():
        return False
    try:
        text = hea.read_text(encoding="latin-1", errors="replace")[:65536]
    except OSError:
        return False
    if not _looks_like_header(text.encode("latin-1", "replace")):
        return False
    return path.name in text or path.suffix.lower().lstrip(".") in KNOWN_ANNOTATORS


def _looks_like_header(head: bytes) -> bool:
    for line in head.splitlines():
        if not line.strip() or line.lstrip().startswith(b"#"):
            continue
        return bool(_RECORD_LINE.match(line))
    return False


# ---------------------------------------------------------------------- read
def read(
    path: Path,
    *,
    annotators: list[str] | tuple[str, ...] | None = None,
    sampfrom: int = 0,
    sampto: int | None = None,
    channels: list[int] | None = None,
    fs: float | None = None,
    units: str | None = None,
    leads: list[str] | None = None,
) -> Record:
    """Read a WFDB record (any signal format) with its annotation files.

    Args:
        path: the ``.hea`` file, one of its signal files, or the record name.
        annotators: annotation extensions to load; ``None`` loads every known
            annotator found next to the record, ``[]`` none.
        sampfrom, sampto: sample range to read (``sampto`` exclusive; default
            the whole record); annotations are shifted to the window.
        channels: indices of the signals to read (default all).
        fs: sampling rate to use only when the header omits it (WFDB would
            assume 250 Hz); a value contradicting the header is an error.
        units: override the header's units for every lead (``"uV"`` ...).
        leads: names for the leads read, replacing the header's.
    """
    path = Path(path)
    base = _record_base(path)
    hea = base.with_name(base.name + ".hea")
    if not hea.is_file():
        raise MissingFileError(
            f"the WFDB header {hea.name} is missing", path=path,
            fix="put the .hea file next to the signal file, or read the file with its own format",
        )
    wfdb = _wfdb()
    layout = _scan_header(hea)
    if layout["multi"]:
        header = _read_header(wfdb, base, hea)
        signal, names, units_in, gains, fmts = _read_multi_segment(wfdb, base, hea, sampfrom, sampto, channels)
    else:
        _check_signal_files(layout, hea)
        header, signal, names, units_in, gains, fmts = _read_single(wfdb, layout, base, hea, sampfrom, sampto,
                                                                   channels)
    header_fs = _header_fs(hea, layout, header.fs, fs)
    signal, names, units_in, gains, skipped = _to_millivolts(signal, names, units_in, gains, units, hea)
    if leads is not None:
        names = check_lead_names(leads, len(names), hea)
    metadata = _metadata(header, units_in, gains, fmts, skipped)
    record = Record(signal=signal, fs=header_fs, original_leads=names, metadata=metadata)
    window_end = None if sampto is None else sampfrom + record.n_samples
    record.annotations = _read_annotations(base, annotators, names, int(sampfrom), window_end, record.fs)
    return record


def _wfdb():
    import wfdb  # imported lazily: it pulls in pandas and matplotlib-free parts only

    return wfdb


def _record_base(path: Path) -> Path:
    """Record path without extension (``…/A00001.mat`` -> ``…/A00001``)."""
    return path.with_suffix("") if path.suffix else path


def _read_header(wfdb, base: Path, hea: Path):
    try:
        return wfdb.rdheader(str(base))
    except FileNotFoundError as exc:
        raise MissingFileError(f"a file the header needs is missing ({exc})", path=hea,
                               fix="download the complete record (.hea and its signal files)") from None
    except Exception as exc:  # wfdb raises bare ValueError/IndexError/... on malformed headers
        raise HeaderError(f"malformed WFDB header ({type(exc).__name__}: {exc})", path=hea,
                          fix="check the record and signal lines against the WFDB header format") from None


_FMT_SPEC = re.compile(r"^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$")


def _scan_header(hea: Path) -> dict:
    """A quick text scan of the header: fs present?, multi-segment?, length and signal files.

    ``signals`` is ``None`` when a line does not parse; the checks that use it
    are then skipped and wfdb's own parser has the last word.
    """
    try:
        text = hea.read_text(encoding="latin-1")
    except OSError as exc:
        raise MissingFileError(f"cannot open the header ({exc})", path=hea) from None
    lines = [ln.split("#", 1)[0].split() for ln in text.splitlines()]
    lines = [f for f in lines if f]
    out: dict = {"fs_given": False, "multi": False, "sig_len": None, "signals": None}
    if not lines:
        raise HeaderError("the header has no record line", path=hea,
                          fix="the first non-comment line must read '<name> <n_signals> <fs> <n_samples>'")
    record = lines[0]
    out["multi"] = "/" in record[0]
    out["fs_given"] = len(record) >= 3
    if len(record) >= 4 and record[3].isdigit():
        out["sig_len"] = int(record[3])
    try:
        n_sig = int(record[1]) if len(record) > 1 else 0
        specs = []
        for fields in lines[1:1 + n_sig]:
            m = _FMT_SPEC.match(fields[1])
            specs.append({"file": fields[0], "fmt": m.group(1), "spf": int(m.group(2) or 1),
                          "offset": int(m.group(4) or 0)})
        if len(specs) == n_sig:
            out["signals"] = specs
    except (ValueError, IndexError, AttributeError):
        pass
    return out


def _header_fs(hea: Path, layout: dict, header_fs, fs_hint) -> float:
    """Sampling rate from the header, or ``fs_hint`` when the header has none."""
    if not layout["fs_given"] and fs_hint is None:
        return check_fs(header_fs, hea)  # WFDB's default, 250 Hz
    return resolve_fs(header_fs if layout["fs_given"] else None, fs_hint, hea, where="the header")


def _check_signal_files(layout: dict, hea: Path) -> None:
    """Raise when a signal file is missing or shorter than the header says."""
    specs = layout["signals"]
    if not specs:
        return
    per_file: dict[str, dict] = {}
    for spec in specs:
        entry = per_file.setdefault(spec["file"], {"bits": 0.0, "offset": spec["offset"]})
        bits = _FORMAT_BITS.get(spec["fmt"])
        if bits is None or entry["bits"] is None:
            entry["bits"] = None
        else:
            entry["bits"] += bits * spec["spf"]
    for name, entry in per_file.items():
        if name == "~":
            continue
        file = hea.parent / name
        if not file.is_file():
            raise MissingFileError(
                f"signal file {name} named by the header {hea.name} is missing", path=file,
                fix="download the complete record (.hea and its signal files)",
            )
        if not entry["bits"] or layout["sig_len"] is None:
            continue
        needed = entry["offset"] + int(np.floor(layout["sig_len"] * entry["bits"] / 8))
        size = file.stat().st_size
        if size < needed:
            frames = int((size - entry["offset"]) * 8 // entry["bits"]) if size > entry["offset"] else 0
            raise CorruptFileError(
                f"signal file is truncated: the header {hea.name} announces {layout['sig_len']} samples "
                f"({needed} bytes) but the file holds {size} bytes (~{frames} samples)",
                path=file,
            )


def _read_single(wfdb, layout: dict, base: Path, hea: Path, sampfrom, sampto, channels):
    """Digital samples through ``wfdb.rdrecord`` (which also parses the header), scaled here."""
    fmts_all = [spec["fmt"] for spec in layout["signals"]] if layout["signals"] else None
    wanted = fmts_all if channels is None or fmts_all is None else [fmts_all[int(c)] for c in channels
                                                                     if 0 <= int(c) < len(fmts_all)]
    res = 16 if wanted is not None and all(f in _NARROW for f in wanted) else 64
    try:
        rec = wfdb.rdrecord(str(base), sampfrom=int(sampfrom), sampto=sampto, channels=channels,
                            physical=False, return_res=res)
    except FileNotFoundError as exc:
        raise MissingFileError(f"a signal file is missing ({exc})", path=hea,
                               fix="download the complete record (.hea and its signal files)") from None
    except Exception as exc:  # wfdb raises bare ValueError/IndexError/... on malformed input
        _read_header(wfdb, base, hea)  # a header problem gets its own error
        raise CorruptFileError(f"cannot read the WFDB signal ({type(exc).__name__}: {exc})", path=hea) from None
    if not rec.n_sig:
        raise CorruptFileError("the header declares no signals", path=hea, fix="this record holds annotations only")
    digital = rec.d_signal
    if digital is None or digital.ndim != 2:
        raise CorruptFileError("the WFDB signal file holds no samples", path=hea)
    signal = _dac(digital, rec.fmt, rec.adc_gain, rec.baseline)
    fmts = [str(f) for f in rec.fmt]
    return rec, signal, list(rec.sig_name), list(rec.units), list(rec.adc_gain), fmts


def _dac(digital: np.ndarray, fmts, gains, baselines) -> np.ndarray:
    """``(d - baseline) / gain`` as float32 ``(leads, samples)``; invalid codes -> NaN.

    Exact to float32 rounding: integer differences below 2**24 are exact in
    float32 and one IEEE division rounds correctly.
    """
    n_samples, n_leads = digital.shape
    out = np.empty((n_leads, n_samples), dtype=np.float32)
    narrow = digital.dtype.itemsize <= 2
    for i in range(n_leads):
        col = digital[:, i]
        gain = float(gains[i]) or 200.0  # WFDB: a gain of 0 means 200 ADC units/mV
        base = int(baselines[i])
        exact = float(np.float32(gain)) == gain and abs(base) < 2**23 and (
            narrow or max(abs(int(col.max(initial=0))), abs(int(col.min(initial=0)))) < 2**23)
        if exact:
            np.subtract(col, np.float32(base), out=out[i], dtype=np.float32)
            np.divide(out[i], np.float32(gain), out=out[i])
        else:
            out[i] = (col.astype(np.float64) - base) / gain
        invalid = _INVALID.get(str(fmts[i]))
        if invalid is not None:
            bad = col == invalid
            if bad.any():
                out[i, bad] = np.nan
    return out


def _read_multi_segment(wfdb, base: Path, hea: Path, sampfrom, sampto, channels):
    try:
        rec = wfdb.rdrecord(str(base), sampfrom=int(sampfrom), sampto=sampto, channels=channels, physical=True)
    except FileNotFoundError as exc:
        raise MissingFileError(f"a segment file is missing ({exc})", path=hea,
                               fix="download the complete multi-segment record") from None
    except Exception as exc:
        raise CorruptFileError(f"cannot read the multi-segment record ({type(exc).__name__}: {exc})", path=hea) from None
    if rec.p_signal is None:
        raise CorruptFileError("the multi-segment record holds no samples", path=hea)
    signal = np.ascontiguousarray(rec.p_signal.T, dtype=np.float32)
    gains = list(rec.adc_gain) if rec.adc_gain else [float("nan")] * signal.shape[0]
    return signal, list(rec.sig_name), list(rec.units), gains, [str(f) for f in (rec.fmt or [])]


def _to_millivolts(signal, names, units_in, gains, units_hint, hea):
    """Scale leads to mV; drop leads whose units are not a voltage (e.g. mmHg)."""
    units_in = [u if u else "mV" for u in units_in]
    keep, scales, skipped = [], [], []
    for i, u in enumerate(units_in):
        try:
            scales.append(unit_scale(units_hint if units_hint is not None else u, hea))
            keep.append(i)
        except UnitsError:
            if units_hint is not None:
                raise
            skipped.append(f"{names[i]} ({u})")
    if not keep:
        raise UnitsError(
            f"no signal is in volts (units: {', '.join(units_in)})", path=hea,
            fix="pass units='mV' (or 'uV') if the values are voltages",
        )
    if len(keep) < len(units_in):
        signal = signal[keep]
    for row, s in enumerate(scales):
        if s != 1.0:
            signal[row] *= np.float32(s)
    names, units_in, gains = ([seq[i] for i in keep] for seq in (names, units_in, gains))
    return signal, names, units_in, gains, skipped


def _metadata(header, units_in, gains, fmts, skipped) -> Metadata:
    comments = [str(c) for c in (header.comments or [])]
    parsed = parse_comments(comments)
    extra: dict = {"wfdb_format": fmts}
    if skipped:
        extra["skipped_signals"] = skipped
    return Metadata(
        record_id=str(header.record_name),
        patient_id=str(header.record_name),
        age=parsed["age"],
        sex=parsed["sex"],
        diagnoses=parsed["diagnoses"],
        comments=comments,
        units=[str(u) for u in units_in],
        gain=[float(g) for g in gains],
        start_time=_start_time(header),
        extra=extra,
    )


def _start_time(header) -> str | None:
    date, time = getattr(header, "base_date", None), getattr(header, "base_time", None)
    if date is not None and time is not None:
        return _dt.datetime.combine(date, time).isoformat()
    if time is not None:
        return time.isoformat()
    if date is not None:
        return date.isoformat()
    return None


_MITBIH = re.compile(r"^\s*(\d{1,3}|\?+)\s+([MF?])\b")
_AGE = re.compile(r"(?:^|[\s<])age>?\s*:\s*([^\s,;]+)", re.IGNORECASE)
_SEX_RE = re.compile(r"(?:^|[\s<])(?:sex|gender)>?\s*:\s*([A-Za-z]+)", re.IGNORECASE)
_TAG = re.compile(r"^\s*<[\w\s]+>\s*:")
_DIAG_TAG = re.compile(r"^\s*<diagnoses>\s*:\s*(.*)$", re.IGNORECASE)
_DX = re.compile(r"^\s*dx\s*:\s*(.+)$", re.IGNORECASE)


def parse_comments(comments: list[str]) -> dict:
    """Age, sex and diagnoses from WFDB header comments, where the convention is known.

    Understood: MIT-BIH's first line ``"69 M 1085 1629 x1"``; LUDB's
    ``<age>: 51``, ``<sex>: F`` and the lines after ``<diagnoses>:``;
    PhysioNet Challenge ``Age: 74``, ``Sex: Male``, ``Dx: 426783006,...``.
    """
    age = sex = None
    diagnoses: list[str] = []
    in_diagnoses = False
    for i, line in enumerate(comments):
        if in_diagnoses:
            if _TAG.match(line):
                in_diagnoses = False
            else:
                if line.strip():
                    diagnoses.append(line.strip())
                continue
        if i == 0 and (m := _MITBIH.match(line)):
            age, sex = parse_age(m.group(1)), parse_sex(m.group(2))
            continue
        if m := _DIAG_TAG.match(line):
            in_diagnoses = True
            if m.group(1).strip():
                diagnoses.append(m.group(1).strip())
            continue
        if m := _DX.match(line):
            diagnoses.extend(x.strip() for x in m.group(1).split(",") if x.strip())
            continue
        if age is None and (m := _AGE.search(line)):
            age = parse_age(m.group(1))
        if sex is None and (m := _SEX_RE.search(line)):
            sex = parse_sex(m.group(1))
    return {"age": age, "sex": sex, "diagnoses": diagnoses}


def _read_annotations(base: Path, annotators, lead_names, sampfrom: int, sampto: int | None, fs: float):
    if annotators is None:
        candidates = list(KNOWN_ANNOTATORS) + [n.lower() for n in lead_names]
        explicit = False
    else:
        candidates, explicit = [str(a) for a in annotators], True
    out: dict[str, Annotations] = {}
    for ext in dict.fromkeys(candidates):
        file = base.with_name(f"{base.name}.{ext}")
        if not file.is_file():
            if explicit:
                raise MissingFileError(
                    f"annotation file {file.name} is missing", path=file,
                    fix="check the annotator name, or pass annotators=None to load what exists",
                )
            continue
        out[ext] = _read_one_annotator(base, ext, sampfrom, sampto, file, fs)
    return out


def _read_one_annotator(base: Path, ext: str, sampfrom: int, sampto: int | None, file: Path, fs: float) -> Annotations:
    """One annotation file, cropped to ``[sampfrom, sampto)`` and shifted to the window."""
    cols = read_annotation_file(file)
    sample = cols["sample"]
    if cols["fs"] and abs(cols["fs"] - fs) > 1e-6 * fs:  # stored at another time resolution
        sample = np.rint(sample * (fs / cols["fs"])).astype(np.int64)
    keep = slice(None)
    if sampfrom or sampto is not None:
        keep = (sample >= sampfrom) & (sample < (np.iinfo(np.int64).max if sampto is None else sampto))
    return Annotations(
        sample=sample[keep] - sampfrom,
        symbol=cols["symbol"][keep],
        subtype=cols["subtype"][keep],
        chan=cols["chan"][keep],
        aux=[a.rstrip("\x00") for a in cols["aux"][keep].tolist()],
        annotator=ext,
    )


# --------------------------------------------------------------------- write
def write(record: Record, path: Path, *, gain: float | list[float] | None = None,
          annotators: list[str] | None = None) -> list[Path]:
    """Write ``record`` as a WFDB record: ``<name>.hea``, ``<name>.dat`` (format 16), ``<name>.<annotator>``.

    Each lead is stored at 1000 ADC units/mV (1 µV resolution) with a
    baseline centring its range in int16. A lead spanning more than about
    65.5 mV cannot keep 1 µV in 16 bits; it gets the largest gain that fits
    (``65532 / range``, coarser resolution). ``gain=`` forces a gain (one
    value or one per lead). NaN samples are stored as the invalid code
    -32768. Annotation files are written in the MIT format (any extension,
    e.g. LUDB's ``v1``); symbols outside the standard WFDB table are declared
    as custom labels in the file (at most 10 per annotator).

    Args:
        record: the record to write.
        path: ``…/name``, ``…/name.hea`` or ``…/name.dat``.
        gain: ADC units per mV, overriding the automatic choice.
        annotators: which annotators to write (default all).

    Returns:
        The files written: header, signal file, then one file per annotator.
    """
    wfdb = _wfdb()
    path = Path(path)
    base = path.with_suffix("") if path.suffix.lower() in (".hea", ".dat", ".wfdb") else path
    name = base.name
    if not _VALID_NAME.match(name):
        raise FormatError(
            f"{name!r} is not a valid WFDB record name", path=path,
            fix="use letters, digits, '_' and '-' only (e.g. rec_01.hea)",
        )
    base.parent.mkdir(parents=True, exist_ok=True)
    signal = record.signal
    n = record.n_leads
    gains, baselines, _ = int16_gain_baseline(signal)
    if gain is not None:
        gains = per_lead(gain, n, "gain", path)
        if np.any(~np.isfinite(gains)) or np.any(gains <= 0):
            raise FormatError(f"gain must be positive, got {gain!r}", path=path, fix="pass gain=1000 (1 µV steps)")
        lo, hi = finite_range(signal)
        baselines = (-np.rint((lo + hi) / 2.0 * gains)).astype(np.int64)
    digital = _adc(signal, gains, baselines)
    if np.any(np.abs(digital[np.isfinite(digital)]) > INT16_MAX):
        raise FormatError(f"gain={gain!r} overflows 16 bits for this signal", path=path,
                          fix="pass a smaller gain, or omit gain= to choose one automatically")
    digital = np.where(np.isfinite(digital), digital, _INVALID["16"]).astype(np.int64)
    units = ["mV"] * n
    comments = _header_comments(record.metadata)
    base_date, base_time = _parse_start_time(record.metadata.start_time)
    try:
        wfdb.wrsamp(
            name, fs=float(record.fs), units=units, sig_name=names_to_store(record),
            d_signal=digital.T, fmt=["16"] * n,
            adc_gain=[float(g) for g in gains], baseline=[int(b) for b in baselines],
            comments=comments, base_date=base_date, base_time=base_time, write_dir=str(base.parent),
        )
    except (ValueError, TypeError) as exc:
        raise FormatError(f"cannot write the WFDB record ({exc})", path=path) from None
    written = [base.with_name(name + ".hea"), base.with_name(name + ".dat")]
    chosen = record.annotations if annotators is None else {k: record.annotations[k] for k in annotators}
    for ext, ann in chosen.items():
        written.append(_write_annotations(ann, ext, base, record.fs))
    return written


def _adc(signal: np.ndarray, gains, baselines) -> np.ndarray:
    """Digital values ``round(x * gain) + baseline`` as float64 (NaN stays NaN)."""
    with np.errstate(invalid="ignore", over="ignore"):
        return np.rint(signal.astype(np.float64) * np.asarray(gains)[:, None]) + np.asarray(baselines)[:, None]


def _header_comments(meta: Metadata) -> list[str]:
    """The metadata comments verbatim, plus LUDB-style tags for what they do not already say."""
    comments = [c.replace("\n", " ") for c in meta.comments]
    parsed = parse_comments(comments)
    if meta.age is not None and parsed["age"] != meta.age:
        comments.append(f"<age>: {meta.age:g}")
    if meta.sex is not None and parsed["sex"] != meta.sex:
        comments.append(f"<sex>: {meta.sex}")
    if meta.diagnoses and parsed["diagnoses"] != list(meta.diagnoses):
        comments.append("<diagnoses>:")
        comments.extend(str(d).replace("\n", " ") for d in meta.diagnoses)
    return comments


def _parse_start_time(text: str | None):
    if not text:
        return None, None
    try:
        stamp = _dt.datetime.fromisoformat(text)
        return stamp.date(), stamp.time().replace(tzinfo=None)
    except ValueError:
        pass
    try:
        return None, _dt.time.fromisoformat(text)
    except ValueError:
        return None, None


def _write_annotations(ann: Annotations, ext: str, base: Path, fs: float) -> Path:
    file = base.with_name(f"{base.name}.{ext}")
    if not re.match(r"^[A-Za-z0-9_]+$", ext) or ext.lower() in ("hea", "dat"):
        raise FormatError(f"annotator name {ext!r} cannot be a WFDB annotation file extension", path=file,
                          fix="rename the annotator (letters, digits, '_'; not hea/dat)")
    return write_annotation_file(file, ann.sample, ann.symbol.tolist(), ann.subtype, ann.chan,
                                 ann.aux.tolist(), fs=fs)
