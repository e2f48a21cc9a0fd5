"""What every benchmark's result file records about where it ran (imported by the scripts beside it)."""

from __future__ import annotations

import os
import platform

from ecgscope import __version__


def environment(*modules) -> dict:
    """ecgscope's and the given modules' versions, Python, machine, CPU count and the 1-min load average."""
    env = {"ecgscope": __version__, "python": platform.python_version()}
    env |= {m.__name__: getattr(m, "__version__", "?") for m in modules}
    env |= {"machine": platform.machine(), "processor": platform.processor(), "cpu_count": os.cpu_count(),
            "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else None}
    return env
