"""Training loop for window-level rhythm networks (RAMBA, the ResNet1D baseline).

A rhythm estimator (:mod:`ecgscope.models.rhythm`) turns training records
into windows labelled with their record's rhythm and hands this module a dict
of per-window input arrays (``x``, and optionally ``hrv``, ``hrv_mask``,
``mr``) plus labels. :func:`train_windows` runs AdamW with linear warm-up and
cosine decay (:mod:`.schedule`), class-weighted cross-entropy (softmax head)
or binary cross-entropy (sigmoid head), gradient clipping and an EMA of the
weights (:mod:`.ema`); after every epoch the EMA weights are scored by the
estimator's ``validate`` callback (record-level, on validation records drawn
patient-wise from the training records by :func:`split_validation`) and the
best epoch is kept, with early stopping after ``patience`` epochs without gain.
``device`` (``"auto"``: CUDA when present) holds the network and all training
windows (a CinC fold is ~15k windows, well under a GPU's memory); the selected
network stays there, and the estimators move their inputs to it.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError
from .distributed import pick_device
from .ema import ModelEMA
from .logs import RunLogger
from .losses import class_weights
from .reproducibility import seed_everything
from .schedule import warmup_cosine
from .selection import BestEpoch, cpu_state

__all__ = ["RhythmFitResult", "RhythmTrainConfig", "split_validation", "train_windows", "window_loss"]


@dataclass
class RhythmTrainConfig:
    """Optimisation settings of :func:`train_windows` (defaults sized for 2 CPU cores)."""

    epochs: int = 6
    batch_size: int = 64
    max_steps_per_epoch: int | None = 40
    lr: float = 2e-3
    weight_decay: float = 0.01
    warmup_epochs: float = 0.5
    min_lr_ratio: float = 0.05
    grad_clip: float | None = 1.0
    class_weights: str = "sqrt"
    label_smoothing: float = 0.05
    ema: bool = True
    ema_decay: float = 0.995
    patience: int = 3
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"
    progress: bool = False

    @classmethod
    def from_options(cls, options: dict) -> RhythmTrainConfig:
        """The config from the matching keys of an estimator's options (others are ignored)."""
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in options.items() if k in names})

    def to_dict(self) -> dict:
        """JSON-safe dict of the settings."""
        return asdict(self)


@dataclass
class RhythmFitResult:
    """The selected (EMA) network in eval mode, its epoch and score, the per-epoch history and timing."""

    model: nn.Module
    best_epoch: int
    best_score: float
    history: list[dict] = field(default_factory=list)
    steps_per_epoch: int = 0
    seconds: float = 0.0
    class_weights: list[float] = field(default_factory=list)


