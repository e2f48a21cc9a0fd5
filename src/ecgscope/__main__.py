"""``python -m ecgscope`` runs the CLI."""

from .cli import run

run()
