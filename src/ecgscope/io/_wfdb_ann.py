"""Vectorised reader for WFDB (MIT format) annotation files (private).

Same result as ``wfdb.rdann`` for valid files, several times faster: the
16-bit words are decoded with NumPy and only SKIP/AUX entries (rare) are
walked in Python.

Format (https://physionet.org/physiotools/wag/annot-5.htm): each word holds a
6-bit code ``A`` and a 10-bit value ``I``. ``A`` 1-49 is an annotation whose
time is ``I`` samples after the previous one; ``SKIP`` (59) is followed by a
32-bit interval (high word first); ``NUM`` (60), ``SUB`` (61) and ``CHN`` (62)
set fields of the preceding annotation from the low byte of ``I``; ``AUX``
(63) is followed by ``I & 0xFF`` bytes of text, padded to a whole word;
``0`` ends the file. ``chan`` and ``num`` carry over from the previous
annotation when absent; ``subtype`` defaults to 0 and ``aux`` to ``""``.
NOTE annotations at sample 0 whose text starts with ``##`` define the time
resolution and custom labels and are not returned. One deliberate difference:
``wfdb.rdann`` drops *every* NOTE at sample 0, definition or not; this reader
keeps the ones that are not definitions (a comment at the record's start is data).
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError

__all__ = ["read_annotation_file", "write_annotation_file", "standard_labels"]

SKIP, NUM, SUB, CHN, AUX, NOTE = 59, 60, 61, 62, 63, 22

_FS = re.compile(r"## time resolution: (\d+\.?\d*)")
_CUSTOM = re.compile(r"(\d+) (\S+) (.+)")

_LABELS: dict[int, str] | None = None


def standard_labels() -> dict[int, str]:
    """The standard WFDB label table: ``label_store`` -> symbol."""
    global _LABELS
    if _LABELS is None:
        from wfdb.io.annotation import ann_label_table

        _LABELS = dict(zip(ann_label_table["label_store"].astype(int), ann_label_table["symbol"].astype(str)))
    return _LABELS


def _forward_fill(values: np.ndarray, present: np.ndarray, initial: int = 0) -> np.ndarray:
    """Carry the last present value forward; ``initial`` before the first one."""
    idx = np.where(present, np.arange(values.size), -1)
    np.maximum.accumulate(idx, out=idx)
    out = np.where(idx >= 0, values[np.maximum(idx, 0)], initial)
    return out


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def read_annotation_file(path: Path) -> dict:
    """Decode an annotation file into columns.

    Returns:
        ``{"sample", "symbol", "subtype", "chan", "num", "aux", "fs"}``;
        ``fs`` is the time resolution stored in the file, or ``None``.

    Raises:
        CorruptFileError: a SKIP or AUX entry runs past the end of the file.
    """
    data = Path(path).read_bytes()
    if len(data) % 2:
        data = data[:-1]
    words = np.frombuffer(data, dtype="<u2")
    n = words.size
    codes = (words >> 10).astype(np.int64)
    values = (words & 0x3FF).astype(np.int64)
    low = (words & 0xFF).astype(np.uint8)

    # Walk the (rare) SKIP/AUX entries in order to mark their payload words.
    token = np.ones(n, dtype=bool)
    skip_value = np.zeros(n, dtype=np.int64)
    aux_text: dict[int, str] = {}
    next_free = 0
    for p in np.flatnonzero((codes == SKIP) | (codes == AUX)).tolist():
        if p < next_free or not token[p]:
            continue
        if codes[p] == SKIP:
            if p + 2 >= n:
                raise CorruptFileError("a SKIP entry runs past the end of the annotation file", path=path)
            hi, lo = int(words[p + 1]), int(words[p + 2])
            skip = (hi << 16) | lo
            skip_value[p] = skip - (1 << 32) if skip >= 1 << 31 else skip
            token[p + 1 : p + 3] = False
            next_free = p + 3
        else:
            length = int(low[p])
            n_words = (length + 1) // 2
            if p + n_words >= n:
                raise CorruptFileError("an AUX note runs past the end of the annotation file", path=path)
            raw = words[p + 1 : p + 1 + n_words].tobytes()[:length]
            aux_text[p] = _decode(raw)
            token[p + 1 : p + 1 + n_words] = False
            next_free = p + 1 + n_words

    pos = np.flatnonzero(token)
    t_code = codes[pos]
    is_skip = t_code == SKIP
    is_core = t_code < SKIP
    first = np.flatnonzero(~is_skip)
    if first.size:
        is_core[first[0]] = True  # wfdb reads the first non-SKIP word as an annotation, whatever its code
    is_extra = ~is_core & ~is_skip

    increment = np.where(is_core, values[pos], 0) + np.where(is_skip, skip_value[pos], 0)
    total = np.cumsum(increment)
    owner = np.cumsum(is_core) - 1  # annotation each token belongs to
    core_pos = pos[is_core]
    n_ann = core_pos.size
    sample = total[is_core]
    label = t_code[is_core]

    subtype = np.zeros(n_ann, dtype=np.int64)
    chan_v = np.zeros(n_ann, dtype=np.int64)
    chan_set = np.zeros(n_ann, dtype=bool)
    num_v = np.zeros(n_ann, dtype=np.int64)
    num_set = np.zeros(n_ann, dtype=bool)
    aux = np.full(n_ann, "", dtype=object)
    extra_pos, extra_owner, extra_code = pos[is_extra], owner[is_extra], t_code[is_extra]
    valid = extra_owner >= 0
    extra_pos, extra_owner, extra_code = extra_pos[valid], extra_owner[valid], extra_code[valid]
    for code, target, setmask, signed in ((SUB, subtype, None, True), (CHN, chan_v, chan_set, False),
                                          (NUM, num_v, num_set, True)):
        m = extra_code == code
        if m.any():
            byte = low[extra_pos[m]]
            target[extra_owner[m]] = byte.astype(np.int8) if signed else byte
            if setmask is not None:
                setmask[extra_owner[m]] = True
    m = extra_code == AUX
    for p, o in zip(extra_pos[m].tolist(), extra_owner[m].tolist()):
        aux[o] = aux_text.get(p, "")
    chan = _forward_fill(chan_v, chan_set)
    num = _forward_fill(num_v, num_set)

    # Definitions (time resolution, custom labels) live in NOTEs at sample 0.
    fs = None
    labels = dict(standard_labels())
    definition = np.zeros(n_ann, dtype=bool)
    in_defs = False
    for i in np.flatnonzero((sample == 0) & (label == NOTE)).tolist():
        text = aux[i]
        if text.startswith("##"):
            definition[i] = True
            if fs is None and (m_fs := _FS.match(text)):
                fs = float(m_fs.group(1))
            in_defs = text == "## annotation type definitions"
        elif in_defs and (m_c := _CUSTOM.match(text)):
            definition[i] = True
            labels[int(m_c.group(1))] = m_c.group(2)
    keep = ~definition & (label != 0)
    table = np.array([labels.get(c, str(c)) for c in range(64)], dtype=object)
    symbol = table[label[keep]]
    return {
        "sample": sample[keep],
        "symbol": symbol,
        "subtype": subtype[keep],
        "chan": chan[keep],
        "num": num[keep],
        "aux": aux[keep],
        "fs": fs,
    }


def _label_stores(symbols: list[str], path) -> tuple[np.ndarray, list[tuple[int, str]]]:
    """``label_store`` per symbol, plus custom ``(label_store, symbol)`` definitions."""
    from ..errors import FormatError

    inverse = {sym: code for code, sym in standard_labels().items() if code != 0}
    custom = sorted({s for s in symbols if s not in inverse})
    if custom:
        bad = [s for s in custom if not s or any(ch.isspace() for ch in s)]
        if bad:
            raise FormatError(f"annotation symbols {bad[:5]!r} are empty or contain spaces", path=path,
                              fix="use single-word symbols, or write JSON/NPZ which keep any text")
        free = [c for c in range(1, 50) if c not in standard_labels()]
        if len(custom) > len(free):
            raise FormatError(
                f"{len(custom)} non-standard annotation symbols; a WFDB annotation file has room for {len(free)}",
                path=path, fix="map symbols to the standard WFDB codes, or write JSON/NPZ",
            )
        inverse.update({s: free[i] for i, s in enumerate(custom)})
    codes = np.array([inverse[s] for s in symbols], dtype=np.int64)
    return codes, [(inverse[s], s) for s in custom]


def _note(text: str) -> list[int]:
    """Words of a NOTE annotation at the current time (interval 0) carrying ``text``."""
    raw = text.encode("utf-8")[:255]
    padded = raw + b"\x00" * (len(raw) % 2)
    return [NOTE << 10, (AUX << 10) | len(raw), *np.frombuffer(padded, dtype="<u2").tolist()]


def write_annotation_file(path: Path, sample, symbol, subtype=None, chan=None, aux=None,
                          fs: float | None = None) -> Path:
    """Write annotations in the WFDB MIT format (as ``wfdb.wrann``, any extension).

    Symbols outside the standard table are declared as custom labels in the
    file header; the time resolution ``fs`` is stored when given. ``subtype``
    must fit -128..127 and ``chan`` 0..255; ``aux`` is UTF-8, at most 255 bytes.
    """
    from ..errors import FormatError

    path = Path(path)
    sample = np.asarray(sample, dtype=np.int64)
    n = sample.size
    symbols = [str(s) for s in symbol]
    subtype = np.zeros(n, np.int64) if subtype is None else np.asarray(subtype, dtype=np.int64)
    chan = np.zeros(n, np.int64) if chan is None else np.asarray(chan, dtype=np.int64)
    aux = [""] * n if aux is None else ["" if a is None else str(a) for a in aux]
    if n and (sample.min() < 0 or np.any(np.diff(sample) < 0)):
        raise FormatError("annotation samples must be non-negative and sorted", path=path,
                          fix="crop the annotations to the record")
    if n and (subtype.min() < -128 or subtype.max() > 127 or chan.min() < 0 or chan.max() > 255):
        raise FormatError("WFDB annotation files store subtype -128..127 and chan 0..255", path=path,
                          fix="write JSON or NPZ to keep other values")
    codes, custom = _label_stores(symbols, path)

    words: list[int] = []
    if fs is not None:
        words += _note(f"## time resolution: {float(fs):.12g}")
    if custom:
        words += _note("## annotation type definitions")
        for code, sym in custom:
            words += _note(f"{code} {sym} {sym}")
        words += _note("## end of definitions")
    prev_chan = 0
    diffs = np.diff(sample, prepend=0).tolist()
    for i, (diff, code) in enumerate(zip(diffs, codes.tolist())):
        if diff > 1023:
            words += [SKIP << 10, (diff >> 16) & 0xFFFF, diff & 0xFFFF, code << 10]
        else:
            words.append((code << 10) | diff)
        if subtype[i]:
            words.append((SUB << 10) | (int(subtype[i]) & 0xFF))
        if chan[i] != prev_chan:
            words.append((CHN << 10) | int(chan[i]))
            prev_chan = int(chan[i])
        if aux[i]:
            raw = aux[i].encode("utf-8")[:255]
            padded = raw + b"\x00" * (len(raw) % 2)
            words.append((AUX << 10) | len(raw))
            words += np.frombuffer(padded, dtype="<u2").tolist()
    words.append(0)
    path.write_bytes(np.asarray(words, dtype="<u2").tobytes())
    return path
