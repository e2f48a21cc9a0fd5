"""Command-line interface (``ecgscope ...``); one module per command."""

from .app import app, main, run

__all__ = ["app", "main", "run"]
