"""Delimited text (CSV, TSV, semicolon, whitespace): one column per lead.

The delimiter is sniffed; a header row is detected (any non-numeric field)
and may name units per column (``II (mV)``, ``V1 [uV]``), or a second header
row may hold them (PhysioNet's ``'(mV)'``). A time column (``time``, ``t``,
``seconds``, ``Elapsed time``, ``time (ms)`` …, or an unnamed first column
that rises in constant steps) gives the sampling rate, in seconds or
milliseconds from its header or, failing that, from its step size; a
``sample``/``index`` column is dropped. ``h:mm:ss.mmm`` times are understood.
Parsing uses pandas' C parser.
"""

from __future__ import annotations

import csv as _csv
import io
import re
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, FormatError, HeaderError
from ..record import Metadata, Record
from ._util import check_lead_names, names_to_store, record_id_from_path, resolve_fs, to_millivolts

__all__ = ["NAME", "EXTENSIONS", "sniff", "read", "write", "infer_fs"]

NAME = "csv"
EXTENSIONS = (".csv", ".tsv", ".txt", ".tab")

_DELIMITERS = (",", "\t", ";", "|")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^(nan|NaN|NA|inf|-inf)$|^$")
_UNIT_IN_NAME = re.compile(r"^(.*?)[\s_]*[\(\[]\s*([A-Za-zµμ/:.\s]+?)\s*[\)\]]\s*$")
_TIME_NAMES = {"time", "t", "times", "timestamp", "seconds", "second", "sec", "secs", "s", "ms", "msec",
               "milliseconds", "millisecond", "time_s", "time_ms", "elapsed time", "elapsed_time", "elapsed"}
_INDEX_NAMES = {"sample", "samples", "index", "idx", "sample #", "sample_index", "sample number", "n", "#", ""}
_MS_HINTS = ("ms", "msec", "millisecond")
_HMS = re.compile(r"^\d+(:\d+){1,2}(\.\d*)?$")


# --------------------------------------------------------------------- sniff
def _lines(text: str, limit: int = 30) -> list[str]:
    out = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            out.append(line)
        if len(out) >= limit:
            break
    return out


def _split(line: str, delimiter: str | None) -> list[str]:
    if delimiter is None:
        return line.split()
    row = next(_csv.reader([line], delimiter=delimiter, quotechar='"', skipinitialspace=True), [])
    return [f.strip().strip("'").strip() for f in row]


def _is_number(field: str) -> bool:
    return bool(_NUMBER.match(field.strip().strip("'\"")))


def _guess_delimiter(lines: list[str]) -> str | None:
    """The delimiter giving the same field count (>1) on every line; ``None`` = whitespace."""
    for delim in _DELIMITERS:
        counts = {len(_split(ln, delim)) for ln in lines}
        if len(counts) == 1 and counts.pop() > 1:
            return delim
    counts = {len(ln.split()) for ln in lines}
    if len(counts) == 1:
        return None
    # Tolerate a last line cut by the sniffing window.
    if len(lines) > 2:
        return _guess_delimiter(lines[:-1])
    return ","


def sniff(path: Path, head: bytes) -> bool:
    """Text whose lines split into the same number of fields, with numeric data rows."""
    if b"\x00" in head:
        return False
    text = head.decode("utf-8", errors="ignore") if _is_utf8(head) else head.decode("latin-1")
    text = text.lstrip("\ufeff")
    if text.lstrip()[:1] in ("{", "["):
        return False
    lines = _lines(text)
    if len(head) >= 4096 and len(lines) > 1:
        lines = lines[:-1]  # possibly cut
    if not lines:
        return False
    delim = _guess_delimiter(lines)
    rows = [_split(ln, delim) for ln in lines]
    data = [r for r in rows if all(_is_number(f) or _HMS.match(f) for f in r)]
    return len(data) >= max(1, len(rows) - 2) and any(any(f for f in r) for r in data)


def _is_utf8(head: bytes) -> bool:
    try:
        head.decode("utf-8")
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(head) - 3  # a character cut by the window


