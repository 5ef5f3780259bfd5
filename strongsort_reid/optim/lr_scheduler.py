"""``build_lr_scheduler``: per-epoch learning-rate schedules with optional warmup.

Every schedule is written in closed form, ``lr(e) = base_lr * warmup(e) * decay(e)`` for the
0-based epoch ``e`` (``scheduler.step()`` once at the end of each epoch, as torchreid does), so
the whole state is the epoch counter: ``state_dict()``/``load_state_dict()`` make a resumed run
use exactly the learning rates of an uninterrupted one.

* ``single_step``: ``decay(e) = gamma ** (e // stepsize)``
* ``multi_step``: ``decay(e) = gamma ** (number of milestones <= e)``
* ``cosine``: ``decay(e) = (1 + cos(pi * t / T)) / 2`` with ``t = e - warmup_epochs`` (clamped to
  ``[0, T]``) and ``T = max_epoch - warmup_epochs``: cosine annealing to 0 after the warmup.
* warmup for ``e < warmup_epochs``: ``linear`` ramps ``warmup_factor -> 1``
  (``warmup_factor + (1 - warmup_factor) * e / warmup_epochs``); ``constant`` holds
  ``warmup_factor``. The step schedules count their epochs from 0 (milestones are absolute), as
  in the "bag of tricks" ``WarmupMultiStepLR``.
"""

from __future__ import annotations

import bisect
import math
from typing import List, Sequence, Union

import torch
from torch.optim.lr_scheduler import LRScheduler

__all__ = [
    "AVAILABLE_SCHEDULERS",
    "AVAILABLE_WARMUP_METHODS",
    "WarmupLRScheduler",
    "build_lr_scheduler",
]

AVAILABLE_SCHEDULERS = ("single_step", "multi_step", "cosine")
AVAILABLE_WARMUP_METHODS = ("linear", "constant")


