"""The training/evaluation loop shared by every engine (torchreid's template method).

:meth:`Engine.run` drives epochs: :meth:`Engine.train` iterates the train loader and calls
the subclass's :meth:`Engine.forward_backward` once per batch; every ``eval_freq`` epochs and
at the end :meth:`Engine.test` embeds each target's query and gallery and prints the result
table, and :meth:`Engine.save_model` writes ``model.pth.tar-N`` checkpoints. A subclass only
writes ``forward_backward``, using :meth:`Engine.autocast` for the forward pass and
:meth:`Engine.optimize` for backward + step (AMP scaling, non-finite loss check).
"""

from __future__ import annotations

import datetime
import logging
import math
import os
import sys
import time
from collections import OrderedDict
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from strongsort_reid.engine import distributed
from strongsort_reid.engine.checkpointing import build_checkpoint, save_training_checkpoint
from strongsort_reid.engine.evaluation import (
    EvalResult,
    count_skipped,
    evaluate_features,
    extract_features,
    format_results,
)
from strongsort_reid.engine.meters import AverageMeter, MetricMeter
from strongsort_reid.engine.seeding import preserved_rng_state
from strongsort_reid.engine.transfer import (
    open_all_layers,
    open_specified_layers,
    trainable_parameter_names,
)
from strongsort_reid.losses import DeepSupervision

__all__ = ["Engine", "NonFiniteLossError", "to_float"]

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]


class NonFiniteLossError(FloatingPointError):
    """The training loss became NaN or infinite; training stops without saving."""


