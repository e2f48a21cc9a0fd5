"""Run logs: always a CSV file, plus TensorBoard when ``torch.utils.tensorboard`` can be imported."""

from __future__ import annotations

import csv
from pathlib import Path

__all__ = ["RunLogger"]


class RunLogger:
    """Append one row per epoch to ``<dir>/log.csv`` (columns fixed by the first row) and to TensorBoard."""

    def __init__(self, directory, tensorboard: bool = True, enabled: bool = True) -> None:
        self.enabled = enabled and directory is not None
        self.path = Path(directory) / "log.csv" if directory is not None else None
        self.columns: list[str] | None = None
        self.writer = None
        if self.enabled:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if tensorboard:
                try:
                    from torch.utils.tensorboard import SummaryWriter
                except Exception:  # tensorboard not installed: CSV only
                    SummaryWriter = None
                if SummaryWriter is not None:
                    self.writer = SummaryWriter(str(Path(directory) / "tensorboard"))

    def log(self, row: dict) -> None:
        """Write one epoch's values (numbers and short strings)."""
        if not self.enabled:
            return
        if self.columns is None:
            self.columns = list(row)
            with open(self.path, "w", newline="", encoding="utf-8") as fh:
                csv.writer(fh).writerow(self.columns)
        with open(self.path, "a", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerow([_fmt(row.get(c, "")) for c in self.columns])
        if self.writer is not None:
            step = int(row.get("epoch", 0))
            for k, v in row.items():
                if isinstance(v, (int, float)) and k != "epoch":
                    self.writer.add_scalar(k, v, step)

    def close(self) -> None:
        """Flush and close TensorBoard."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None


def _fmt(value):
    return f"{value:.6g}" if isinstance(value, float) else value
