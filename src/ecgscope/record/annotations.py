"""Point annotations (beats, rhythm changes, wave boundaries) of one annotator."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

__all__ = ["Annotations"]


def _as_str_array(values, n: int, fill: str = "") -> np.ndarray:
    if values is None:
        return np.full(n, fill, dtype=object)
    arr = np.asarray([("" if v is None else str(v)) for v in values], dtype=object)
    return arr


@dataclass
class Annotations:
    """Annotations of one annotator, e.g. MIT-BIH ``atr`` or LUDB lead ``ii``.

    All arrays have one entry per annotation, sorted by ``sample``.

    Attributes:
        sample: int64 sample positions (at the record's ``fs``).
        symbol: annotation codes (``"N"``, ``"V"``, ``"+"``, ``"("``, ``"p"`` ...).
        subtype: int16 WFDB ``subtyp`` values (0 when absent).
        chan: int16 lead index the annotation refers to (0 when absent).
        aux: free text such as rhythm labels (``"(AFIB"``); ``""`` when absent.
        annotator: name of the annotator / file extension.
    """

    sample: np.ndarray
    symbol: np.ndarray
    subtype: np.ndarray = field(default=None)  # type: ignore[assignment]
    chan: np.ndarray = field(default=None)  # type: ignore[assignment]
    aux: np.ndarray = field(default=None)  # type: ignore[assignment]
    annotator: str = "atr"

    def __post_init__(self) -> None:
        self.sample = np.asarray(self.sample, dtype=np.int64).reshape(-1)
        n = self.sample.size
        self.symbol = _as_str_array(self.symbol, n)
        self.aux = _as_str_array(self.aux, n)
        self.subtype = (
            np.zeros(n, np.int16) if self.subtype is None
            else np.asarray(self.subtype, dtype=np.int16).reshape(-1)
        )
        self.chan = (
            np.zeros(n, np.int16) if self.chan is None
            else np.asarray(self.chan, dtype=np.int16).reshape(-1)
        )
        for name in ("symbol", "subtype", "chan", "aux"):
            if getattr(self, name).size != n:
                raise ValueError(
                    f"Annotations.{name} has {getattr(self, name).size} entries, "
                    f"sample has {n}"
                )
        if n > 1 and np.any(np.diff(self.sample) < 0):
            order = np.argsort(self.sample, kind="stable")
            self._take(order)

    def _take(self, index) -> None:
        for name in ("sample", "symbol", "subtype", "chan", "aux"):
            setattr(self, name, getattr(self, name)[index])

    def __len__(self) -> int:
        return int(self.sample.size)

    def select(self, mask_or_index) -> "Annotations":
        """Return the annotations picked by a boolean mask or an index array."""
        return Annotations(
            self.sample[mask_or_index],
            self.symbol[mask_or_index],
            self.subtype[mask_or_index],
            self.chan[mask_or_index],
            self.aux[mask_or_index],
            self.annotator,
        )

    def window(self, start: int, stop: int) -> "Annotations":
        """Annotations with ``start <= sample < stop``, shifted to start at 0."""
        lo, hi = np.searchsorted(self.sample, [start, stop], side="left")
        out = self.select(slice(lo, hi))
        out.sample = out.sample - start
        return out

    def rescaled(self, factor: float, n_samples: int | None = None) -> "Annotations":
        """Sample positions multiplied by ``factor`` (for resampling), rounded."""
        out = self.select(slice(None))
        out.sample = np.rint(self.sample * factor).astype(np.int64)
        if n_samples is not None:
            np.clip(out.sample, 0, max(n_samples - 1, 0), out=out.sample)
        return out

    def counts(self) -> dict[str, int]:
        """Number of annotations per symbol, most frequent first."""
        return dict(Counter(self.symbol.tolist()).most_common())

    def to_dict(self) -> dict:
        """JSON-safe dict (lists of plain Python values)."""
        return {
            "annotator": self.annotator,
            "sample": self.sample.tolist(),
            "symbol": self.symbol.tolist(),
            "subtype": self.subtype.tolist(),
            "chan": self.chan.tolist(),
            "aux": self.aux.tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict, annotator: str | None = None) -> "Annotations":
        """Inverse of :meth:`to_dict`; missing optional keys default to empty."""
        return cls(
            sample=data.get("sample", []),
            symbol=data.get("symbol"),
            subtype=data.get("subtype"),
            chan=data.get("chan"),
            aux=data.get("aux"),
            annotator=annotator or data.get("annotator", "atr"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Annotations):
            return NotImplemented
        return (
            self.annotator == other.annotator
            and np.array_equal(self.sample, other.sample)
            and np.array_equal(self.symbol, other.symbol)
            and np.array_equal(self.subtype, other.subtype)
            and np.array_equal(self.chan, other.chan)
            and np.array_equal(self.aux, other.aux)
        )
