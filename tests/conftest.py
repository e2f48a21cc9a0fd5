"""Shared fixtures: the real-data folder (skips cleanly when absent) and small records."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ECGSCOPE_SHARED_DATA", ROOT.parent / "shared" / "data"))


def shared_path(*parts: str) -> Path:
    """Path under ../shared/data, skipping the calling test when it is missing."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists() and not path.with_name(path.name + ".hea").exists():
        pytest.skip(f"shared data not available: {path}")
    return path


@pytest.fixture
def shared_data() -> Path:
    """Root of ../shared/data; skips when absent."""
    return shared_path()


@pytest.fixture
def shared():
    """``shared("mitdb", "101")`` -> path under ../shared/data, skipping when absent."""
    return shared_path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


@pytest.fixture
def small_record():
    """A 3-lead, 10-s, 250 Hz record with a beat annotator (synthetic, no file)."""
    from ecgscope.record import Annotations, Metadata, Record

    fs = 250.0
    t = np.arange(int(10 * fs)) / fs
    beats = np.arange(0.4, 10, 0.8)
    sig = np.zeros((3, t.size), np.float32)
    for b in beats:
        sig += (np.exp(-((t - b) ** 2) / (2 * 0.01**2)) * np.array([[1.0], [1.4], [0.4]])).astype(np.float32)
    ann = Annotations(sample=np.rint(beats * fs).astype(np.int64), symbol=["N"] * beats.size, annotator="atr")
    return Record(signal=sig, fs=fs, original_leads=["MLII", "V1", "lead III"],
                  annotations={"atr": ann},
                  metadata=Metadata(record_id="synthetic", patient_id="p0", age=50, sex="F"))


@pytest.fixture
def one_torch_thread():
    """Tests share 2 cores: one torch intra-op thread (fastest and deterministic), restored afterwards."""
    import torch

    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


def _few_beats(beats, per_class: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    keep = []
    for rec in beats.records:
        for c in range(len(beats.classes)):
            idx = np.flatnonzero((beats.record_id == rec) & (beats.y == c))
            keep.extend(rng.choice(idx, min(per_class, idx.size), replace=False).tolist())
    return beats.subset(np.sort(keep))


@pytest.fixture
def few_beats():
    """``few_beats(beats, per_class)``: up to ``per_class`` beats of each class from each record (fast real-data tests)."""
    return _few_beats