def _create_summary_writer(log_dir: PathLike) -> Optional[Any]:
    """A tensorboard ``SummaryWriter`` for ``log_dir``, or ``None`` without tensorboard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        logger.warning("tensorboard is not installed: no learning curves (pip install tensorboard)")
        return None
    return SummaryWriter(log_dir=str(log_dir))


class Engine:
    """Base class of the training engines.

    Args:
        datamanager: An ``ImageDataManager``: ``train_loader`` (batches are dicts with
            ``'img'``, ``'pid'``, ``'camid'``, ``'impath'``), ``test_loader[name]['query' |
            'gallery']`` and ``num_train_pids``.
        use_gpu: Run on CUDA when it is available (with float16 autocast and gradient
            scaling); otherwise on the CPU in float32.

    Attributes:
        device: Where the models and batches live.
        amp: Whether mixed precision is on.
        scaler: The AMP gradient scaler (a pass-through when ``amp`` is off).
        writer: The tensorboard writer during :meth:`run` (main process only).
        last_results: ``{target: EvalResult}`` of the most recent :meth:`test`.
        last_checkpoint: Path of the most recent checkpoint written, if any.
        num_skipped_images: Training samples so far whose image file failed to decode and
            was replaced by another image (see ``ImageDataset.__getitem__``); each epoch with
            any logs a warning with its count.
    """

    def __init__(self, datamanager: Any, use_gpu: bool = True) -> None:
        self.datamanager = datamanager
        self.use_gpu = bool(use_gpu) and torch.cuda.is_available()
        if self.use_gpu:
            self.device = torch.device("cuda", torch.cuda.current_device())
        else:
            self.device = torch.device("cpu")
        self.amp = self.use_gpu
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp)
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
        self._models: Dict[str, nn.Module] = OrderedDict()
        self._train_modules: Dict[str, nn.Module] = OrderedDict()
        self._optims: Dict[str, torch.optim.Optimizer] = OrderedDict()
        self._scheds: Dict[str, Any] = OrderedDict()
        self._trainable: Dict[str, frozenset] = {}
        self._ddp_params: Dict[str, frozenset] = {}

    ##########
    # Registration and access
    ##########

    def register_model(
        self,
        name: str,
        model: nn.Module,
        optim: Optional[torch.optim.Optimizer] = None,
        sched: Optional[Any] = None,
    ) -> None:
        """Give the engine a network (moved to :attr:`device`) with its optimizer and scheduler.

        Every registered network is trained, saved under ``save_dir/<name>/`` and, when
        distributed, wrapped in ``DistributedDataParallel``. The main network is ``"model"``.
        """
        if name in self._models:
            raise ValueError(f"a model named {name!r} is already registered")
        model.to(self.device)
        self._models[name] = model
        self._trainable[name] = trainable_parameter_names(model)
        self._train_modules[name] = model
        self._refresh_ddp(name)
        if optim is not None:
            self._optims[name] = optim
        if sched is not None:
            self._scheds[name] = sched

    @property
    def model(self) -> nn.Module:
        """The main network as it is trained (DDP-wrapped when distributed)."""
        return self._train_modules["model"]

    @property
    def optimizer(self) -> Optional[torch.optim.Optimizer]:
        """The main network's optimizer."""
        return self._optims.get("model")

    @property
    def scheduler(self) -> Optional[Any]:
        """The main network's learning-rate scheduler."""
        return self._scheds.get("model")

    def get_model(self, name: str = "model") -> nn.Module:
        """The registered network ``name`` itself (never a DDP wrapper)."""
        return self._models[self.get_model_names(name)[0]]

    def get_optimizer(self, name: str = "model") -> Optional[torch.optim.Optimizer]:
        """The optimizer registered with ``name`` (``None`` if it has none)."""
        return self._optims.get(self.get_model_names(name)[0])

    def get_model_names(self, names: Optional[Sequence[str]] = None) -> List[str]:
        """The registered names, or ``names`` after checking that each is registered."""
        if names is None:
            return list(self._models)
        names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in names if n not in self._models]
        if unknown:
            raise ValueError(f"unknown model names {unknown}; registered: {list(self._models)}")
        return names

    def set_model_mode(self, mode: str = "train", names: Optional[Sequence[str]] = None) -> None:
        """Put the registered networks in ``"train"`` or ``"eval"`` mode."""
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        for name in self.get_model_names(names):
            self._models[name].train(mode == "train")

    def get_current_lr(self, name: str = "model") -> float:
        """Learning rate of the first parameter group of ``name``'s optimizer."""
        return float(self._optims[name].param_groups[0]["lr"])

    def update_lr(self, names: Optional[Sequence[str]] = None) -> None:
        """Advance the learning-rate schedulers by one epoch."""
        for name in self.get_model_names(names):
            if name in self._scheds:
                self._scheds[name].step()

    def _refresh_ddp(self, name: str) -> None:
        """(Re)wrap ``name`` in DDP when its set of trainable parameters changed.

        DDP waits for a gradient of every parameter that required one when it was built, so
        freezing layers (``fixbase_epoch``) needs a wrapper built for the new set.
        """
        model = self._models[name]
        params = trainable_parameter_names(model)
        if not self.distributed or not params or self._ddp_params.get(name) == params:
            return
        device_ids = [self.device.index] if self.use_gpu else None
        self._train_modules[name] = DistributedDataParallel(model, device_ids=device_ids)
        self._ddp_params[name] = params

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

        Raises:
            NonFiniteLossError: the loss became NaN/inf; checkpoints already written are
                kept and no new one is written.
        """
        if visrank and not test_only:
            raise ValueError("visrank=True is only supported together with test_only=True")
        if not 0 <= start_epoch <= max_epoch and not test_only:
            raise ValueError(
                f"need 0 <= start_epoch <= max_epoch, got start_epoch={start_epoch}, "
                f"max_epoch={max_epoch}"
            )
        if print_freq < 1:
            raise ValueError(f"print_freq must be >= 1, got {print_freq}")
        test_kwargs = dict(
            dist_metric=dist_metric,
            normalize_feature=normalize_feature,
            visrank=visrank,
            visrank_topk=visrank_topk,
            save_dir=save_dir,
            use_metric_cuhk03=use_metric_cuhk03,
            ranks=ranks,
            rerank=rerank,
        )
        if test_only:
            self.test(**test_kwargs)
            return dict(self.last_results)

        self.max_epoch = max_epoch
        if self.is_main:
            self.writer = _create_summary_writer(save_dir)
        start_time = time.time()
        logger.info("=> Start training (epochs %d to %d)", start_epoch + 1, max_epoch)
        try:
            for epoch in range(start_epoch, max_epoch):
                self.epoch = epoch
                self.train(epoch, print_freq, fixbase_epoch, open_layers)
                finished = epoch + 1
                if finished == max_epoch:
                    break
                if eval_freq > 0 and finished >= start_eval and finished % eval_freq == 0:
                    self.save_model(epoch, self.test(**test_kwargs), save_dir)
                elif save_freq > 0 and finished % save_freq == 0:
                    self.save_model(epoch, None, save_dir)
            if max_epoch > 0:
                logger.info("=> Final test")
                self.save_model(max_epoch - 1, self.test(**test_kwargs), save_dir)
        finally:
            if self.writer is not None:
                self.writer.close()
                self.writer = None
        elapsed = datetime.timedelta(seconds=round(time.time() - start_time))
        logger.info("Elapsed %s", elapsed)
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

        meters = MetricMeter()
        batch_time, data_time = AverageMeter(), AverageMeter()
        num_batches = len(self.train_loader)
        progress = tqdm(
            total=num_batches,
            desc=f"epoch {epoch + 1}/{max(self.max_epoch, epoch + 1)}",
            disable=not (self.is_main and sys.stderr.isatty()),
            leave=False,
        )
        skipped = 0
        epoch_start = end = time.time()
        for batch_idx, data in enumerate(self.train_loader):
            data_time.update(time.time() - end)
            skipped += count_skipped(data)
            try:
                summary = self.forward_backward(data)
                _check_finite(summary)
            except NonFiniteLossError as exc:
                progress.close()
                kept = self.last_checkpoint or "none was written yet"
                raise NonFiniteLossError(
                    f"{exc} at epoch {epoch + 1}, iteration {batch_idx + 1}: training stopped "
                    f"(try a lower learning rate). Last good checkpoint: {kept}"
                ) from None
            batch_time.update(time.time() - end)
            meters.update(summary)
            progress.update(1)
            progress.set_postfix({k: f"{v:.3f}" for k, v in summary.items()})
            self._log_iteration(epoch, batch_idx, num_batches, summary)
            if (batch_idx + 1) % print_freq == 0:
                remaining = batch_time.avg * (
                    num_batches - batch_idx - 1 + (self.max_epoch - epoch - 1) * num_batches
                )
                logger.info(
                    "epoch [%d/%d][%d/%d]  time %.3f (%.3f)  data %.3f (%.3f)  %s  lr %.6f  eta %s",
                    epoch + 1,
                    max(self.max_epoch, epoch + 1),
                    batch_idx + 1,
                    num_batches,
                    batch_time.val,
                    batch_time.avg,
                    data_time.val,
                    data_time.avg,
                    meters,
                    self.get_current_lr() if self._optims else float("nan"),
                    datetime.timedelta(seconds=max(0, round(remaining))),
                )
            end = time.time()
        progress.close()
        averages = meters.averages()
        # Always one line per epoch: with few batches or no TTY (no progress bar) the
        # per-iteration lines may never come.
        logger.info(
            "epoch [%d/%d] done in %s: %d iterations  %s  lr %.6f",
            epoch + 1,
            max(self.max_epoch, epoch + 1),
            datetime.timedelta(seconds=round(time.time() - epoch_start)),
            meters.count,
            "  ".join(f"{name} {value:.4f}" for name, value in averages.items()),
            self.get_current_lr() if self._optims else float("nan"),
        )
        if skipped:
            self.num_skipped_images += skipped
            logger.warning(
                "epoch %d: %d undecodable image(s) were skipped and replaced by other images "
                "(%d in this run so far)", epoch + 1, skipped, self.num_skipped_images,
            )
        self.update_lr()
        return averages

    def _log_iteration(
        self, epoch: int, batch_idx: int, num_batches: int, summary: Dict[str, float]
    ) -> None:
        """Write one iteration's statistics and learning rate to tensorboard."""
        if self.writer is None:
            return
        step = epoch * num_batches + batch_idx
        for name, value in summary.items():
            self.writer.add_scalar(f"Train/{name}", value, step)
        for name in self._optims:
            tag = "Train/lr" if name == "model" else f"Train/lr_{name}"
            self.writer.add_scalar(tag, self.get_current_lr(name), step)

    def forward_backward(self, data: Dict[str, Any]) -> Dict[str, float]:
        """One optimisation step on a batch; returns ``{statistic: float}`` (``'loss'`` first).

        Subclasses implement this with :meth:`parse_data_for_train`, :meth:`autocast`,
        :meth:`compute_loss` and :meth:`optimize`.
        """
        raise NotImplementedError

    ##########
    # Helpers for forward_backward
    ##########

    def parse_data_for_train(self, data: Dict[str, Any]) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(imgs, pids)`` of a train batch, on :attr:`device`."""
        imgs = data["img"].to(self.device, non_blocking=True)
        pids = torch.as_tensor(data["pid"]).to(self.device, non_blocking=True)
        return imgs, pids

    def parse_data_for_eval(
        self, data: Dict[str, Any]
    ) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(imgs, pids, camids)`` of a test batch (left on the CPU)."""
        return data["img"], torch.as_tensor(data["pid"]), torch.as_tensor(data["camid"])

    def autocast(self) -> AbstractContextManager:
        """Float16 autocast on CUDA when :attr:`amp` is on; a no-op context otherwise.

        Wrap the forward pass only; compute the losses outside it on :func:`to_float`
        outputs (distances and exponentials overflow or lose precision in float16).
        """
        return torch.autocast(device_type=self.device.type, dtype=torch.float16, enabled=self.amp)

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

    def two_stepped_transfer_learning(
        self,
        epoch: int,
        fixbase_epoch: int,
        open_layers: Optional[Union[str, Sequence[str]]],
        name: str = "model",
    ) -> None:
        """Train only ``open_layers`` of ``name`` while ``epoch < fixbase_epoch``, then all."""
        model = self._models[name]
        if open_layers and epoch < fixbase_epoch:
            logger.info(
                "* Only train %s (epoch %d/%d of the fixed base)", open_layers, epoch + 1,
                fixbase_epoch,
            )
            open_specified_layers(model, open_layers, self._trainable[name])
        else:
            open_all_layers(model, self._trainable[name])
        self._refresh_ddp(name)

    ##########
    # Evaluation and checkpoints
    ##########

    def test(
        self,
        dist_metric: str = "euclidean",
        normalize_feature: bool = False,
        visrank: bool = False,
        visrank_topk: int = 10,
        save_dir: PathLike = "",
        use_metric_cuhk03: bool = False,
        ranks: Sequence[int] = (1, 5, 10, 20),
        rerank: bool = False,
    ) -> float:
        """Evaluate on every target's query/gallery split and print the result tables.

        Runs on the main process only (the others wait) and leaves the random generators
        untouched, so evaluation never changes the training trajectory.

        Returns:
            Rank-1 accuracy in ``[0, 1]`` of the last target (torchreid's convention).
        """
        rank1 = float("nan")
        if self.is_main:
            with preserved_rng_state():
                self.set_model_mode("eval")
                for name, loaders in self.test_loader.items():
                    result = self._evaluate(
                        name, loaders, dist_metric, normalize_feature, visrank, visrank_topk,
                        save_dir, use_metric_cuhk03, rerank,
                    )
                    self.last_results[name] = result
                    print(format_results(result, ranks))
                    if self.writer is not None:
                        self.writer.add_scalar(f"Test/{name}/rank1", result.rank1, self.epoch)
                        self.writer.add_scalar(f"Test/{name}/mAP", result.mAP, self.epoch)
                    rank1 = result.rank1
        return float(distributed.broadcast_object(rank1))

    def _evaluate(
        self,
        name: str,
        loaders: Dict[str, Any],
        dist_metric: str,
        normalize_feature: bool,
        visrank: bool,
        visrank_topk: int,
        save_dir: PathLike,
        use_metric_cuhk03: bool,
        rerank: bool,
    ) -> EvalResult:
        model = self._models["model"]
        sets = {}
        for split in ("query", "gallery"):
            start = time.perf_counter()
            sets[split] = extract_features(
                model, loaders[split], self.parse_data_for_eval, self.device,
                normalize_feature, self.amp, desc=f"{name} {split}",
            )
            logger.info(
                "%s %s: %d x %d features in %.2f s", name, split, *sets[split].features.shape,
                time.perf_counter() - start,
            )
            if sets[split].num_skipped:
                logger.warning(
                    "%s %s: %d undecodable image(s) were skipped and replaced by other images",
                    name, split, sets[split].num_skipped,
                )
        result, distmat = evaluate_features(
            name, sets["query"], sets["gallery"], dist_metric, use_metric_cuhk03, rerank
        )
        if visrank:
            from strongsort_reid.utils.visualize import visualize_ranked_results

            visualize_ranked_results(
                distmat,
                (sets["query"].items(), sets["gallery"].items()),
                width=getattr(self.datamanager, "width", 128),
                height=getattr(self.datamanager, "height", 256),
                save_dir=Path(save_dir) / f"visrank_{name}",
                topk=visrank_topk,
            )
        return result

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


def to_float(outputs: Any) -> Any:
    """Cast a tensor, or each tensor of a tuple/list (deep supervision), to float32."""
    if isinstance(outputs, (tuple, list)):
        return type(outputs)(to_float(out) for out in outputs)
    return outputs.float()


def _check_finite(summary: Dict[str, float]) -> None:
    """Raise :class:`NonFiniteLossError` when a reported loss is NaN or infinite."""
    for key, value in summary.items():
        if key.startswith("loss") and not math.isfinite(float(value)):
            raise NonFiniteLossError(f"{key} is {float(value)}")
