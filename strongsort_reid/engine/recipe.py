"""Build everything a :class:`~strongsort_reid.engine.config.RecipeConfig` describes and run it.

``run_recipe(config)`` seeds every generator, builds the ``ImageDataManager`` (printing the
dataset tables), the model (ImageNet or ReID initial weights, optional last stride 1 and
BNNeck), optimizer, scheduler and engine, resumes a checkpoint when asked, trains, evaluates
and returns the path of the final checkpoint, which loads by path into the tracker
(``StrongSORT(reid_weights=<path>, reid_model=<model.name>)``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

import torch
import yaml
from torch import nn

from strongsort_reid.data import ImageDataManager
from strongsort_reid.engine import distributed
from strongsort_reid.engine.checkpointing import resume_from_checkpoint
from strongsort_reid.engine.config import RecipeConfig, TrainConfig, config_to_dict
from strongsort_reid.engine.engine import Engine
from strongsort_reid.engine.evaluation import EvalResult
from strongsort_reid.engine.model_options import attach_bnneck, set_last_stride
from strongsort_reid.engine.seeding import set_random_seed
from strongsort_reid.engine.softmax import ImageSoftmaxEngine
from strongsort_reid.engine.triplet import ImageTripletEngine
from strongsort_reid.models import build_model
from strongsort_reid.models.weights import resolve_weights
from strongsort_reid.optim import build_lr_scheduler, build_optimizer
from strongsort_reid.utils.checkpoint import load_pretrained_weights

__all__ = [
    "RecipeResult",
    "build_datamanager",
    "build_engine",
    "build_optimization",
    "build_reid_model",
    "run_recipe",
]

@dataclass
class RecipeResult:
    """What a recipe run produced.

    Attributes:
        checkpoint: The last ``model.pth.tar-N`` written (``None`` for ``test.evaluate`` runs
            and on non-main processes).
        results: ``{target: EvalResult}`` of the last evaluation (main process).
        engine: The engine, for further use.
    """

    checkpoint: Optional[Path]
    results: Dict[str, EvalResult]
    engine: Engine


def build_datamanager(config: RecipeConfig) -> ImageDataManager:
    """The ``ImageDataManager`` of ``config.data`` (sharded when distributed)."""
    data = config.data
    return ImageDataManager(
        root=data.root,
        sources=data.sources,
        targets=data.targets or None,
        height=data.height,
        width=data.width,
        transforms=data.transforms,
        norm_mean=data.norm_mean,
        norm_std=data.norm_std,
        use_gpu=config.use_gpu and torch.cuda.is_available(),
        split_id=data.split_id,
        combineall=data.combineall,
        batch_size_train=config.train.batch_size,
        batch_size_test=config.test.batch_size,
        workers=data.workers,
        num_instances=data.num_instances,
        train_sampler=data.train_sampler,
        seed=config.train.seed,
        dataset_kwargs=data.dataset_kwargs,
        num_replicas=distributed.get_world_size(),
        rank=distributed.get_rank(),
        verbose=distributed.is_main_process(),
    )


def build_reid_model(config: RecipeConfig, num_classes: int) -> nn.Module:
    """Build ``config.model`` for ``num_classes`` identities with its initial weights.

    ReID weights (``model.load_weights``) replace the ImageNet initialisation; a classifier
    of another size is left freshly initialised.
    """
    spec = config.model
    model = build_model(
        spec.name,
        num_classes=num_classes,
        loss=config.loss.name,
        pretrained=spec.pretrained and not spec.load_weights,
    )
    if spec.last_stride is not None:
        set_last_stride(model, spec.last_stride)
    if spec.load_weights:
        load_pretrained_weights(model, resolve_weights(spec.load_weights))  # logs a summary
    if spec.bnneck:
        attach_bnneck(model)
    return model


def build_engine(
    config: RecipeConfig, datamanager: Any, model: nn.Module, optimizer: Any, scheduler: Any
) -> Engine:
    """The softmax or triplet engine that ``config.loss.name`` selects."""
    loss = config.loss
    speed = dict(precision=config.train.precision, channels_last=config.train.channels_last)
    if loss.name == "softmax":
        return ImageSoftmaxEngine(
            datamanager, model, optimizer, scheduler, config.use_gpu, loss.label_smooth, **speed
        )
    return ImageTripletEngine(
        datamanager,
        model,
        optimizer,
        margin=loss.margin,
        weight_t=loss.weight_t,
        weight_x=loss.weight_x,
        weight_c=loss.weight_c,
        scheduler=scheduler,
        use_gpu=config.use_gpu,
        label_smooth=loss.label_smooth,
        soft_margin=loss.soft_margin,
        center_lr=loss.center_lr,
        **speed,
    )


def _resume(config: RecipeConfig, engine: Engine) -> int:
    """Restore every registered model from ``model.resume``; returns the start epoch."""
    path = Path(config.model.resume)
    start_epoch = resume_from_checkpoint(
        path, engine.get_model(), engine.optimizer, engine.scheduler, engine.scaler
    )
    for name in engine.get_model_names():
        if name == "model":
            continue
        # Other models (center loss) are saved next to it: <save_dir>/<name>/<same file>.
        resume_from_checkpoint(
            path.parent.parent / name / path.name, engine.get_model(name),
            engine.get_optimizer(name),
        )
    return start_epoch


def build_optimization(model: nn.Module, train: TrainConfig):
    """``(optimizer, scheduler)`` of the ``train`` section for ``model``."""
    optimizer = build_optimizer(
        model,
        optim=train.optim,
        lr=train.lr,
        weight_decay=train.weight_decay,
        momentum=train.momentum,
        sgd_dampening=train.sgd_dampening,
        sgd_nesterov=train.sgd_nesterov,
        rmsprop_alpha=train.rmsprop_alpha,
        adam_beta1=train.adam_beta1,
        adam_beta2=train.adam_beta2,
        staged_lr=train.staged_lr,
        new_layers=train.new_layers,
        base_lr_mult=train.base_lr_mult,
    )
    scheduler = build_lr_scheduler(
        optimizer,
        lr_scheduler=train.lr_scheduler,
        stepsize=train.stepsize,
        gamma=train.gamma,
        max_epoch=train.max_epoch,
        warmup_epochs=train.warmup_epochs,
        warmup_factor=train.warmup_factor,
        warmup_method=train.warmup_method,
    )
    return optimizer, scheduler


def run_recipe(config: RecipeConfig) -> RecipeResult:
    """Train and/or evaluate as ``config`` says (see the module docstring).

    Raises:
        ValueError: an invalid setting (unknown optimizer, scheduler, sampler ...).
        FileNotFoundError: a dataset, weight file or checkpoint is missing.
        NonFiniteLossError: the loss became NaN (earlier checkpoints are kept).
    """
    set_random_seed(config.train.seed)
    save_dir = Path(config.save_dir)
    if distributed.is_main_process():
        save_dir.mkdir(parents=True, exist_ok=True)
        (save_dir / "config.yaml").write_text(
            yaml.safe_dump(config_to_dict(config), sort_keys=False), encoding="utf-8"
        )
    datamanager = build_datamanager(config)
    model = build_reid_model(config, datamanager.num_train_pids)
    train = config.train
    optimizer, scheduler = build_optimization(model, train)
    engine = build_engine(config, datamanager, model, optimizer, scheduler)
    start_epoch = _resume(config, engine) if config.model.resume else train.start_epoch
    test = config.test
    results = engine.run(
        save_dir=save_dir,
        max_epoch=train.max_epoch,
        start_epoch=start_epoch,
        print_freq=train.print_freq,
        fixbase_epoch=train.fixbase_epoch,
        open_layers=train.open_layers,
        start_eval=test.start_eval,
        eval_freq=test.eval_freq,
        test_only=test.evaluate,
        dist_metric=test.dist_metric,
        normalize_feature=test.normalize_feature,
        visrank=test.visrank,
        visrank_topk=test.visrank_topk,
        use_metric_cuhk03=test.use_metric_cuhk03,
        ranks=test.ranks,
        rerank=test.rerank,
        save_freq=train.save_freq,
    )
    return RecipeResult(engine.last_checkpoint, results, engine)