def split_validation(labels, patients, fraction: float, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Patient-wise, label-stratified ``(train_idx, val_idx)`` record indices.

    Patients are grouped by the label of their first record and ``fraction``
    of each group (at least one patient where the group has two or more) is
    held out, in a seeded order. ``fraction = 0`` gives no validation records.
    """
    labels = np.asarray(labels, dtype=str)
    patients = np.asarray(patients, dtype=str)
    if not 0 <= fraction < 1:
        raise ConfigError(f"val_fraction={fraction} must be in [0, 1)", fix="e.g. val_fraction=0.1")
    n = labels.size
    if fraction == 0 or n == 0:
        return np.arange(n), np.zeros(0, np.int64)
    uniq, first = np.unique(patients, return_index=True)
    rng = np.random.default_rng(seed)
    held: set[str] = set()
    for label in np.unique(labels[first]):
        group = uniq[labels[first] == label]
        if group.size < 2:
            continue
        k = max(1, round(fraction * group.size))
        held.update(rng.permutation(group)[:k].tolist())
    is_val = np.isin(patients, list(held))
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


def window_loss(head: str, weights: np.ndarray, label_smoothing: float = 0.0, device=None) -> Callable:
    """``loss(logits, y)``: weighted cross-entropy (``"softmax"``) or weighted one-vs-rest BCE (``"sigmoid"``)."""
    w = torch.as_tensor(weights, dtype=torch.float32, device=device)
    if head == "softmax":
        ce = nn.CrossEntropyLoss(weight=w, label_smoothing=label_smoothing)
        return lambda logits, y: ce(logits, y)
    if head == "sigmoid":
        def bce(logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
            k = logits.shape[1]
            target = F.one_hot(y, k).float() * (1 - label_smoothing) + label_smoothing / k
            per = F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(1)
            sw = w[y]
            return (per * sw).sum() / sw.sum().clamp_min(1e-12)
        return bce
    raise ConfigError(f"head={head!r} is not supported", fix="use head='softmax' or head='sigmoid'")


def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim > 1]
    other = [p for p in model.parameters() if p.requires_grad and p.ndim <= 1]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": other, "weight_decay": 0.0}]


def train_windows(net: nn.Module, inputs: dict[str, np.ndarray], y: np.ndarray, n_classes: int,
                  config: RhythmTrainConfig, *, head: str = "softmax",
                  validate: Callable[[nn.Module], float] | None = None, out_dir=None) -> RhythmFitResult:
    """Train ``net`` (``net(**batch) -> logits``) on per-window ``inputs`` and labels ``y``.

    ``validate(model) -> score`` (higher is better) judges the EMA weights
    after each epoch; without it every epoch runs and the last is kept.
    """
    t_start = time.perf_counter()
    seed_everything(config.seed)
    y = np.asarray(y, dtype=np.int64)
    n = y.size
    if n == 0:
        raise ConfigError("no training windows", fix="train on at least one record")
    device = pick_device(config.device)
    net.to(device)
    tensors = {k: torch.from_numpy(np.ascontiguousarray(v)).to(device) for k, v in inputs.items()}
    labels = torch.from_numpy(y).to(device)
    weights = class_weights(y, n_classes, config.class_weights)
    loss_fn = window_loss(head, weights, config.label_smoothing, device)
    steps = max(1, n // config.batch_size)
    if config.max_steps_per_epoch:
        steps = min(steps, int(config.max_steps_per_epoch))
    optimizer = torch.optim.AdamW(_param_groups(net, config.weight_decay), lr=config.lr)
    scheduler = warmup_cosine(optimizer, round(config.warmup_epochs * steps), config.epochs * steps,
                              config.min_lr_ratio)
    ema = ModelEMA(net, config.ema_decay) if config.ema else None
    generator = torch.Generator().manual_seed(config.seed)
    logger = RunLogger(out_dir, tensorboard=False, enabled=out_dir is not None)
    best = BestEpoch(min_delta=1e-4)
    history: list[dict] = []
    bar = None
    if config.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=config.epochs * steps, desc="train", unit="step", leave=False)
    try:
        for epoch in range(1, config.epochs + 1):
            t0 = time.perf_counter()
            net.train()
            order = torch.randperm(n, generator=generator)
            total, count = 0.0, 0
            for step in range(steps):
                idx = order[(step * config.batch_size) % n:][:config.batch_size].to(device)
                batch = {k: v[idx] for k, v in tensors.items()}
                loss = loss_fn(net(**batch).float(), labels[idx])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                if config.grad_clip:
                    nn.utils.clip_grad_norm_(net.parameters(), config.grad_clip)
                optimizer.step()
                scheduler.step()
                if ema is not None:
                    ema.update(net)
                total += float(loss.detach()) * idx.numel()
                count += idx.numel()
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(epoch=epoch, loss=f"{total / count:.4f}")
            judged = ema.module if ema is not None else net
            row = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"], "train_loss": total / max(count, 1)}
            score = None
            if validate is not None:
                judged.eval()
                score = row["val_score"] = float(validate(judged))
            best.offer(epoch, score, state=partial(cpu_state, judged))
            row["best_epoch"] = best.epoch
            row["seconds"] = time.perf_counter() - t0
            history.append(row)
            logger.log(row)
            if validate is not None and best.exhausted(config.patience):
                break
    finally:
        logger.close()
        if bar is not None:
            bar.close()
    final = copy.deepcopy(ema.module if ema is not None else net)
    final.load_state_dict(best.kept["state"])
    final.eval()
    score = best.score if validate is not None else float("nan")
    return RhythmFitResult(final, best.epoch, score, history, steps,
                           time.perf_counter() - t_start, weights.tolist())
