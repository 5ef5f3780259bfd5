"""When and how the engine writes its training checkpoints.

:class:`CheckpointHooksMixin` is the checkpoint half of :class:`~.engine.Engine`: after each
epoch :meth:`~CheckpointHooksMixin._checkpoint_hook` decides whether to evaluate and save or
only save, and :meth:`~CheckpointHooksMixin.save_model` writes one ``model.pth.tar-N`` per
registered network (the file format is :mod:`.checkpointing`'s).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple, Union

import torch

from strongsort_reid.engine.checkpointing import build_checkpoint, save_training_checkpoint
from strongsort_reid.engine.progress import ENGINE_LOGGER

__all__ = ["CheckpointHooksMixin"]

PathLike = Union[str, os.PathLike]

logger = logging.getLogger(ENGINE_LOGGER)


class CheckpointHooksMixin:
    """Checkpoint writing of the engine.

    Uses the engine's :attr:`is_main`, :attr:`scaler`, the registered networks with their
    optimizers and schedulers, and :meth:`test`; sets :attr:`last_checkpoint`.
    """

    is_main: bool
    scaler: torch.amp.GradScaler
    last_checkpoint: Optional[Path]
    test: Callable[..., float]
    _models: Dict[str, torch.nn.Module]
    _optims: Dict[str, torch.optim.Optimizer]
    _scheds: Dict[str, Any]

    def _checkpoint_hook(
        self, epoch: int, schedule: Tuple[int, int, int], test_kwargs: Dict[str, Any]
    ) -> None:
        """After epoch ``epoch`` (not the last): evaluate and save every ``eval_freq`` epochs
        from ``start_eval`` on, otherwise save without evaluating every ``save_freq`` epochs.

        Args:
            schedule: ``(start_eval, eval_freq, save_freq)`` as ``Engine.run`` takes them.
            test_kwargs: The arguments of :meth:`test` (``save_dir`` included).
        """
        start_eval, eval_freq, save_freq = schedule
        finished = epoch + 1
        save_dir = test_kwargs["save_dir"]
        if eval_freq > 0 and finished >= start_eval and finished % eval_freq == 0:
            self._save_then_evaluate(epoch, test_kwargs)
        elif save_freq > 0 and finished % save_freq == 0:
            self.save_model(epoch, None, save_dir)

    def _save_then_evaluate(self, epoch: int, test_kwargs: Dict[str, Any]) -> None:
        """Save the weights after epoch ``epoch``, then evaluate; when the evaluation scored a
        target the checkpoint is written again with its rank-1.

        Saving first means that an evaluation that fails (or is interrupted) loses no
        training: the error is logged with the checkpoint's path and raised again.
        """
        save_dir = test_kwargs["save_dir"]
        path = self.save_model(epoch, None, save_dir)
        try:
            rank1 = self.test(**test_kwargs)
        except BaseException:
            if path is not None:
                logger.error(
                    "Evaluation after epoch %d failed; the weights of that epoch are saved "
                    "in %s", epoch + 1, path,
                )
            raise
        if not math.isnan(rank1):
            self.save_model(epoch, rank1, save_dir)

    def save_model(self, epoch: int, rank1: Optional[float], save_dir: PathLike) -> Optional[Path]:
        """Write ``<save_dir>/<name>/model.pth.tar-<epoch + 1>`` for every registered model.

        Only the main process writes; each file is written atomically.

        Returns:
            The main model's checkpoint path (``None`` on other processes).
        """
        if not self.is_main:
            return None
        path = None
        for name, model in self._models.items():
            state = build_checkpoint(
                model, epoch + 1, rank1, self._optims.get(name), self._scheds.get(name),
                self.scaler,
            )
            saved = save_training_checkpoint(state, Path(save_dir) / name)
            if name == "model":
                path = saved
        self.last_checkpoint = path
        return path
