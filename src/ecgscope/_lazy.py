"""Lazy re-exports: ``__getattr__`` for a package's public names (PEP 562)."""

from __future__ import annotations

import importlib
import sys
from typing import Callable


def lazy_exports(package: str, table: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """Return ``(__getattr__, __dir__)`` that import ``name`` from ``table[name]`` on first use.

    ``table`` maps a public name to the submodule (relative to ``package``)
    that defines it, so importing a layer stays cheap and each module stays
    independent.
    """

    def __getattr__(name: str):
        if name not in table:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{table[name]}"), name)
        # Cache on the package: importing a submodule that shares the name
        # (``signal/hrv.py`` defining ``hrv``) must not leave the module there.
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted(table)

    return __getattr__, __dir__
