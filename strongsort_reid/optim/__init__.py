"""Optimizers and learning-rate schedules for ReID training (torchreid builder API)."""

from strongsort_reid.optim.lr_scheduler import (
    AVAILABLE_SCHEDULERS,
    AVAILABLE_WARMUP_METHODS,
    WarmupLRScheduler,
    build_lr_scheduler,
)
from strongsort_reid.optim.optimizer import AVAILABLE_OPTIMIZERS, build_optimizer

__all__ = [
    "AVAILABLE_OPTIMIZERS",
    "AVAILABLE_SCHEDULERS",
    "AVAILABLE_WARMUP_METHODS",
    "WarmupLRScheduler",
    "build_lr_scheduler",
    "build_optimizer",
]
