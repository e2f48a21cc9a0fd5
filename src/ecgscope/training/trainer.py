"""The beat-classifier trainer: one model, one training set, one patient-wise validation set.

:func:`prepare_data` fits the standardisation on the training beats, applies
it to both sets and oversamples the training beats only; :func:`fit` then
trains with AdamW, linear warm-up + cosine decay, class-weighted
cross-entropy or focal loss and an EMA of the weights, evaluates the EMA
weights on the validation patients after every epoch (macro-F1) and stops
early, keeping the best epoch. AMP and ``torch.compile`` are used only on
CUDA; under ``torchrun`` the model is wrapped in DDP with a
``DistributedSampler``. Every stage that fits something checks the patients
it sees against a :class:`~ecgscope.training.leakage.LeakGuard`.
"""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from ..datasets.beats import BeatSet
from ..errors import DatasetError
from .balance import oversample
from .calibration import activate, fit_temperature
from .config import TrainConfig
from .distributed import DistContext, gather_strings, pick_device, state_checksum, sync_buffers
from .ema import ModelEMA
from .leakage import DataLeakError, LeakGuard
from .logs import RunLogger
from .losses import build_loss, class_weights
from .normalisation import apply_normalisation, fit_normalisation
from .reproducibility import seed_everything
from .schedule import warmup_cosine
from .selection import BestEpoch, cpu_state

__all__ = ["PreparedData", "FitResult", "prepare_data", "fit", "predict_proba", "classification_metrics"]


