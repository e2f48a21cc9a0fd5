"""Seeds and code provenance: what makes a run repeatable and traceable."""

from __future__ import annotations

import os
import platform
import random
import subprocess
import sys
from pathlib import Path

import numpy as np

__all__ = ["seed_everything", "code_version", "environment"]


def seed_everything(seed: int, deterministic: bool = True) -> None:
    """Seed ``random``, NumPy and torch (all devices); on CPU prefer deterministic kernels."""
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    if torch.cuda.is_available():
        torch.cuda.manual_seed_all(seed)
    if deterministic:
        torch.backends.cudnn.benchmark = False
        torch.backends.cudnn.deterministic = True


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def code_version() -> dict:
    """``{"ecgscope": version, "git_commit": sha or None, "git_dirty": bool or None}``."""
    from .. import __version__

    here = Path(__file__).resolve().parent
    commit = _git(["rev-parse", "HEAD"], here)
    dirty = None
    if commit is not None:
        status = _git(["--no-optional-locks", "status", "--porcelain", "--untracked-files=no"], here)
        dirty = bool(status) if status is not None else None
    return {"ecgscope": __version__, "git_commit": commit, "git_dirty": dirty}


def environment() -> dict:
    """Python, platform, NumPy and torch versions, CPU threads and the command line."""
    import torch

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "numpy": np.__version__,
        "torch": torch.__version__,
        "cuda": torch.version.cuda if torch.cuda.is_available() else None,
        "threads": torch.get_num_threads(),
        "argv": list(sys.argv),
        "world_size": int(os.environ.get("WORLD_SIZE", "1")),
    }
