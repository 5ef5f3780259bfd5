"""Training checkpoints in torchreid's format, and exact resumption.

A checkpoint ``model.pth.tar-N`` is written after ``N`` finished epochs and holds:

* ``state_dict``: the model weights, without DataParallel/DDP ``module.`` prefixes (the file
  loads by path into a plain model, e.g. for the tracker),
* ``epoch``: ``N`` (the epoch to start from when resuming), ``rank1``: the rank-1 accuracy
  in ``[0, 1]`` of the evaluation that preceded the save (``nan`` when none ran),
* ``optimizer`` and ``scheduler``: their ``state_dict()`` (``None`` when absent),
* ``scaler``: the AMP ``GradScaler`` state (empty on CPU),
* ``rng_state``: every global random generator (:func:`~.seeding.capture_rng_state`), so a
  resumed run draws the same batches and augmentations as an uninterrupted one.

Everything in it loads with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch
from torch import nn

from strongsort_reid.engine.seeding import capture_rng_state, restore_rng_state
from strongsort_reid.utils.checkpoint import extract_state_dict, load_checkpoint, save_checkpoint

__all__ = [
    "CHECKPOINT_PREFIX",
    "CheckpointMismatchError",
    "build_checkpoint",
    "checkpoint_path",
    "resume_from_checkpoint",
    "unwrap_model",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]
CHECKPOINT_PREFIX = "model.pth.tar-"


class CheckpointMismatchError(ValueError, RuntimeError):
    """A training checkpoint does not fit the model (a ``ValueError`` for the command line, a
    ``RuntimeError`` as ``load_state_dict`` raises)."""


def unwrap_model(model: nn.Module) -> nn.Module:
    """The network inside a ``DataParallel``/``DistributedDataParallel`` wrapper (or itself)."""
    while isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        model = model.module
    return model


def checkpoint_path(save_dir: PathLike, epoch: int) -> Path:
    """``save_dir / "model.pth.tar-<epoch>"`` (torchreid's name; ``epoch`` = finished epochs)."""
    return Path(save_dir) / f"{CHECKPOINT_PREFIX}{epoch}"


def build_checkpoint(
    model: nn.Module,
    epoch: int,
    rank1: Optional[float] = None,
    optimizer: Optional[torch.optim.Optimizer] = None,
    scheduler: Optional[Any] = None,
    scaler: Optional[torch.amp.GradScaler] = None,
) -> Dict[str, Any]:
    """Assemble a checkpoint dict (see the module docstring) capturing the RNG state now.

    Args:
        model: The network (wrappers are removed).
        epoch: Number of finished epochs.
        rank1: Rank-1 accuracy in ``[0, 1]``, or ``None`` when no evaluation ran.
        optimizer: Optimizer whose state to keep.
        scheduler: Learning-rate scheduler whose state to keep.
        scaler: AMP gradient scaler whose state to keep.
    """
    if not isinstance(epoch, int) or epoch < 0:
        raise ValueError(f"epoch must be a non-negative int, got {epoch!r}")
    state_dict = unwrap_model(model).state_dict()
    return {
        # contiguous: a channels-last network (Engine(channels_last=True)) saves plain tensors.
        "state_dict": {
            key: value.detach().cpu().contiguous() for key, value in state_dict.items()
        },
        "epoch": epoch,
        "rank1": float("nan") if rank1 is None else float(rank1),
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "scheduler": None if scheduler is None else scheduler.state_dict(),
        "scaler": None if scaler is None else scaler.state_dict(),
        "rng_state": capture_rng_state(),
    }


def save_training_checkpoint(state: Dict[str, Any], save_dir: PathLike) -> Path:
    """Write ``state`` atomically to ``save_dir/model.pth.tar-<state['epoch']>``."""
    path = save_checkpoint(state, checkpoint_path(save_dir, state["epoch"]))
    logger.info("Checkpoint saved to %s", path)
    return path


def resume_from_checkpoint(
    path: PathLike,
    model: nn.Module,
    optimizer: Optional[torch.optim.Optimizer] = None,
    scheduler: Optional[Any] = None,
    scaler: Optional[torch.amp.GradScaler] = None,
    restore_rng: bool = True,
) -> int:
    """Restore a training run from a ``model.pth.tar-N`` checkpoint.

    Call it after the model, optimizer, scheduler (and engine) are built and right before
    ``engine.run(start_epoch=...)``, so nothing draws random numbers in between.

    Args:
        path: The checkpoint file.
        model: Receives the weights (strict: every key must match; wrappers are fine).
        optimizer: Receives the optimizer state, when given.
        scheduler: Receives the scheduler state, when given.
        scaler: Receives the AMP gradient-scaler state, when given.
        restore_rng: Restore the Python/numpy/torch generators saved in the checkpoint.

    Returns:
        The epoch to start from (the number of epochs the checkpoint had finished).

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file is not a training checkpoint, or lacks a requested state.
        CheckpointMismatchError: the weights do not fit ``model`` (a ``ValueError`` and a
            ``RuntimeError``).
    """
    checkpoint = load_checkpoint(path)
    if "epoch" not in checkpoint or "state_dict" not in checkpoint:
        raise ValueError(
            f"{path} is not a training checkpoint: it needs 'state_dict' and 'epoch' keys "
            f"(found {sorted(checkpoint)}); to initialise from plain weights use "
            "strongsort_reid.utils.load_pretrained_weights"
        )
    try:
        unwrap_model(model).load_state_dict(extract_state_dict(checkpoint, str(path)))
    except RuntimeError as exc:  # missing, unexpected or mis-shaped tensors
        details = [line.strip().rstrip(".") for line in str(exc).strip().splitlines()]
        raise CheckpointMismatchError(
            f"{path} does not fit the model being trained ({type(unwrap_model(model)).__name__}"
            f"): {'; '.join(details[1:4]) or details[0]}. Resume with the same model.name "
            "(and bnneck/last_stride) that wrote the checkpoint"
        ) from None
    for name, target in (("optimizer", optimizer), ("scheduler", scheduler)):
        if target is None:
            continue
        if checkpoint.get(name) is None:
            raise ValueError(f"{path} holds no {name} state to resume from")
        target.load_state_dict(checkpoint[name])
    # A disabled (CPU) scaler saves an empty state; a GPU run resumed from it starts afresh.
    if scaler is not None and checkpoint.get("scaler"):
        scaler.load_state_dict(checkpoint["scaler"])
    if restore_rng:
        if "rng_state" in checkpoint:
            restore_rng_state(checkpoint["rng_state"])
        else:
            logger.warning("%s holds no RNG state: the resumed run will not repeat exactly", path)
    epoch = int(checkpoint["epoch"])
    rank1 = float(checkpoint.get("rank1", float("nan")))
    logger.info(
        "Resumed from %s: %d finished epochs, last rank-1 %s",
        path,
        epoch,
        "n/a" if math.isnan(rank1) else f"{rank1:.1%}",
    )
    return epoch