# ---------------------------------------------------------------------- read
def read(
    path: Path,
    *,
    fs: float | None = None,
    leads: list[str] | None = None,
    units: str | list[str] | None = None,
    gain: float | list[float] | None = None,
    delimiter: str | None = None,
    header: bool | None = None,
    time_column: str | int | bool | None = None,
    time_unit: str | None = None,
    orientation: str | None = None,
) -> Record:
    """Read a delimited text file; each column a lead.

    Args:
        fs: sampling rate; needed when there is no time column.
        leads: lead names (default from the header, else ``lead1`` …).
        units: units of the values, one or per lead (default from the header,
            else mV).
        gain: ADC units per unit, for raw integer exports.
        delimiter: force the delimiter (``","``, ``"\\t"``, ``";"``, ``" "``).
        header: force header detection (``True``/``False``).
        time_column: name or index of the time column; ``False`` for none.
        time_unit: ``"s"`` or ``"ms"`` for the time column.
        orientation: ``"samples_first"`` (default: rows are samples) or
            ``"leads_first"`` (rows are leads).
    """
    import pandas as pd

    path = Path(path)
    with open(path, "rb") as fh:
        head_bytes = fh.read(65536)
    if b"\x00" in head_bytes:
        raise CorruptFileError("holds binary data, not delimited text", path=path,
                               fix="pass format=... for the right reader")
    encoding = "utf-8" if _is_utf8(head_bytes) else "latin-1"
    head = head_bytes.decode(encoding, errors="replace").lstrip("\ufeff")
    lines = _lines(head)
    if len(head_bytes) >= 65536 and len(lines) > 1:
        lines = lines[:-1]
    if not lines:
        raise CorruptFileError("holds no data rows", path=path, fix="check that the export finished")
    delim = _resolve_delimiter(delimiter, lines)
    rows = [_split(ln, delim) for ln in lines[:3]]
    has_header = header if header is not None else not all(_is_number(f) for f in rows[0])
    names: list[str] | None = None
    col_units: list[str | None] | None = None
    n_header = 0
    if has_header:
        names, col_units = _parse_header(rows[0])
        n_header = 1
        if len(rows) > 1 and not all(_is_number(f) or _HMS.match(f) for f in rows[1]):
            second = [_unit_token(f) for f in rows[1]]
            if any(u for u in second):
                col_units = [u or c for u, c in zip(second, col_units)]
                n_header = 2

    skip = _header_line_numbers(path, encoding, n_header)
    try:
        frame = pd.read_csv(
            path, sep=r"\s+" if delim is None else delim, header=None, skiprows=skip, comment="#",
            engine="c", encoding=encoding, skipinitialspace=True, quotechar='"',
            na_values=["", "NA", "NaN", "nan", "null", "-"], keep_default_na=True, low_memory=False,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise CorruptFileError(f"cannot be parsed as delimited text ({type(exc).__name__}: {exc})".splitlines()[0],
                               path=path, fix="check the delimiter and that every row has the same columns") from None
    if frame.shape[0] == 0:
        raise CorruptFileError("holds no data rows", path=path, fix="check that the export finished")
    names = _align_names(names, frame.shape[1], path)
    col_units = (list(col_units or []) + [None] * len(names))[: len(names)]

    if orientation not in (None, "samples_first", "leads_first"):
        raise FormatError(f"orientation={orientation!r} is not 'samples_first' or 'leads_first'", path=path)
    if orientation is None and not has_header and frame.shape[0] <= 16 and frame.shape[1] >= 10 * frame.shape[0]:
        orientation = "leads_first"  # a few long rows: one row per lead
    stored_fs = None
    # Trailing delimiters make unnamed, empty columns: drop them.
    keep = [i for i in range(frame.shape[1]) if (has_header and names[i]) or not frame.iloc[:, i].isna().all()]
    if orientation != "leads_first":
        t_index, t_unit = _find_time_column(frame, names, col_units, time_column, time_unit, has_header, path)
        if t_index is not None:
            keep.remove(t_index)
            if t_unit != "index" and frame.shape[0] > 1:
                stored_fs = infer_fs(_time_values(frame.iloc[:, t_index], t_unit, path), path)
    data = frame.iloc[:, keep]
    _check_numeric(data, [names[i] for i in keep], path)
    values = data.to_numpy(dtype=np.float64)
    if orientation == "leads_first":
        signal, lead_names, lead_units = values, [f"lead{i + 1}" for i in range(values.shape[0])], [None] * values.shape[0]
    else:
        signal, lead_units = values.T, [col_units[i] for i in keep]
        lead_names = [names[i] for i in keep] if has_header else [f"lead{i + 1}" for i in range(len(keep))]
    if units is None and any(lead_units):
        units = [u or "mV" for u in lead_units]
    signal = to_millivolts(signal, units=units, gain=gain, path=path)
    rate = resolve_fs(stored_fs, fs, path, where="the time column")
    if leads is not None:
        lead_names = check_lead_names(leads, signal.shape[0], path)
    lead_names = [n or f"lead{i + 1}" for i, n in enumerate(lead_names)]
    record_id = record_id_from_path(path)
    stored = units if isinstance(units, list) else [units or "mV"] * signal.shape[0]
    metadata = Metadata(record_id=record_id, patient_id=record_id, units=[str(u) for u in stored])
    return Record(signal=signal, fs=rate, original_leads=lead_names, metadata=metadata)


def _check_numeric(data, names: list[str], path: Path) -> None:
    """Raise naming the first column that holds text in its data rows."""
    import pandas as pd

    for name, col in zip(names, data.columns):
        series = data[col]
        if series.dtype != object:
            continue
        bad = series[pd.to_numeric(series, errors="coerce").isna() & series.notna()]
        if bad.empty:
            continue
        raise CorruptFileError(
            f"column {name!r} holds non-numeric values (e.g. {str(bad.iloc[0])[:30]!r} in data row "
            f"{int(bad.index[0]) + 1})", path=path,
            fix="remove text from the data rows, or pass delimiter=... if the columns are split wrongly",
        )


def _resolve_delimiter(delimiter: str | None, lines: list[str]) -> str | None:
    if delimiter is None:
        return _guess_delimiter(lines)
    if delimiter in (" ", "whitespace", r"\s+"):
        return None
    return {"\\t": "\t", "tab": "\t"}.get(delimiter, delimiter)


def _header_line_numbers(path: Path, encoding: str, n_header: int) -> list[int]:
    """Physical line numbers of the first ``n_header`` non-blank, non-comment lines."""
    if n_header == 0:
        return []
    out = []
    with open(path, encoding=encoding, errors="replace") as fh:
        for i, line in enumerate(fh):
            if line.strip() and not line.lstrip().lstrip("\ufeff").startswith("#"):
                out.append(i)
                if len(out) == n_header:
                    break
    return out


def _unit_token(field: str) -> str | None:
    m = re.match(r"^[\(\[]?\s*([A-Za-zµμ]+)\s*[\)\]]?$", field.strip())
    if not m:
        return None
    token = m.group(1)
    from .validate import UNIT_SCALE

    return token if token.lower().replace("micro", "u") in UNIT_SCALE else None


def _known_unit(token: str) -> bool:
    from .validate import UNIT_SCALE

    key = token.strip().lower().replace("micro", "u").replace("volts", "v").replace("volt", "v")
    return key in UNIT_SCALE or _time_unit("", token) is not None


def _parse_header(fields: list[str]) -> tuple[list[str], list[str | None]]:
    """Column names and units: ``"II (mV)"`` -> ``("II", "mV")``; unknown bracket text stays in the name."""
    names, units = [], []
    for f in fields:
        f = f.strip().strip("'\"")
        m = _UNIT_IN_NAME.match(f)
        if m and (m.group(1) or "").strip() and _known_unit(m.group(2)):
            names.append(m.group(1).strip())
            units.append(m.group(2).strip())
        else:
            names.append(f)
            units.append(None)
    return names, units


def _align_names(names, n_cols: int, path: Path) -> list[str]:
    if names is None:
        return [f"lead{i + 1}" for i in range(n_cols)]
    if len(names) < n_cols:  # trailing delimiters give unnamed empty columns
        names = names + [""] * (n_cols - len(names))
    if len(names) > n_cols:
        raise HeaderError(f"the header names {len(names)} columns but rows have {n_cols}", path=path,
                          fix="fix the header line, or pass the right delimiter=';'")
    return names


def _time_unit(name: str, unit: str | None) -> str | None:
    """``"s"``/``"ms"`` from a column's unit or name, ``None`` when neither says."""
    for text in (unit or "", name):
        key = text.strip().lower()
        if key in ("s", "sec", "secs", "second", "seconds") or key.endswith("_s"):
            return "s"
        if any(h in key for h in _MS_HINTS):
            return "ms"
    return None


def _find_time_column(frame, names, col_units, time_column, time_unit, has_header, path):
    """(index, unit) of the time column: unit ``"s"``, ``"ms"``, ``"hms"``, ``"index"`` or ``None`` (guess)."""
    if time_column is False:
        return None, None
    if time_column is not None and time_column is not True:
        if isinstance(time_column, int):
            if not -len(names) <= time_column < len(names):
                raise FormatError(f"time_column={time_column} is out of range ({len(names)} columns)", path=path)
            idx = time_column % len(names)
        else:
            if time_column not in names:
                raise FormatError(f"no column {time_column!r}; columns: {', '.join(names)}", path=path)
            idx = names.index(time_column)
        return idx, time_unit
    if has_header:
        for i, raw in enumerate(names):
            key = raw.strip().lower()
            if key in _TIME_NAMES or key.startswith("time"):
                return i, time_unit or _time_unit(raw, col_units[i] if col_units else None)
            if key in _INDEX_NAMES and i == 0 and frame.shape[1] > 1:
                return i, "index"
        return None, None
    if frame.shape[1] < 2 or frame.shape[0] < 3:
        return None, None
    first = frame.iloc[:, 0]
    if first.dtype == object:
        return (0, "hms") if first.astype(str).str.match(_HMS.pattern).all() else (None, None)
    col = first.to_numpy(dtype=np.float64)
    steps = np.diff(col)
    if not np.all(np.isfinite(steps)) or np.any(steps <= 0):
        return None, None
    step = float(np.median(steps))
    if np.max(np.abs(steps - step)) > 0.5 * step:
        return None, None
    if step == 1.0 and float(col[0]).is_integer() and col[0] in (0.0, 1.0):
        return 0, "index"
    return 0, time_unit


def _time_values(column, unit, path) -> np.ndarray:
    """Times in seconds from a column in s, ms or ``h:mm:ss.mmm`` text."""
    if column.dtype == object:
        text = column.astype(str).str.strip().str.strip("'\"")
        if not text.str.match(_HMS.pattern).all():
            raise CorruptFileError("the time column holds values that are neither numbers nor h:mm:ss",
                                   path=path, fix="pass time_column=False and fs=<Hz>")
        parts = text.str.split(":", expand=True).astype(np.float64).to_numpy()
        weights = 60.0 ** np.arange(parts.shape[1] - 1, -1, -1)
        return np.nansum(parts * weights, axis=1)
    t = column.to_numpy(dtype=np.float64)
    if unit is None and t.size > 1:
        step = float(np.median(np.diff(t)))
        unit = "ms" if step >= 0.05 else "s"
    return t / 1000.0 if unit == "ms" else t


def _time_quantum(t: np.ndarray) -> float:
    """The resolution the times were written with (1e-3 for millisecond text), at least 1e-9."""
    head = t[:1000]
    for k in range(10):
        scaled = head * 10.0**k
        if np.all(np.abs(scaled - np.round(scaled)) <= 1e-6 * np.maximum(1.0, np.abs(scaled))):
            return 10.0**-k
    return 1e-9


def infer_fs(seconds: np.ndarray, path=None) -> float:
    """Sampling rate from sample times in seconds (regular steps required).

    Uses the whole span and snaps to an integer when within what the
    rounding of the times allows (at least 0.01 %); otherwise 6 significant
    digits.
    """
    t = np.asarray(seconds, dtype=np.float64)
    t = t[np.isfinite(t)]
    if t.size < 2:
        raise CorruptFileError("the time column has fewer than two valid values", path=path,
                               fix="pass fs=... and time_column=False")
    steps = np.diff(t)
    step = float(np.median(steps))
    if step <= 0 or np.max(np.abs(steps - step)) > 0.5 * step:
        raise CorruptFileError(
            "the time column is not regular (gaps, repeats or unordered rows)", path=path,
            fix="fix the export, or pass time_column=False and fs=<Hz>",
        )
    span = t[-1] - t[0]
    fs = (t.size - 1) / span
    tolerance = max(1e-4, 1.5 * _time_quantum(t) / span)
    nearest = round(fs)
    if nearest and abs(fs - nearest) <= tolerance * fs:
        return float(nearest)
    return float(f"{fs:.6g}")


# --------------------------------------------------------------------- write
def write(record: Record, path: Path, *, delimiter: str | None = None, time: bool = True) -> list[Path]:
    """Write a header (``time (s)``, ``<lead> (mV)`` …) and one row per sample.

    Values are the shortest text that reads back to the same float32 (so the
    round trip is exact); times have 6 decimals; NaN is an empty field.
    ``delimiter`` defaults to tab for ``.tsv``/``.tab`` and comma otherwise.
    """
    path = Path(path)
    if delimiter is None:
        delimiter = "\t" if path.suffix.lower() in (".tsv", ".tab") else ","
    names = names_to_store(record)
    header = io.StringIO()
    _csv.writer(header, delimiter=delimiter, lineterminator="\n").writerow(
        (["time (s)"] if time else []) + [f"{n} (mV)" for n in names])
    signal = record.signal
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(header.getvalue())
        chunk = 50_000
        for start in range(0, record.n_samples, chunk):
            block = signal[:, start:start + chunk]
            text = np.where(np.isfinite(block), block.astype(str), "")
            columns = [row.tolist() for row in text]
            if time:
                t = np.arange(start, start + block.shape[1], dtype=np.float64) / record.fs
                columns.insert(0, [f"{v:.6f}" for v in t.tolist()])
            fh.write("\n".join(map(delimiter.join, zip(*columns))))
            fh.write("\n")
    return [path]
