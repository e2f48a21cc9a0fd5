"""What every benchmark's result file records about where it ran (imported by the scripts beside it)."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path

from ecgscope import __version__

ROOT = Path(__file__).resolve().parents[1]


def environment(*modules) -> dict:
    """ecgscope's and the given modules' versions, Python, machine, CPU count and the 1-min load average."""
    env = {"ecgscope": __version__, "python": platform.python_version()}
    env |= {m.__name__: getattr(m, "__version__", "?") for m in modules}
    env |= {"machine": platform.machine(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    return env


def write_result(path: Path, name: str, argv: list[str] | None, **fields) -> None:
    """Write ``{"benchmark": name, "command": ..., **fields}`` as JSON to ``path`` and say where.

    ``command`` is ``python benchmarks/<name>.py`` with ``argv`` (default: this process's arguments).
    """
    args = argv if argv is not None else sys.argv[1:]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"benchmark": name, "command": f"python benchmarks/{name}.py " + " ".join(args),
                                **fields}, indent=2) + "\n")
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
