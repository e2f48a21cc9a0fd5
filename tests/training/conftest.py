"""Fixtures for the training tests: separable synthetic beat sets, synthetic WFDB databases, tiny models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from ecgscope.datasets.beats import BeatSet
from ecgscope.datasets.splits import Split


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one torch thread (see the root conftest)."""


def synthetic_beats(n_patients: int = 6, per_patient: int = 60, window: int = 32, seed: int = 0,
                    classes=("N", "S", "V")) -> BeatSet:
    """Separable beats: N narrow peak, V wide inverted wave, S narrow peak with a short RR."""
    rng = np.random.default_rng(seed)
    t = np.linspace(-1, 1, window)
    xs, rrs, ys, pids = [], [], [], []
    for p in range(n_patients):
        y = rng.choice(3, size=per_patient, p=[0.6, 0.2, 0.2])
        y[:3] = [0, 1, 2]  # every patient has every class
        narrow = np.exp(-t**2 / 0.01)
        wide = -np.exp(-t**2 / 0.1)
        x = np.where(y[:, None] == 2, wide, narrow)[:, None, :]
        x = x + 0.05 * rng.standard_normal((per_patient, 1, window))
        rr = np.stack([np.where(y == 1, 0.55, 1.0), np.ones(per_patient)], axis=1)
        rr = rr + 0.02 * rng.standard_normal(rr.shape)
        xs.append(x)
        rrs.append(rr)
        ys.append(y)
        pids += [f"p{p}"] * per_patient
    n = n_patients * per_patient
    return BeatSet(np.concatenate(xs), np.concatenate(rrs), np.concatenate(ys), pids, pids, np.arange(n),
                   classes, ("pre_record", "post_record"))


def synthetic_split(records, k: int = 3, patients: dict | None = None) -> Split:
    """A k-fold split of ``records`` (record i in fold i % k); ``patients`` maps record -> patient."""
    patients = patients or {}
    return Split(name="synthetic", version=1, database="synthetic", k=k, seed=0,
                 assignments={r: {"fold": i % k, "patient": patients.get(r, r), "stratum": "none"}
                              for i, r in enumerate(records)})


@pytest.fixture
def beats() -> BeatSet:
    return synthetic_beats()


@pytest.fixture
def make_beats():
    return synthetic_beats


@pytest.fixture
def make_split():
    return synthetic_split


def tiny_model(n_rr: int = 2, window: int = 32, n_classes: int = 3, seed: int = 0):
    """The registry's smallest ResNet for the synthetic beats."""
    from ecgscope.models import create_model

    return create_model("resnet1d", seed=seed, in_leads=1, n_classes=n_classes, window=window, n_rr=n_rr,
                        variant="tiny")


@pytest.fixture
def model_factory():
    return tiny_model


def write_synthetic_db(directory: Path, names=("300", "301", "302", "303"), seconds: float = 40.0,
                       fs: float = 360.0, seed: int = 0, paced: tuple[str, ...] = ()) -> list[str]:
    """Simulated WFDB records (II + V1; N, A, V beats, one beat relabelled Q); ``paced`` records get ``/`` beats."""
    from ecgscope import write
    from ecgscope.synthesis import simulate

    directory.mkdir(parents=True, exist_ok=True)
    for r, name in enumerate(names):
        rec = simulate(duration=seconds, fs=fs, heart_rate=75.0, leads=("II", "V1"), pvc_rate=0.15,
                       apc_rate=0.15, seed=seed + r)
        atr = rec.annotations["atr"]
        beats = np.flatnonzero(np.isin(atr.symbol.astype(str), ["N", "A", "V"]))
        atr.symbol[beats[len(beats) // 2]] = "Q"
        if name in paced:
            atr.symbol[beats] = "/"
        rec.annotations = {"atr": atr}
        rec.metadata.record_id = name
        write(rec, directory / f"{name}.hea")
    return list(names)


@pytest.fixture
def synthetic_db(tmp_path):
    """A folder with 5 simulated WFDB records named like DS1 records; returns ``(folder, names)``."""
    folder = tmp_path / "synthdb"
    return folder, write_synthetic_db(folder, names=("101", "106", "108", "109", "112"))


def write_experiment_yaml(path, database, cache_dir, **train):
    """A tiny experiment on a folder of simulated records (windows of 32 samples at 128 Hz)."""
    data = {
        "name": "cli-test",
        "data": {"database": str(database), "records": ["101", "106", "108", "109", "112"],
                 "classes": ["N", "S", "V"], "fs": 128.0, "window": [0.1, 0.15], "cache_dir": str(cache_dir)},
        "model": {"name": "resnet1d", "variant": "tiny"},
        "train": {"epochs": 2, "batch_size": 32, "val_patients": 1, "progress": False, "tensorboard": False,
                  "lr": 0.003, **train},
    }
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture
def write_config():
    """``write_config(path, database, cache_dir, **train)`` -> a tiny experiment YAML."""
    return write_experiment_yaml
