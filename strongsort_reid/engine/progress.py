"""What the training loop reports: the progress bar, the per-iteration and per-epoch log lines
and the tensorboard curves.

Every message goes to the ``strongsort_reid.engine.engine`` logger (:data:`ENGINE_LOGGER`),
the name the engine has always logged under, so log filters and the ``%(name)s`` field of a
training log stay the same whichever module of the engine a message comes from.
"""

from __future__ import annotations

import datetime
import logging
import os
import time
from typing import Any, Dict, Mapping, Optional, Union

from tqdm import tqdm

from strongsort_reid.engine.evaluation import count_skipped
from strongsort_reid.engine.meters import AverageMeter, MetricMeter

__all__ = ["ENGINE_LOGGER", "EpochProgress", "create_summary_writer", "write_train_scalars"]

ENGINE_LOGGER = "strongsort_reid.engine.engine"

logger = logging.getLogger(ENGINE_LOGGER)

PathLike = Union[str, os.PathLike]


def create_summary_writer(log_dir: PathLike) -> Optional[Any]:
    """A tensorboard ``SummaryWriter`` for ``log_dir``, or ``None`` without tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logger.warning("tensorboard is not installed: no learning curves (pip install tensorboard)")
        return None
    return SummaryWriter(log_dir=str(log_dir))


def write_train_scalars(
    writer: Any, step: int, summary: Mapping[str, float], learning_rates: Mapping[str, float]
) -> None:
    """Write one iteration's statistics and learning rates to tensorboard.

    Args:
        writer: A tensorboard ``SummaryWriter``.
        step: Global iteration index (``epoch * num_batches + batch_idx``).
        summary: ``{statistic: value}`` that ``forward_backward`` returned.
        learning_rates: ``{registered model name: lr}``; the main model's is ``Train/lr``.
    """
    for name, value in summary.items():
        writer.add_scalar(f"Train/{name}", value, step)
    for name, lr in learning_rates.items():
        tag = "Train/lr" if name == "model" else f"Train/lr_{name}"
        writer.add_scalar(tag, lr, step)


class EpochProgress:
    """Timings, running means, skipped-image count and progress bar of one training epoch.

    The loop calls :meth:`batch_loaded` when a batch arrives, :meth:`batch_done` after its
    optimisation step and :meth:`next_batch` last, so the time spent logging counts neither
    as data time nor as batch time.

    Args:
        epoch: 0-based epoch index.
        max_epoch: Epochs of the run (0 when ``Engine.train`` is called on its own).
        num_batches: Iterations in the epoch.
        show_bar: Draw a tqdm bar (the main process on a terminal).

    Attributes:
        meters: Running means of the statistics ``forward_backward`` returned.
        skipped: Samples of this epoch whose image failed to decode and was replaced.
    """

    def __init__(self, epoch: int, max_epoch: int, num_batches: int, show_bar: bool) -> None:
        self.epoch = epoch
        self.max_epoch = max_epoch
        self.num_batches = num_batches
        self.meters = MetricMeter()
        self.batch_time = AverageMeter()
        self.data_time = AverageMeter()
        self.skipped = 0
        self._bar = tqdm(
            total=num_batches,
            desc=f"epoch {epoch + 1}/{self._shown_max_epoch}",
            disable=not show_bar,
            leave=False,
        )
        self._start = self._end = time.time()

    @property
    def _shown_max_epoch(self) -> int:
        # A lone ``train`` call has max_epoch 0: show the epoch itself as the last one.
        return max(self.max_epoch, self.epoch + 1)

    def batch_loaded(self, data: Dict[str, Any]) -> None:
        """Record the time spent waiting for ``data`` and its undecodable images."""
        self.data_time.update(time.time() - self._end)
        self.skipped += count_skipped(data)

    def batch_done(self, summary: Mapping[str, float]) -> None:
        """Record the batch's time and statistics and advance the bar."""
        self.batch_time.update(time.time() - self._end)
        self.meters.update(summary)
        self._bar.update(1)
        self._bar.set_postfix({k: f"{v:.3f}" for k, v in summary.items()})

    def next_batch(self) -> None:
        """Start timing the next batch."""
        self._end = time.time()

    def log_iteration(self, batch_idx: int, lr: float) -> None:
        """Log timings, statistics, learning rate and the run's remaining time."""
        remaining = self.batch_time.avg * (
            self.num_batches
            - batch_idx
            - 1
            + (self.max_epoch - self.epoch - 1) * self.num_batches
        )
        logger.info(
            "epoch [%d/%d][%d/%d]  time %.3f (%.3f)  data %.3f (%.3f)  %s  lr %.6f  eta %s",
            self.epoch + 1,
            self._shown_max_epoch,
            batch_idx + 1,
            self.num_batches,
            self.batch_time.val,
            self.batch_time.avg,
            self.data_time.val,
            self.data_time.avg,
            self.meters,
            lr,
            datetime.timedelta(seconds=max(0, round(remaining))),
        )

    def close(self) -> None:
        """Remove the progress bar."""
        self._bar.close()

    def finish(self, lr: float) -> Dict[str, float]:
        """Close the bar, log the epoch's summary line and return the epoch means."""
        self.close()
        averages = self.meters.averages()
        # Always one line per epoch: with few batches or no TTY (no progress bar) the
        # per-iteration lines may never come.
        logger.info(
            "epoch [%d/%d] done in %s: %d iterations  %s  lr %.6f",
            self.epoch + 1,
            self._shown_max_epoch,
            datetime.timedelta(seconds=round(time.time() - self._start)),
            self.meters.count,
            "  ".join(f"{name} {value:.4f}" for name, value in averages.items()),
            lr,
        )
        return averages

    def log_skipped(self, total: int) -> None:
        """Warn about this epoch's undecodable images; ``total``: the run's count so far."""
        logger.warning(
            "epoch %d: %d undecodable image(s) were skipped and replaced by other images "
            "(%d in this run so far)",
            self.epoch + 1,
            self.skipped,
            total,
        )
