"""MATLAB ``.mat`` files: v4 and v5/v7 (``scipy.io.loadmat``) and v7.3 (HDF5, ``h5py``).

The signal is the variable named by ``variable=`` or else the largest real
numeric 1-D/2-D array (struct fields included, as ``struct.field``); the
leads are its smaller dimension unless ``orientation=`` says otherwise (or a
lead-name list fixes it). The sampling rate comes from a scalar named like
``fs``/``Fs``/``sampling_rate``/``freq`` … or from ``fs=``; lead names from a
cell or char array named like ``leads``/``labels``/``channels``; ``units``,
``gain`` and ``baseline`` from variables of those names, from hints, or from
a companion WFDB ``.hea`` header. (A ``.mat`` whose ``.hea`` names it is
read as WFDB unless ``format="mat"`` is forced.)
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

from ..errors import CorruptFileError, FormatError
from ..record import Metadata, Record
from ._util import check_lead_names, orient_signal, record_id_from_path, resolve_fs, to_millivolts

__all__ = ["NAME", "EXTENSIONS", "sniff", "read"]

NAME = "mat"
EXTENSIONS = (".mat",)

_V5 = b"MATLAB 5.0 MAT-file"
_V73 = b"MATLAB 7.3 MAT-file"
_HDF5 = b"\x89HDF\r\n\x1a\n"

_FS_KEYS = {"fs", "sf", "srate", "samplingrate", "sampling_rate", "samplerate", "sample_rate", "sampfreq",
            "samplingfrequency", "sampling_frequency", "freq", "frequency", "fsamp", "hz", "sfreq", "fe"}
_LEAD_KEYS = {"leads", "lead", "lead_names", "leadnames", "labels", "label", "channels", "channel_names",
              "channelnames", "ch_names", "chnames", "sig_name", "signal_names", "signames", "names"}
_UNIT_KEYS = {"units", "unit", "physical_dimension"}
_GAIN_KEYS = {"gain", "gains", "adc_gain", "adcgain"}
_BASELINE_KEYS = {"baseline", "adc_zero", "offset", "zero"}


# --------------------------------------------------------------------- sniff
def sniff(path: Path, head: bytes) -> bool:
    """MAT v5/v7 text header, HDF5 signature (v7.3), or a plausible v4 header in a ``.mat``.

    A ``.mat`` with a companion ``.hea`` is left to the WFDB reader.
    """
    path = Path(path)
    if path.with_suffix(".hea").is_file():
        return False
    if head.startswith(_V5) or head.startswith(_V73) or head.startswith(_HDF5) or head[512:520] == _HDF5:
        return True
    return path.suffix.lower() == ".mat" and _looks_like_v4(head)


def _looks_like_v4(head: bytes) -> bool:
    if len(head) < 21:
        return False
    mopt, rows, cols, imagf, namlen = struct.unpack("<5i", head[:20])
    m, o, p, t = mopt // 1000, (mopt // 100) % 10, (mopt // 10) % 10, mopt % 10
    if not (0 <= mopt < 100 and m == 0 and o == 0 and p <= 5 and t <= 2):
        return False
    if rows < 0 or cols < 0 or imagf not in (0, 1) or not (1 < namlen <= 64) or len(head) < 20 + namlen:
        return False
    name = head[20:20 + namlen]
    return name[-1:] == b"\x00" and name[:-1].isascii() and name[:-1].replace(b"_", b"a").isalnum()


# ---------------------------------------------------------------------- read
def read(path: Path, *, variable: str | None = None, fs: float | None = None, leads: list[str] | None = None,
         units: str | list[str] | None = None, gain: float | list[float] | None = None,
         orientation: str | None = None) -> Record:
    """Read a MATLAB file (v4, v5, v7 or v7.3).

    Args:
        variable: the variable holding the signal (``"val"``, ``"data.ecg"``).
        fs: sampling rate, when the file has none.
        leads: lead names.
        units: units of the stored values (default mV, or the file's).
        gain: ADC units per unit, for raw integer data.
        orientation: ``"leads_first"`` or ``"samples_first"``.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if head.startswith(_HDF5) or head[512:520] == _HDF5:
        variables = _load_hdf5(path)
    else:
        variables = _load_scipy(path)
    flat = dict(_flatten(variables))
    name, raw = _pick_signal(flat, variable, path)

    hea = _companion_header(path)
    names = leads if leads is not None else _lead_names(flat, raw)
    if names is None and hea is not None and hea.sig_name:
        names = list(hea.sig_name)
    signal = orient_signal(raw, orientation, len(names) if names else None, path)
    n = signal.shape[0]

    stored_fs = _scalar(flat, _FS_KEYS)
    if stored_fs is None and hea is not None:
        stored_fs = hea.fs
    rate = resolve_fs(stored_fs, fs, path, where="the file's sampling-rate variable")

    file_units = _strings(flat, _UNIT_KEYS)
    file_gain = _numbers(flat, _GAIN_KEYS)
    file_base = _numbers(flat, _BASELINE_KEYS)
    if hea is not None:
        file_units = file_units or list(hea.units)
        file_gain = file_gain if file_gain is not None else [g or 200.0 for g in hea.adc_gain]
        file_base = file_base if file_base is not None else list(hea.baseline)
    use_units = units if units is not None else (file_units[0] if file_units and len(file_units) == 1 else file_units)
    use_gain = gain if gain is not None else file_gain
    baseline = file_base if use_gain is not None and gain is None else None
    signal = to_millivolts(signal, units=use_units or None, gain=use_gain, baseline=baseline, path=path)

    if names is not None:
        names = check_lead_names(names, n, path)
    record_id = record_id_from_path(path)
    unit_list = use_units if isinstance(use_units, list) else [use_units or "mV"] * n
    metadata = Metadata(record_id=record_id, patient_id=record_id, units=[str(u) for u in unit_list],
                        gain=[] if use_gain is None else [float(g) for g in np.broadcast_to(use_gain, (n,))],
                        extra={"mat_variable": name})
    return Record(signal=signal, fs=rate, original_leads=names or [], metadata=metadata)


def _load_scipy(path: Path) -> dict:
    from scipy.io import loadmat

    try:
        data = loadmat(str(path), simplify_cells=True)
    except NotImplementedError:  # v7.3 without the HDF5 signature where we looked
        return _load_hdf5(path)
    except Exception as exc:  # scipy raises many types on damaged files; all mean "cannot read"
        raise CorruptFileError(f"cannot be read as a MATLAB file ({type(exc).__name__}: {exc})".splitlines()[0],
                               path=path, fix="re-save it from MATLAB (save -v7) or check the download") from None
    return {k: v for k, v in data.items() if not k.startswith("__")}


def _load_hdf5(path: Path) -> dict:
    import h5py

    try:
        with h5py.File(path, "r") as f:
            out: dict = {}

            def visit(name, obj):
                if isinstance(obj, h5py.Dataset) and not name.startswith("#refs#"):
                    out[name.replace("/", ".")] = _h5_value(f, obj)

            f.visititems(visit)
            return out
    except (OSError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise CorruptFileError(f"cannot be read as MATLAB v7.3/HDF5 ({type(exc).__name__}: {exc})".splitlines()[0],
                               path=path, fix="re-save it from MATLAB or check the download") from None


def _h5_value(f, ds):
    """MATLAB view of an HDF5 dataset: arrays transposed, chars as text, cells as lists."""
    import h5py

    cls = ds.attrs.get("MATLAB_class", b"")
    cls = cls.decode() if isinstance(cls, bytes) else str(cls)
    if ds.dtype == h5py.ref_dtype or cls == "cell":
        items = []
        for ref in np.asarray(ds[()]).T.reshape(-1):
            try:
                items.append(_h5_value(f, f[ref]))
            except (KeyError, ValueError, TypeError):
                items.append(None)
        return items
    value = np.asarray(ds[()])
    if cls == "char":
        codes = value.T if value.ndim == 2 else value.reshape(1, -1)
        rows = ["".join(chr(int(c)) for c in row if c) for row in codes]
        return rows[0] if len(rows) == 1 else rows
    if value.ndim >= 2:
        value = value.T
    return value


def _flatten(variables: dict, prefix: str = "", depth: int = 0):
    """``(dotted name, value)`` for every variable, descending into structs."""
    for key, value in variables.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 4:
            yield from _flatten(value, name + ".", depth + 1)
        else:
            yield name, value


def _is_signal(value) -> bool:
    return (isinstance(value, np.ndarray) and value.ndim in (1, 2) and value.size > 1
            and np.issubdtype(value.dtype, np.number) and not np.iscomplexobj(value))


def _pick_signal(flat: dict, variable: str | None, path: Path):
    if variable is not None:
        if variable not in flat:
            raise FormatError(f"no variable {variable!r}; the file has {', '.join(flat) or 'none'}", path=path,
                              fix="pass variable=... naming one of them")
        value = flat[variable]
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.number):
            raise FormatError(f"variable {variable!r} is not a numeric array", path=path)
        return variable, value
    candidates = {k: np.squeeze(v) if isinstance(v, np.ndarray) and v.ndim > 2 else v for k, v in flat.items()}
    candidates = {k: v for k, v in candidates.items() if _is_signal(v)}
    if not candidates:
        raise FormatError("holds no numeric 1-D or 2-D array", path=path,
                          fix="save the samples as a matrix (leads x samples), or pass variable=<name>")
    name = max(candidates, key=lambda k: candidates[k].size)
    return name, candidates[name]


def _key_match(flat: dict, keys: set[str]):
    for name, value in flat.items():
        if name.rsplit(".", 1)[-1].lower() in keys:
            yield name, value


def _scalar(flat: dict, keys: set[str]) -> float | None:
    for _, value in _key_match(flat, keys):
        arr = np.asarray(value) if not isinstance(value, (str, list)) else None
        if arr is not None and arr.size == 1 and np.issubdtype(arr.dtype, np.number):
            return float(arr.reshape(-1)[0])
    return None


def _numbers(flat: dict, keys: set[str]) -> list[float] | None:
    for _, value in _key_match(flat, keys):
        arr = np.asarray(value) if not isinstance(value, (str, list)) else None
        if arr is not None and arr.size >= 1 and np.issubdtype(arr.dtype, np.number):
            return [float(x) for x in arr.reshape(-1)]
    return None


def _as_strings(value) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    if isinstance(value, np.ndarray) and value.dtype.kind in "US" and value.size:
        return [str(v).strip() for v in value.reshape(-1)]
    if isinstance(value, np.ndarray) and value.dtype == object and value.size:
        items = [v for v in value.reshape(-1)]
        if all(isinstance(v, str) for v in items):
            return [v.strip() for v in items]
    return None


def _strings(flat: dict, keys: set[str]) -> list[str] | None:
    for _, value in _key_match(flat, keys):
        strings = _as_strings(value)
        if strings:
            return strings
    return None


def _lead_names(flat: dict, raw: np.ndarray) -> list[str] | None:
    """Lead names: a string list whose length matches one dimension of the signal."""
    dims = set(np.shape(raw)) if np.ndim(raw) == 2 else {1}
    named = [s for _, v in _key_match(flat, _LEAD_KEYS) if (s := _as_strings(v))]
    others = [s for k, v in flat.items()
              if k.rsplit(".", 1)[-1].lower() not in _UNIT_KEYS and (s := _as_strings(v)) and len(s) > 1]
    for strings in named + others:
        if len(strings) in dims:
            return strings
    return None


def _companion_header(path: Path):
    hea = path.with_suffix(".hea")
    if not hea.is_file():
        return None
    try:
        import wfdb

        return wfdb.rdheader(str(path.with_suffix("")))
    except Exception:  # a broken companion header is ignored; the .mat still reads
        return None
