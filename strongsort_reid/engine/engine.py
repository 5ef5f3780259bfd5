"""The training/evaluation loop shared by every engine (torchreid's template method).

:meth:`Engine.run` drives epochs: :meth:`Engine.train` iterates the train loader and calls
the subclass's :meth:`Engine.forward_backward` once per batch; every ``eval_freq`` epochs and
at the end :meth:`Engine.test` embeds each target's query and gallery and prints the result
table, and :meth:`Engine.save_model` writes ``model.pth.tar-N`` checkpoints. A subclass only
writes ``forward_backward``, using :meth:`Engine.autocast` for the forward pass and
:meth:`Engine.optimize` for backward + step (AMP scaling, non-finite loss check).

The engine's parts live next to this file: network registration in :mod:`.registered_models`,
evaluation in :mod:`.evaluator`, progress reporting in :mod:`.progress`, checkpoint writing in
:mod:`.checkpoint_hooks`.
"""

from __future__ import annotations

import contextlib
import datetime
import logging
import math
import os
import sys
import time
from collections import OrderedDict
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from strongsort_reid.engine import distributed
from strongsort_reid.engine.checkpoint_hooks import CheckpointHooksMixin
from strongsort_reid.engine.evaluation import EvalResult
from strongsort_reid.engine.evaluator import EvaluationMixin
from strongsort_reid.engine.precision import resolve_precision
from strongsort_reid.engine.progress import (
    ENGINE_LOGGER,
    EpochProgress,
    create_summary_writer,
    write_train_scalars,
)
from strongsort_reid.engine.registered_models import ModelRegistrationMixin
from strongsort_reid.losses import DeepSupervision

__all__ = ["Engine", "NonFiniteLossError", "to_float"]

logger = logging.getLogger(ENGINE_LOGGER)