@dataclass
class PreparedData:
    """Model-ready arrays: standardised (and oversampled) training beats, standardised validation beats."""

    x: np.ndarray
    rr: np.ndarray
    y: np.ndarray
    origin: np.ndarray
    val_x: np.ndarray | None
    val_rr: np.ndarray | None
    val_y: np.ndarray | None
    normalisation: dict
    info: dict


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        model: the selected weights (EMA when enabled) in eval mode on the CPU.
        state, raw_state: selected weights and the raw (non-EMA) weights of the same epoch.
        normalisation: statistics fitted on the training beats.
        best_epoch, epochs_run, stopped_early: the selection.
        metrics: validation metrics of the selected epoch (empty without validation).
        history: one dict per epoch (also in ``log.csv``).
        info: data counts, class weights, devices, leak-check report.
        checksums: SHA-256 of the selected weights on every rank (all equal under DDP).
        temperature: divides the logits at inference (fitted on the validation beats; 1.0 = uncalibrated).
    """

    model: nn.Module
    state: dict
    raw_state: dict
    normalisation: dict
    best_epoch: int
    epochs_run: int
    stopped_early: bool
    metrics: dict
    history: list[dict]
    info: dict
    checksums: list[str] = field(default_factory=list)
    temperature: float = 1.0


# ====================================================================== data
def prepare_data(train: BeatSet, val: BeatSet | None, config: TrainConfig,
                 guard: LeakGuard | None = None) -> PreparedData:
    """Standardise with training statistics and oversample the training beats (never the validation beats)."""
    guard = guard or LeakGuard(())
    labelled = train.y >= 0
    if not labelled.all():
        train = train.subset(labelled)
    if len(train) == 0:
        raise DatasetError("the training set has no labelled beats", fix="check data.records and data.classes")
    guard.check("training", train.patient_id)
    if val is not None:
        val = val.subset(val.y >= 0)
        guard.check("validation", val.patient_id)
        shared = sorted(set(train.patients) & set(val.patients))
        if shared:
            raise DataLeakError(f"validation patients {shared} are also training patients",
                                fix="draw the validation split by patient (validation_split)")
    guard.check("normalisation", train.patient_id)
    stats = fit_normalisation(train.x, train.rr, enabled=config.standardize)
    x, rr = apply_normalisation(train.x, train.rr, stats)
    guard.check("oversampling", train.patient_id)
    x, rr, y, origin = oversample(x, rr, train.y, config.oversample, ratio=config.oversample_ratio,
                                  k_neighbors=config.oversample_k, seed=config.seed)
    val_x = val_rr = val_y = None
    if val is not None and len(val):
        val_x, val_rr = apply_normalisation(val.x, val.rr, stats)
        val_y = val.y
    info = {
        "train_beats": len(train), "train_patients": train.patients, "train_counts": train.class_counts(),
        "fit_beats": int(len(y)),
        "fit_counts": {c: int(np.count_nonzero(y == i)) for i, c in enumerate(train.classes)},
        "val_beats": 0 if val is None else len(val), "val_patients": [] if val is None else val.patients,
        "val_counts": {} if val is None else val.class_counts(), "oversample": config.oversample,
    }
    return PreparedData(x, rr, y, origin, val_x, val_rr, val_y, stats, info)


# =================================================================== metrics
def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray, classes) -> dict:
    """Accuracy, macro-F1 over the classes present in ``y_true``, per-class F1 and the confusion matrix."""
    from sklearn.metrics import confusion_matrix, f1_score

    k = len(classes)
    present = sorted(set(np.asarray(y_true).tolist()))
    macro = float(f1_score(y_true, y_pred, labels=present, average="macro", zero_division=0)) if present else 0.0
    per = f1_score(y_true, y_pred, labels=list(range(k)), average=None, zero_division=0)
    return {
        "accuracy": float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if len(y_true) else 0.0,
        "macro_f1": macro,
        "f1": {c: (float(per[i]) if i in present else None) for i, c in enumerate(classes)},
        "confusion": confusion_matrix(y_true, y_pred, labels=list(range(k))).tolist(),
        "n": int(len(y_true)),
    }


def _loss(loss_fn, logits: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """``loss_fn`` of ``(B, C)`` logits, or the mean over members of stacked ``(k, B, C)`` ones (a mixture
    trained member by member, :mod:`ecgscope.models.mixture`)."""
    if logits.dim() == 3:
        return torch.stack([loss_fn(z, y) for z in logits]).mean()
    return loss_fn(logits, y)


# ================================================================ inference
def _forward(model: nn.Module, x: torch.Tensor, rr: torch.Tensor) -> torch.Tensor:
    return model(x, rr if rr.shape[1] else None)


def _autocast(device: torch.device, amp_dtype: torch.dtype | None):
    """Mixed precision on CUDA when ``amp_dtype`` is set; a no-op otherwise."""
    if amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=amp_dtype)


@torch.no_grad()
def _logits(model: nn.Module, x: np.ndarray, rr: np.ndarray, device: torch.device, batch_size: int = 1024,
            amp_dtype: torch.dtype | None = None) -> torch.Tensor:
    model.eval()
    out = []
    for i in range(0, len(x), batch_size):
        xb = torch.from_numpy(x[i:i + batch_size]).to(device, non_blocking=True)
        rb = torch.from_numpy(rr[i:i + batch_size]).to(device, non_blocking=True)
        with _autocast(device, amp_dtype):
            out.append(_forward(model, xb, rb).float().cpu())
    if not out:
        return torch.zeros(0, 0)
    return torch.cat(out)


def predict_proba(model: nn.Module, beats: BeatSet, normalisation: dict, *, batch_size: int = 1024,
                  device: str | torch.device = "cpu", temperature: float = 1.0) -> np.ndarray:
    """Class probabilities ``(n, K)`` of a beat set, standardised with the model's training statistics.

    ``temperature`` divides the logits (the checkpoint's calibration, :func:`ecgscope.models.card_temperature`).
    """
    x, rr = apply_normalisation(beats.x, beats.rr, normalisation)
    dev = torch.device(device)
    model = model.to(dev)
    logits = _logits(model, x, rr, dev, batch_size)
    if not len(logits):
        return np.zeros((0, len(beats.classes)), np.float32)
    return activate(logits, "softmax", temperature).numpy()


# ================================================================== training
def _param_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (decay if p.ndim > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def _loader(prep: PreparedData, config: TrainConfig, dist: DistContext):
    from torch.utils.data import DataLoader, DistributedSampler, RandomSampler, TensorDataset

    data = TensorDataset(torch.from_numpy(prep.x), torch.from_numpy(prep.rr), torch.from_numpy(prep.y))
    generator = torch.Generator().manual_seed(config.seed)
    if dist.enabled:
        sampler = DistributedSampler(data, num_replicas=dist.world_size, rank=dist.rank, shuffle=True,
                                     seed=config.seed)
    else:
        sampler = RandomSampler(data, generator=generator)
    per_rank = len(data) // dist.world_size
    drop_last = per_rank > config.batch_size  # never a batch of one for BatchNorm, never an empty epoch
    return DataLoader(data, batch_size=config.batch_size, sampler=sampler, drop_last=drop_last,
                      num_workers=config.num_workers, generator=generator,
                      worker_init_fn=_seed_worker if config.num_workers else None,
                      pin_memory=dist.device.type == "cuda", persistent_workers=False)


def _seed_worker(worker_id: int) -> None:
    import random

    seed = torch.initial_seed() % 2**32
    np.random.seed(seed)
    random.seed(seed)


def _reduce_mean(total: float, count: int, dist: DistContext) -> float:
    if dist.enabled:
        import torch.distributed as tdist

        t = torch.tensor([total, float(count)], dtype=torch.float64)
        tdist.all_reduce(t)
        total, count = float(t[0]), int(t[1])
    return total / max(count, 1)


def fit(
    model: nn.Module,
    train: BeatSet,
    val: BeatSet | None,
    config: TrainConfig,
    *,
    out_dir=None,
    guard: LeakGuard | None = None,
    dist: DistContext | None = None,
) -> FitResult:
    """Train ``model`` on ``train``, select the epoch on ``val`` (patients disjoint from ``train``).

    Writes ``log.csv`` (and TensorBoard logs when available) to ``out_dir`` on
    rank 0. Without ``val`` every epoch runs and the last is kept.
    """
    dist = dist or DistContext(device=pick_device(config.device))
    device = dist.device
    guard = guard or LeakGuard(())
    seed_everything(config.seed)  # dropout and any other global draws
    prep = prepare_data(train, val, config, guard)
    classes = train.classes
    n_classes = len(classes)
    weights = class_weights(prep.y, n_classes, config.class_weights)  # of the beats actually fitted
    loss_fn = build_loss(config.loss, weights, gamma=config.focal_gamma,
                         label_smoothing=config.label_smoothing).to(device)
    eval_loss = build_loss(config.loss, weights, gamma=config.focal_gamma).to(device)

    use_cuda = device.type == "cuda"
    use_amp = config.amp and use_cuda
    amp_dtype = (torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16) if use_amp else None
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)

    if callable(getattr(model, "prepare", None)):  # a model's own fitted parts (MiniRocket): training beats
        guard.check("model preparation", train.patient_id)
        model.prepare(prep.x, prep.rr)
    module = model.to(device)
    ema = ModelEMA(module, config.ema_decay) if config.ema else None
    net: nn.Module = module
    if dist.enabled:
        from torch.nn.parallel import DistributedDataParallel as DDP

        net = DDP(module, device_ids=[device.index] if use_cuda else None)
    if config.compile and use_cuda:
        net = torch.compile(net)

    loader = _loader(prep, config, dist)
    steps = len(loader) if config.max_steps_per_epoch is None else min(len(loader), config.max_steps_per_epoch)
    steps = max(steps, 1)
    optimizer = torch.optim.AdamW(_param_groups(module, config.weight_decay), lr=config.lr)
    scheduler = warmup_cosine(optimizer, int(round(config.warmup_epochs * steps)), config.epochs * steps,
                              config.min_lr_ratio)
    logger = RunLogger(out_dir, tensorboard=config.tensorboard, enabled=dist.is_main)
    show = config.progress and dist.is_main
    if show:
        from tqdm.auto import tqdm

    best = BestEpoch(config.min_delta)
    history: list[dict] = []
    stopped = False
    try:
        for epoch in range(1, config.epochs + 1):
            t0 = time.perf_counter()
            net.train()
            if dist.enabled:
                loader.sampler.set_epoch(epoch)
            total, count = 0.0, 0
            bar = None
            if show:
                bar = tqdm(total=steps, desc=f"epoch {epoch}/{config.epochs}", leave=False, unit="batch")
            for step, (xb, rb, yb) in enumerate(loader):
                if step >= steps:
                    break
                xb, rb, yb = (t.to(device, non_blocking=True) for t in (xb, rb, yb))
                with _autocast(device, amp_dtype):
                    loss = _loss(loss_fn, _forward(net, xb, rb).float(), yb)
                optimizer.zero_grad(set_to_none=True)
                scaler.scale(loss).backward()
                if config.grad_clip is not None:
                    scaler.unscale_(optimizer)
                    nn.utils.clip_grad_norm_(module.parameters(), config.grad_clip)
                scaler.step(optimizer)
                scaler.update()
                scheduler.step()
                if ema is not None:
                    ema.update(module)
                total += float(loss.detach()) * len(yb)
                count += len(yb)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(loss=f"{total / max(count, 1):.4f}")
            if bar is not None:
                bar.close()
            sync_buffers(module, dist)  # identical BatchNorm statistics on every rank
            if ema is not None:
                sync_buffers(ema.module, dist)
            row: dict[str, Any] = {"epoch": epoch, "lr": optimizer.param_groups[0]["lr"],
                                   "train_loss": _reduce_mean(total, count, dist)}
            judged = ema.module if ema is not None else module
            score, metrics = None, {}
            if prep.val_x is not None:
                logits = _logits(judged, prep.val_x, prep.val_rr, device, amp_dtype=amp_dtype)
                row["val_loss"] = float(eval_loss(logits.to(device), torch.from_numpy(prep.val_y).to(device)))
                metrics = classification_metrics(prep.val_y, logits.argmax(1).numpy(), classes)
                metrics["loss"] = row["val_loss"]
                score = row["val_macro_f1"] = metrics["macro_f1"]
                row["val_accuracy"] = metrics["accuracy"]
                for c, v in metrics["f1"].items():
                    row[f"val_f1_{c}"] = "" if v is None else v
            best.offer(epoch, score, state=partial(cpu_state, judged), raw=partial(cpu_state, module),
                       metrics=partial(dict, metrics))
            row["best_epoch"] = best.epoch
            row["seconds"] = time.perf_counter() - t0
            history.append(row)
            logger.log(row)
            if prep.val_x is not None and best.exhausted(config.patience):
                stopped = epoch < config.epochs
                break
    finally:
        logger.close()

    final = copy.deepcopy(ema.module if ema is not None else module).cpu()
    final.load_state_dict(best.kept["state"])
    final.eval()
    temperature = 1.0
    if config.calibration == "temperature" and prep.val_x is not None:
        val_logits = _logits(final, prep.val_x, prep.val_rr, torch.device("cpu"))
        temperature = fit_temperature(val_logits.numpy(), prep.val_y)
    checksum = state_checksum(best.kept["state"])
    checksums = gather_strings(dist, checksum)
    info = {**prep.info, "class_weights": weights.tolist(), "device": str(device), "amp": bool(use_amp),
            "compile": bool(config.compile and use_cuda), "world_size": dist.world_size, "steps_per_epoch": steps,
            "leak_check": guard.report()}
    return FitResult(final, best.kept["state"], best.kept["raw"], prep.normalisation, best.epoch, len(history),
                     stopped, best.kept["metrics"], history, info, checksums, temperature)

