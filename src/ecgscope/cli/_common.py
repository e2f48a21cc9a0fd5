"""Helpers shared by CLI command modules: consoles and progress bars."""

from __future__ import annotations

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

console = Console()
err_console = Console(stderr=True)

__all__ = ["console", "err_console", "progress"]


def progress(transient: bool = False) -> Progress:
    """A Rich progress bar in the house style (description, bar, n/N, ETA)."""
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=transient,
    )
