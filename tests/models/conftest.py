"""Fixtures for the models tests: a model card and a tiny separable batch of beat windows."""

from __future__ import annotations

import numpy as np
import pytest
import torch

CLASSES = ["N", "S", "V", "F", "Q"]
RR_NAMES = ["pre_rr", "post_rr", "local_rr", "pre_local"]


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """Every test here runs with one torch thread (see the root conftest)."""


def card_for(model, **overrides) -> dict:
    """A card for ``model``; save_checkpoint fills architecture, model_kwargs, version and date."""
    card = {
        "classes": CLASSES[: model.n_classes] if model.n_classes <= 5
        else [f"c{i}" for i in range(model.n_classes)],
        "fs": 360.0,
        "window": {"before_s": 0.25, "after_s": 0.45},
        "leads": ["MLII", "V1", "V2", "V5"][: model.in_leads],
        "normalisation": {"method": "zscore", "scope": "window"},
        "rr_features": RR_NAMES[: model.n_rr],
        "training": {"data": "synthetic", "split": "none", "config": {"epochs": 1}},
        "metrics": {"macro_f1": np.float64(0.5)},
    }
    card.update(overrides)
    return card


@pytest.fixture
def make_card():
    return card_for


def separable_batch(n: int, in_leads: int, window: int, n_rr: int, seed: int = 0):
    """``n`` windows of two classes: a narrow positive bump (0) or a wide negative one (1), plus noise."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    t = torch.arange(window, dtype=torch.float32)
    bump0 = torch.exp(-((t - window / 2) ** 2) / (2 * (window / 40) ** 2))
    bump1 = -torch.exp(-((t - window / 2) ** 2) / (2 * (window / 10) ** 2))
    shape = torch.where(y[:, None] == 0, bump0, bump1)
    x = shape[:, None, :].repeat(1, in_leads, 1) + 0.05 * torch.randn(n, in_leads, window, generator=gen)
    rr = None
    if n_rr:
        rr = 0.8 + 0.1 * torch.randn(n, n_rr, generator=gen) + 0.3 * y[:, None]
    return x.float(), (rr.float() if rr is not None else None), y


@pytest.fixture
def tiny_batch():
    return separable_batch