class WarmupLRScheduler(LRScheduler):
    """Closed-form epoch schedule (see the module docstring); build it with
    :func:`build_lr_scheduler`.

    Args:
        optimizer: the optimizer; each parameter group's initial ``lr`` is its base lr.
        lr_scheduler: ``single_step``, ``multi_step`` or ``cosine``.
        milestones: sorted decay epochs (``single_step`` uses ``[stepsize]`` as a period).
        gamma: decay factor of the step schedules.
        max_epoch: training length (``cosine`` only).
        warmup_epochs: number of warmup epochs (0: none).
        warmup_factor: lr multiplier at epoch 0 of the warmup.
        warmup_method: ``linear`` or ``constant``.
        last_epoch: index of the last finished epoch (-1 starts a fresh schedule).
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        lr_scheduler: str,
        milestones: List[int],
        gamma: float,
        max_epoch: int,
        warmup_epochs: int,
        warmup_factor: float,
        warmup_method: str,
        last_epoch: int = -1,
    ) -> None:
        self.lr_scheduler = lr_scheduler
        self.milestones = list(milestones)
        self.gamma = gamma
        self.max_epoch = max_epoch
        self.warmup_epochs = warmup_epochs
        self.warmup_factor = warmup_factor
        self.warmup_method = warmup_method
        super().__init__(optimizer, last_epoch)

    def factor(self, epoch: int) -> float:
        """Multiplier of the base learning rates during ``epoch`` (0-based)."""
        return self._warmup(epoch) * self._decay(epoch)

    def get_lr(self) -> List[float]:
        factor = self.factor(self.last_epoch)
        return [base_lr * factor for base_lr in self.base_lrs]

    def _get_closed_form_lr(self) -> List[float]:
        return self.get_lr()

    def _warmup(self, epoch: int) -> float:
        if epoch >= self.warmup_epochs:
            return 1.0
        if self.warmup_method == "constant":
            return self.warmup_factor
        alpha = epoch / self.warmup_epochs
        return self.warmup_factor * (1 - alpha) + alpha

    def _decay(self, epoch: int) -> float:
        if self.lr_scheduler == "single_step":
            return self.gamma ** (epoch // self.milestones[0])
        if self.lr_scheduler == "multi_step":
            return self.gamma ** bisect.bisect_right(self.milestones, epoch)
        span = self.max_epoch - self.warmup_epochs
        t = min(max(epoch - self.warmup_epochs, 0), span)
        return 0.5 * (1.0 + math.cos(math.pi * t / span))


def build_lr_scheduler(
    optimizer: torch.optim.Optimizer,
    lr_scheduler: str = "single_step",
    stepsize: Union[int, Sequence[int]] = 1,
    gamma: float = 0.1,
    max_epoch: int = 1,
    warmup_epochs: int = 0,
    warmup_factor: float = 0.01,
    warmup_method: str = "linear",
) -> WarmupLRScheduler:
    """Build a per-epoch learning-rate scheduler (call ``step()`` once per epoch).

    Args:
        optimizer: the optimizer to drive.
        lr_scheduler: ``single_step``, ``multi_step`` or ``cosine``.
        stepsize: ``single_step``: decay period in epochs (an int; for a list its last element
            is used, as torchreid does); ``multi_step``: the milestone epochs (a list; an int is
            taken as a single milestone).
        gamma: decay factor of the step schedules.
        max_epoch: total number of epochs (``cosine`` anneals to 0 at ``max_epoch``).
        warmup_epochs: epochs of warmup before the schedule (0 disables it).
        warmup_factor: lr multiplier at the first warmup epoch, in ``(0, 1]``.
        warmup_method: ``linear`` or ``constant``.

    Returns:
        A :class:`WarmupLRScheduler` (a ``torch.optim.lr_scheduler.LRScheduler``).

    Raises:
        ValueError: an unknown scheduler or warmup method (the message lists the valid names),
            or an out-of-range numeric argument.

    Example:
        >>> sched = build_lr_scheduler(opt, "multi_step", stepsize=[40, 70], max_epoch=120,
        ...                            warmup_epochs=10)
    """
    if lr_scheduler not in AVAILABLE_SCHEDULERS:
        raise ValueError(
            f"unknown lr_scheduler {lr_scheduler!r}; valid schedulers: {list(AVAILABLE_SCHEDULERS)}"
        )
    if warmup_method not in AVAILABLE_WARMUP_METHODS:
        raise ValueError(
            f"unknown warmup_method {warmup_method!r}; "
            f"valid methods: {list(AVAILABLE_WARMUP_METHODS)}"
        )
    if warmup_epochs < 0:
        raise ValueError(f"warmup_epochs must be >= 0, got {warmup_epochs}")
    if warmup_epochs > 0 and not 0 < warmup_factor <= 1:
        raise ValueError(f"warmup_factor must be in (0, 1], got {warmup_factor}")
    if gamma <= 0:
        raise ValueError(f"gamma must be > 0, got {gamma}")

    steps = [stepsize] if isinstance(stepsize, int) else [int(s) for s in stepsize]
    if lr_scheduler == "single_step":
        if not steps:
            raise ValueError("stepsize must be a positive int for single_step")
        milestones = steps[-1:]
        if milestones[0] < 1:
            raise ValueError(f"stepsize must be >= 1 for single_step, got {milestones[0]}")
    elif lr_scheduler == "multi_step":
        milestones = sorted(steps)
        if not milestones:
            raise ValueError("stepsize must list at least one milestone for multi_step")
    else:
        milestones = []
        if max_epoch <= warmup_epochs:
            raise ValueError(
                f"cosine needs max_epoch > warmup_epochs, got {max_epoch} and {warmup_epochs}"
            )
    return WarmupLRScheduler(
        optimizer,
        lr_scheduler=lr_scheduler,
        milestones=milestones,
        gamma=float(gamma),
        max_epoch=int(max_epoch),
        warmup_epochs=int(warmup_epochs),
        warmup_factor=float(warmup_factor),
        warmup_method=warmup_method,
    )
