"""Error hierarchy of ecgscope.

Every error the package raises on purpose derives from :class:`ECGScopeError`.
A message names the input, the problem and the fix, so a command-line user can
act on one line::

    ECGScopeError("signal is empty", path="rec.csv", fix="check the export")
    -> "rec.csv: signal is empty. Fix: check the export."
"""

from __future__ import annotations

from os import PathLike

__all__ = [
    "ECGScopeError",
    "FormatError",
    "UnknownFormatError",
    "MissingFileError",
    "CorruptFileError",
    "HeaderError",
    "SignalError",
    "EmptySignalError",
    "NonFiniteSignalError",
    "LeadCountError",
    "SamplingRateError",
    "UnitsError",
    "DatasetError",
    "DownloadError",
    "ChecksumError",
    "ConfigError",
    "ModelError",
]


def _strip_period(text: str) -> str:
    """Drop one closing full stop, keeping an ellipsis intact."""
    return text[:-1] if text.endswith(".") and not text.endswith("...") else text


class ECGScopeError(Exception):
    """Base class: ``problem`` plus the ``path`` it concerns and a ``fix``."""

    default_fix: str | None = None

    def __init__(
        self,
        problem: str,
        *,
        path: str | PathLike | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.path = None if path is None else str(path)
        self.fix = fix if fix is not None else self.default_fix
        super().__init__(self._render())

    def _render(self) -> str:
        text = _strip_period(self.problem)
        if self.path:
            text = f"{self.path}: {text}"
        if self.fix:
            text = f"{text}. Fix: {_strip_period(self.fix)}"
        return text if text.endswith("...") else text + "."


class FormatError(ECGScopeError):
    """A file cannot be read or written in the requested format."""


class UnknownFormatError(FormatError):
    """No reader recognises the file."""

    default_fix = (
        "pass format=... (wfdb, mat, csv, json, edf, npy) or rename the file "
        "with its usual extension"
    )


class MissingFileError(FormatError):
    """The file, or a companion file it needs (e.g. a WFDB .dat), is absent."""


class CorruptFileError(FormatError):
    """The file is truncated, damaged or internally inconsistent."""

    default_fix = "re-download or re-export the file"


class HeaderError(CorruptFileError):
    """A header (WFDB .hea, EDF header, CSV header) cannot be parsed."""


class SignalError(ECGScopeError):
    """The signal values themselves are unusable."""


class EmptySignalError(SignalError):
    """The signal has no samples or no leads."""


class NonFiniteSignalError(SignalError):
    """The signal holds NaN or infinite values."""

    default_fix = "pass nonfinite='interpolate' or nonfinite='keep' to read()"


class LeadCountError(SignalError):
    """Lead names, gains or rows disagree on the number of leads."""


class SamplingRateError(SignalError):
    """The sampling rate is missing or outside the plausible range."""


class UnitsError(SignalError):
    """Units are unknown or the amplitudes contradict the stated units."""


class DatasetError(ECGScopeError):
    """A public database is unknown, incomplete or misplaced."""


class DownloadError(DatasetError):
    """A download failed."""

    default_fix = "check the network connection and run the command again; it resumes"


class ChecksumError(DatasetError):
    """A file does not match its published SHA-256."""

    default_fix = "delete the file and download it again"


class ConfigError(ECGScopeError):
    """A configuration file or override is invalid."""


class ModelError(ECGScopeError):
    """A model or checkpoint is unknown, damaged or incompatible."""
