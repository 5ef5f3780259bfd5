"""DistributedDataParallel support: process-group setup and rank helpers.

Launch with ``torchrun --nproc_per_node=<gpus> scripts/train_reid.py ...`` (or several nodes
with ``--nnodes``/``--rdzv-endpoint``). torchrun sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; :func:`init_distributed` reads them and joins the process group (NCCL on
GPUs, gloo on CPUs). The engine then wraps its models in DDP; only process 0 logs,
evaluates and writes checkpoints. The training data is sharded by the ``ImageDataManager``
(``num_replicas=world_size, rank=rank``, the same ``seed`` everywhere): every process draws
the same epoch order and keeps its own whole batches.
"""

from __future__ import annotations

import logging
import os
from typing import Any, Optional

import torch
import torch.distributed as dist

__all__ = [
    "barrier",
    "broadcast_object",
    "get_rank",
    "get_world_size",
    "init_distributed",
    "is_distributed",
    "is_main_process",
]

logger = logging.getLogger(__name__)


def is_distributed() -> bool:
    """True inside an initialised process group with more than one process."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def get_rank() -> int:
    """This process's global rank (0 when not distributed)."""
    return dist.get_rank() if is_distributed() else 0


def get_world_size() -> int:
    """Number of processes (1 when not distributed)."""
    return dist.get_world_size() if is_distributed() else 1


def is_main_process() -> bool:
    """True on rank 0 (and always when not distributed)."""
    return get_rank() == 0


def barrier() -> None:
    """Wait for every process (no-op when not distributed)."""
    if is_distributed():
        dist.barrier()


def broadcast_object(obj: Any, src: int = 0) -> Any:
    """Return rank ``src``'s ``obj`` on every process (``obj`` itself when not distributed)."""
    if not is_distributed():
        return obj
    payload = [obj]
    dist.broadcast_object_list(payload, src=src)
    return payload[0]


def init_distributed(backend: Optional[str] = None) -> bool:
    """Join the process group described by torchrun's environment variables.

    Args:
        backend: ``"nccl"``, ``"gloo"``, or ``None`` for NCCL when CUDA is available, else gloo.

    Returns:
        True when this process is now part of a group of more than one process; False when
        ``WORLD_SIZE`` is unset or 1 (a plain single-process run).

    Raises:
        ValueError: ``WORLD_SIZE`` > 1 but ``RANK`` or ``LOCAL_RANK`` is missing.
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return False
    if dist.is_initialized():
        return is_distributed()
    for name in ("RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        if name not in os.environ:
            raise ValueError(
                f"WORLD_SIZE={world_size} but {name} is not set: launch with torchrun, which sets "
                "RANK, LOCAL_RANK, MASTER_ADDR and MASTER_PORT"
            )
    if backend is None:
        backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        # One GPU per process: bind it before NCCL creates its communicators.
        torch.cuda.set_device(int(os.environ["LOCAL_RANK"]))
    dist.init_process_group(backend=backend, init_method="env://")
    logger.info("Process %d of %d joined the %s process group", get_rank(), world_size, backend)
    return True
