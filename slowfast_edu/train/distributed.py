"""Scaling out with PyTorch's own engine:
`torchrun --nproc_per_node=N -m slowfast_edu.cli train ...`.

torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; we join the process group (NCCL on GPUs, gloo on
CPUs), each process trains on its share of every batch, DistributedDataParallel averages the
gradients, and only rank 0 writes checkpoints, metrics and plots.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Context:
    """Where this process stands: its rank, the number of processes, its device."""

    rank: int = 0
    world_size: int = 1
    device: torch.device = torch.device("cpu")

    @property
    def is_main(self) -> bool:
        """Rank 0 does the writing."""
        return self.rank == 0


def setup(device: str | None = None) -> Context:
    """Join the process group when launched by torchrun; a single process otherwise."""
    check_device(device)
    cuda = torch.cuda.is_available() if device is None else device.startswith("cuda")
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size == 1:
        return Context(device=torch.device(device or ("cuda" if cuda else "cpu")))
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return Context(rank, world_size, torch.device(f"cuda:{local_rank}" if cuda else "cpu"))


def check_device(device: str | None) -> None:
    """Refuse a device torch cannot use here, saying why (a `ConfigError`)."""
    from .config import ConfigError

    if device is None:
        return
    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise ConfigError(f"--device {device}: not a device; use cpu or cuda (cuda:1, ...)") \
            from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"--device {device}: torch sees no CUDA GPU here "
                          f"(torch.cuda.is_available() is False); use --device cpu, or leave "
                          f"--device out to use a GPU only when there is one")


def all_reduce_sum(values: list[float], ctx: Context) -> list[float]:
    """Sum numbers over all processes (loss and accuracy counts for the log)."""
    if ctx.world_size == 1:
        return values
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device)
    dist.all_reduce(t)
    return t.tolist()


def barrier(ctx: Context) -> None:
    """Wait for every process."""
    if ctx.world_size > 1:
        dist.barrier()


def cleanup() -> None:
    """Leave the process group."""
    if dist.is_initialized():
        dist.destroy_process_group()
