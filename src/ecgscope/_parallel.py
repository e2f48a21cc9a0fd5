"""Process pools for work that is shared out by record stretch (same results in one process or many)."""

from __future__ import annotations

import contextlib

__all__ = ["process_pool"]


def process_pool(workers: int):
    """A context holding a pool of ``workers`` spawned processes, or ``None`` for one worker (run in-process).

    Spawned, not forked: safe with torch and threads, and a script that uses it needs the usual
    ``if __name__ == "__main__":`` guard.
    """
    if int(workers) <= 1:
        return contextlib.nullcontext()
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(int(workers), mp_context=multiprocessing.get_context("spawn"))
