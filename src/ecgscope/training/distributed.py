"""DistributedDataParallel through ``torchrun``: process group setup, rank checks, weight checksums.

Launch any training with ``torchrun --nproc_per_node N -m ecgscope train ...``;
torchrun sets ``WORLD_SIZE``/``RANK``/``LOCAL_RANK`` and this module joins the
group (NCCL on CUDA, gloo on CPU). Every rank builds the same data and
oversamples with the same seed; a ``DistributedSampler`` shards the batches,
gradients are all-reduced, and all ranks evaluate the same validation set, so
early stopping is identical everywhere. BatchNorm running statistics, which
each rank updates on its own shard, are averaged over the ranks after every
epoch (:func:`sync_buffers`), so all ranks end with the same weights. Only
rank 0 writes files.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass

import torch

__all__ = ["DistContext", "pick_device", "setup_distributed", "cleanup_distributed", "state_checksum",
           "gather_strings", "sync_buffers"]


@dataclass
class DistContext:
    """Where this process stands: ``rank`` of ``world_size`` and its ``device``."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    initialised_here: bool = False

    @property
    def enabled(self) -> bool:
        """True in a multi-process run."""
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        """True on rank 0 (the one that writes)."""
        return self.rank == 0


def pick_device(preference: str = "auto", local_rank: int = 0) -> torch.device:
    """``"auto"`` -> CUDA (this rank's GPU) when available, else CPU; ``"cuda"`` without CUDA is a ConfigError."""
    if preference == "cpu" or (preference == "auto" and not torch.cuda.is_available()):
        return torch.device("cpu")
    if not torch.cuda.is_available():
        from ..errors import ConfigError

        raise ConfigError(f"device={preference!r} (train.device in a beat config) but CUDA is not available",
                          fix="use device auto or cpu")
    if preference.startswith("cuda:"):
        return torch.device(preference)
    return torch.device("cuda", local_rank)


def setup_distributed(device: str = "auto") -> DistContext:
    """Join the torchrun process group when ``WORLD_SIZE > 1``; else a single-process context."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    local = int(os.environ.get("LOCAL_RANK", "0"))
    dev = pick_device(device, local)
    if world <= 1:
        return DistContext(0, 1, 0, dev)
    import torch.distributed as dist

    here = False
    if not dist.is_initialized():
        if dev.type == "cuda":
            torch.cuda.set_device(dev)
        dist.init_process_group(backend="nccl" if dev.type == "cuda" else "gloo")
        here = True
    return DistContext(dist.get_rank(), dist.get_world_size(), local, dev, here)


def cleanup_distributed(ctx: DistContext) -> None:
    """Leave the process group if this module joined it."""
    if ctx.enabled and ctx.initialised_here:
        import torch.distributed as dist

        if dist.is_initialized():
            dist.destroy_process_group()


def state_checksum(state: dict) -> str:
    """SHA-256 over a state dict's names and tensor bytes (CPU, contiguous)."""
    h = hashlib.sha256()
    for name in sorted(state):
        t = state[name].detach().cpu().contiguous()
        h.update(name.encode())
        h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()


def gather_strings(ctx: DistContext, value: str) -> list[str]:
    """``value`` of every rank, in rank order (``[value]`` when not distributed)."""
    if not ctx.enabled:
        return [value]
    import torch.distributed as dist

    out: list = [None] * ctx.world_size
    dist.all_gather_object(out, value)
    return [str(v) for v in out]


@torch.no_grad()
def sync_buffers(module: torch.nn.Module, ctx: DistContext) -> None:
    """Average floating buffers (BatchNorm running stats) over the ranks; copy integer ones from rank 0."""
    if not ctx.enabled:
        return
    import torch.distributed as dist

    for buf in module.buffers():
        if buf.dtype.is_floating_point:
            dist.all_reduce(buf, op=dist.ReduceOp.SUM)
            buf.div_(ctx.world_size)
        else:
            dist.broadcast(buf, src=0)