PathLike = Union[str, os.PathLike]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; training stops without saving."""


class Engine(ModelRegistrationMixin, EvaluationMixin, CheckpointHooksMixin):
    """Base class of the training engines.

    Args:
        datamanager: An ``ImageDataManager``: ``train_loader`` (batches are dicts with
            ``'img'``, ``'pid'``, ``'camid'``, ``'impath'``), ``test_loader[name]['query' |
            'gallery']`` and ``num_train_pids``.
        use_gpu: Run on CUDA when it is available; otherwise on the CPU.
        precision: Autocast of the training forward pass: ``"fp32"`` (none), ``"bf16"``,
            ``"fp16"`` (CUDA only, with gradient scaling) or ``"auto"``: float16 on CUDA,
            bfloat16 on a CPU with native bfloat16 (AVX512-BF16/AMX), else float32 (see
            :mod:`.precision`). Losses are always computed in float32; evaluation runs in
            float32 on the CPU and float16 on CUDA.
        channels_last: Keep the networks' 4-D weights and the train batches in channels-last
            (NHWC) memory layout, which oneDNN and cuDNN convolutions run faster; the values
            and the saved checkpoints (written contiguous) are the same.

    Attributes:
        device: Where the models and batches live.
        amp: Whether mixed precision (autocast) is on for training.
        amp_dtype: The autocast dtype (``None`` when ``amp`` is off).
        channels_last: Whether the channels-last layout is used.
        scaler: The AMP gradient scaler (enabled for float16 only).
        writer: The tensorboard writer during :meth:`run` (main process only).
        last_results: ``{target: EvalResult}`` of the most recent :meth:`test`.
        last_checkpoint: Path of the most recent checkpoint written, if any.
        num_skipped_images: Training samples so far whose image file failed to decode and
            was replaced by another image (see ``ImageDataset.__getitem__``); each epoch with
            any logs a warning with its count.
    """

    def __init__(
        self,
        datamanager: Any,
        use_gpu: bool = True,
        precision: str = "auto",
        channels_last: bool = True,
    ) -> None:
        self.datamanager = datamanager
        self.use_gpu = bool(use_gpu) and torch.cuda.is_available()
        if self.use_gpu:
            self.device = torch.device("cuda", torch.cuda.current_device())
        else:
            self.device = torch.device("cpu")
        self.amp_dtype = resolve_precision(precision, self.device)
        self.amp = self.amp_dtype is not None
        self.channels_last = bool(channels_last)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.distributed = distributed.is_distributed()
        self.is_main = distributed.is_main_process()
        self.train_loader = datamanager.train_loader
        world_size = distributed.get_world_size()
        shards = getattr(getattr(self.train_loader, "sampler", None), "num_replicas", 1)
        if shards != world_size:
            raise ValueError(
                f"the train loader is cut into {shards} shard(s) but {world_size} processes "
                "train: build the ImageDataManager with num_replicas=world_size and rank=rank "
                "(and the same seed on every process)"
            )
        self.test_loader = datamanager.test_loader
        self.writer = None
        self.epoch = 0
        self.max_epoch = 0
        self.last_results: Dict[str, EvalResult] = OrderedDict()
        self.last_checkpoint: Optional[Path] = None
        self.num_skipped_images = 0
        self._init_registry()

    ##########
    # Template method
    ##########

    def run(
        self,
        save_dir: PathLike = "log",
        max_epoch: int = 0,
        start_epoch: int = 0,
        print_freq: int = 10,
        fixbase_epoch: int = 0,
        open_layers: Optional[Union[str, Sequence[str]]] = None,
        start_eval: int = 0,
        eval_freq: int = -1,
        test_only: bool = False,
        dist_metric: str = "euclidean",
        normalize_feature: bool = False,
        visrank: bool = False,
        visrank_topk: int = 10,
        use_metric_cuhk03: bool = False,
        ranks: Sequence[int] = (1, 5, 10, 20),
        rerank: bool = False,
        save_freq: int = 0,
    ) -> Dict[str, EvalResult]:
        """Train for ``max_epoch`` epochs with periodic evaluation, or only evaluate.

        Args:
            save_dir: Folder for checkpoints (``<save_dir>/<name>/model.pth.tar-N``),
                tensorboard event files and visualisations.
            max_epoch: Total number of epochs.
            start_epoch: First epoch to run (the value :func:`resume_from_checkpoint` returns).
            print_freq: Log training statistics every this many iterations.
            fixbase_epoch: Number of first epochs that train only ``open_layers``.
            open_layers: Layer names trained during the first ``fixbase_epoch`` epochs.
            start_eval: First epoch (1-based) at which periodic evaluation may run.
            eval_freq: Evaluate and save a checkpoint every this many epochs (<= 0: only at
                the end).
            test_only: Only evaluate.
            dist_metric: ``"euclidean"`` or ``"cosine"``.
            normalize_feature: L2-normalise features before computing distances.
            visrank: Write ranked-result grids (only with ``test_only``).
            visrank_topk: Gallery images per grid.
            use_metric_cuhk03: Use the CUHK03 evaluation protocol.
            ranks: CMC ranks shown in the result table.
            rerank: Apply k-reciprocal re-ranking.
            save_freq: Also save a checkpoint every this many epochs without evaluating
                (<= 0: never), so a crash or NaN loss loses little work.

        Returns:
            ``{target: EvalResult}`` of the last evaluation.

        Every checkpoint that is followed by an evaluation is written before it, so a
        failing (or interrupted) evaluation never loses the weights; a target without query
        or gallery images (``test_ratio=0``) is skipped with a warning.

        Raises:
            NonFiniteLossError: the loss became NaN/inf; checkpoints already written are
                kept and no new one is written.
            ValueError: ``test_only`` and no target has query and gallery images.
        """
        _check_run_arguments(visrank, test_only, start_epoch, max_epoch, print_freq)
        test_kwargs = dict(
            dist_metric=dist_metric, normalize_feature=normalize_feature, visrank=visrank,
            visrank_topk=visrank_topk, save_dir=save_dir, use_metric_cuhk03=use_metric_cuhk03,
            ranks=ranks, rerank=rerank,
        )  # fmt: skip
        if test_only:
            return self._evaluate_only(test_kwargs)

        self.max_epoch = max_epoch
        start_time = time.time()
        logger.info("=> Start training (epochs %d to %d)", start_epoch + 1, max_epoch)
        with self._summary_writer(save_dir):
            for epoch in range(start_epoch, max_epoch):
                self.epoch = epoch
                self.train(epoch, print_freq, fixbase_epoch, open_layers)
                if epoch + 1 < max_epoch:
                    self._checkpoint_hook(epoch, (start_eval, eval_freq, save_freq), test_kwargs)
            if max_epoch > 0:
                logger.info("=> Final test")
                self._save_then_evaluate(max_epoch - 1, test_kwargs)
        elapsed = datetime.timedelta(seconds=round(time.time() - start_time))
        logger.info("Elapsed %s", elapsed)
        return dict(self.last_results)

    def _evaluate_only(self, test_kwargs: Dict[str, Any]) -> Dict[str, EvalResult]:
        """:meth:`test`; ``ValueError`` when no target had query and gallery images."""
        self.test(**test_kwargs)
        if self.is_main and not self.last_results:
            raise ValueError(
                "nothing to evaluate: no test set has both query and gallery images "
                f"({', '.join(self.test_loader) or 'no targets'}; a folder or mot dataset "
                "with test_ratio=0 holds out no identities)"
            )
        return dict(self.last_results)

    def train(
        self,
        epoch: int,
        print_freq: int = 10,
        fixbase_epoch: int = 0,
        open_layers: Optional[Union[str, Sequence[str]]] = None,
    ) -> Dict[str, float]:
        """Run one epoch over the train loader, then step the learning-rate schedulers.

        Args:
            epoch: 0-based epoch index (used for logs, the distributed sampling order and
                the two-stepped schedule).
            print_freq: Log every this many iterations.
            fixbase_epoch: Train only ``open_layers`` while ``epoch < fixbase_epoch``.
            open_layers: Layer names trained during the fixed-base epochs.

        Returns:
            The epoch means of the values ``forward_backward`` returned.
        """
        self.set_model_mode("train")
        self.two_stepped_transfer_learning(epoch, fixbase_epoch, open_layers)
        if hasattr(self.datamanager, "set_epoch"):
            # The sampling order (and worker seeds) of an epoch depend only on (seed, epoch),
            # which makes a resumed run draw the same batches as an uninterrupted one.
            self.datamanager.set_epoch(epoch)

        num_batches = len(self.train_loader)
        show_bar = self.is_main and sys.stderr.isatty()
        progress = EpochProgress(epoch, self.max_epoch, num_batches, show_bar)
        for batch_idx, data in enumerate(self.train_loader):
            progress.batch_loaded(data)
            summary = self._train_step(data, epoch, batch_idx, progress)
            progress.batch_done(summary)
            self._log_iteration(epoch, batch_idx, num_batches, summary)
            if (batch_idx + 1) % print_freq == 0:
                progress.log_iteration(batch_idx, self._lr_for_log())
            progress.next_batch()
        averages = progress.finish(self._lr_for_log())
        if progress.skipped:
            self.num_skipped_images += progress.skipped
            progress.log_skipped(self.num_skipped_images)
        self.update_lr()
        return averages

    def forward_backward(self, data: Dict[str, Any]) -> Dict[str, float]:
        """One optimisation step on a batch; returns ``{statistic: float}`` (``'loss'`` first).

        Subclasses implement this with :meth:`parse_data_for_train`, :meth:`autocast`,
        :meth:`compute_loss` and :meth:`optimize`.
        """
        raise NotImplementedError

    def _train_step(
        self, data: Dict[str, Any], epoch: int, batch_idx: int, progress: EpochProgress
    ) -> Dict[str, float]:
        """:meth:`forward_backward` on one batch; a NaN/inf loss stops training with where it
        happened and which checkpoint is the last good one."""
        try:
            summary = self.forward_backward(data)
            _check_finite(summary)
        except NonFiniteLossError as exc:
            progress.close()
            kept = self.last_checkpoint or "none was written yet"
            raise NonFiniteLossError(
                f"{exc} at epoch {epoch + 1}, iteration {batch_idx + 1}: training stopped "
                "(try a lower learning rate; also check the initial weights "
                f"(model.load_weights) and the images). Last good checkpoint: {kept}"
            ) from None
        return summary

    def _lr_for_log(self) -> float:
        """The main learning rate, or NaN for an engine without optimizer."""
        return self.get_current_lr() if self._optims else float("nan")

    def _log_iteration(
        self, epoch: int, batch_idx: int, num_batches: int, summary: Dict[str, float]
    ) -> None:
        """Write one iteration's statistics and learning rate to tensorboard."""
        if self.writer is None:
            return
        learning_rates = {name: self.get_current_lr(name) for name in self._optims}
        write_train_scalars(self.writer, epoch * num_batches + batch_idx, summary, learning_rates)

    @contextlib.contextmanager
    def _summary_writer(self, save_dir: PathLike) -> Iterator[None]:
        """Hold a tensorboard writer in :attr:`writer` (main process only) while training."""
        if self.is_main:
            self.writer = create_summary_writer(save_dir)
        try:
            yield
        finally:
            if self.writer is not None:
                self.writer.close()
                self.writer = None

    ##########
    # Helpers for forward_backward
    ##########

    def parse_data_for_train(self, data: Dict[str, Any]) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(imgs, pids)`` of a train batch, on :attr:`device` (channels-last images when
        :attr:`channels_last`)."""
        imgs = data["img"].to(self.device, non_blocking=True)
        if self.channels_last and imgs.dim() == 4:
            imgs = imgs.contiguous(memory_format=torch.channels_last)
        pids = torch.as_tensor(data["pid"]).to(self.device, non_blocking=True)
        return imgs, pids

    def parse_data_for_eval(
        self, data: Dict[str, Any]
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(imgs, pids, camids)`` of a test batch (left on the CPU)."""
        return data["img"], torch.as_tensor(data["pid"]), torch.as_tensor(data["camid"])

    def autocast(self) -> AbstractContextManager:
        """Autocast to :attr:`amp_dtype` when :attr:`amp` is on; a no-op context otherwise.

        Wrap the forward pass only; compute the losses outside it on :func:`to_float`
        outputs (distances and exponentials overflow or lose precision in 16 bits).
        """
        return torch.autocast(
            device_type=self.device.type, dtype=self.amp_dtype or torch.float32, enabled=self.amp
        )

    def compute_loss(self, criterion: nn.Module, outputs: Any, targets: torch.Tensor):
        """``criterion(outputs, targets)``; a tuple/list of outputs (deep supervision) gets
        the mean of the loss over its elements."""
        if isinstance(outputs, (tuple, list)):
            return DeepSupervision(criterion, outputs, targets)
        return criterion(outputs, targets)

    def optimize(self, loss: torch.Tensor) -> None:
        """Backward and step every registered optimizer, with AMP loss scaling.

        Raises:
            NonFiniteLossError: ``loss`` is NaN or infinite (checked before any update).
        """
        if not torch.isfinite(loss.detach()).all():
            raise NonFiniteLossError(f"loss is {loss.item()}")
        for optim in self._optims.values():
            optim.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        for optim in self._optims.values():
            self.scaler.step(optim)
        self.scaler.update()


def to_float(outputs: Any) -> Any:
    """Cast a tensor, or each tensor of a tuple/list (deep supervision), to float32."""
    if isinstance(outputs, (tuple, list)):
        return type(outputs)(to_float(out) for out in outputs)
    return outputs.float()


def _check_run_arguments(
    visrank: bool, test_only: bool, start_epoch: int, max_epoch: int, print_freq: int
) -> None:
    """Raise ``ValueError`` on :meth:`Engine.run` arguments that cannot go together."""
    if visrank and not test_only:
        raise ValueError("visrank=True is only supported together with test_only=True")
    if not 0 <= start_epoch <= max_epoch and not test_only:
        raise ValueError(
            f"need 0 <= start_epoch <= max_epoch, got start_epoch={start_epoch}, "
            f"max_epoch={max_epoch}"
        )
    if print_freq < 1:
        raise ValueError(f"print_freq must be >= 1, got {print_freq}")


def _check_finite(summary: Dict[str, float]) -> None:
    """Raise :class:`NonFiniteLossError` when a reported loss is NaN or infinite."""
    for key, value in summary.items():
        if key.startswith("loss") and not math.isfinite(float(value)):
            raise NonFiniteLossError(f"{key} is {float(value)}")
