"""Training recipes: a typed, documented configuration read from YAML plus overrides.

A recipe file has the sections ``model``, ``data``, ``loss``, ``train`` and ``test`` and the
top-level keys ``save_dir`` and ``use_gpu``; every key and its default (those of torchreid's
default config) is listed in the dataclasses below. Command-line overrides are
``section.key=value`` strings whose value is parsed as YAML (``train.max_epoch=1``,
``data.sources=[mot]``, ``data.dataset_kwargs={mot: {min_visibility: 0.5}}``); a path that
goes on inside a mapping field changes one entry and keeps the others
(``data.dataset_kwargs.mot.frame_stride=1``). An unknown key is an error that lists the valid
keys (the checking and override machinery is :mod:`.config_parsing`).
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from strongsort_reid.engine.config_parsing import (
    ConfigError,
    apply_dotted_overrides,
    build_dataclass,
    parse_yaml,
)
from strongsort_reid.engine.precision import PRECISIONS

__all__ = [
    "ConfigError",
    "DataConfig",
    "LossConfig",
    "ModelConfig",
    "RecipeConfig",
    "TestConfig",
    "TrainConfig",
    "apply_overrides",
    "config_from_dict",
    "config_to_dict",
    "load_config",
]

PathLike = Union[str, os.PathLike]

LOSS_NAMES = ("softmax", "triplet")
DIST_METRICS = ("euclidean", "cosine")


@dataclass
class ModelConfig:
    """The network.

    Attributes:
        name: Registry architecture (``osnet_x1_0``, ``osnet_x0_25``, ``resnet50`` ...).
        pretrained: Initialise the backbone from ImageNet (downloaded once; a warning and
            random initialisation when offline).
        load_weights: Start from ReID weights: a checkpoint path or a registered weights name
            such as ``osnet_x0_25_msmt17`` (the classifier is re-initialised when the number
            of identities differs). Empty: none.
        resume: A ``model.pth.tar-N`` training checkpoint to continue exactly. Empty: none.
        bnneck: Add a BNNeck head (bag of tricks).
        last_stride: Stride of a ResNet's last stage (1 in the bag of tricks); ``None`` keeps
            the architecture's own.
    """

    name: str = "osnet_x1_0"
    pretrained: bool = True
    load_weights: str = ""
    resume: str = ""
    bnneck: bool = False
    last_stride: Optional[int] = None


@dataclass
class DataConfig:
    """The datasets and loaders (``ImageDataManager`` arguments).

    Attributes:
        root: Folder holding the datasets (for ``mot``: the folder of sequence folders).
        sources: Training dataset names.
        targets: Test dataset names (empty: the sources).
        height: Input height in pixels.
        width: Input width in pixels.
        transforms: Training augmentations (``random_flip``, ``random_crop``,
            ``color_jitter``, ``random_erase``, ``random_grayscale``).
        norm_mean: RGB normalisation mean (``None``: ImageNet's).
        norm_std: RGB normalisation std (``None``: ImageNet's).
        combineall: Train on the query and gallery identities too.
        workers: DataLoader worker processes.
        train_sampler: ``RandomSampler`` or ``RandomIdentitySampler`` (P x K batches).
        num_instances: K, images per identity in a batch of ``RandomIdentitySampler``.
        split_id: Split index of datasets with several splits.
        dataset_kwargs: Extra arguments per dataset name, e.g. ``{mot: {min_visibility: 0.5,
            cache_dir: crops/}}``.
    """

    root: str = "reid-data"
    sources: List[str] = field(default_factory=lambda: ["market1501"])
    targets: List[str] = field(default_factory=list)
    height: int = 256
    width: int = 128
    transforms: List[str] = field(default_factory=lambda: ["random_flip"])
    norm_mean: Optional[List[float]] = None
    norm_std: Optional[List[float]] = None
    combineall: bool = False
    workers: int = 4
    train_sampler: str = "RandomSampler"
    num_instances: int = 4
    split_id: int = 0
    dataset_kwargs: Dict[str, Any] = field(default_factory=dict)


@dataclass
class LossConfig:
    """The training objective.

    Attributes:
        name: ``softmax`` (identity cross entropy, :class:`ImageSoftmaxEngine`) or
            ``triplet`` (triplet + cross entropy + center, :class:`ImageTripletEngine`).
        label_smooth: Label smoothing (epsilon 0.1) in the cross entropy.
        margin: Triplet margin.
        soft_margin: Soft-plus triplet instead of the hinge.
        weight_t: Weight of the triplet loss.
        weight_x: Weight of the cross entropy (triplet engine).
        weight_c: Weight of the center loss (0: off).
        center_lr: Step size of the center-loss class centres.
    """

    name: str = "softmax"
    label_smooth: bool = True
    margin: float = 0.3
    soft_margin: bool = False
    weight_t: float = 1.0
    weight_x: float = 1.0
    weight_c: float = 0.0
    center_lr: float = 0.5

    def __post_init__(self) -> None:
        if self.name not in LOSS_NAMES:
            raise ConfigError(f"loss.name must be one of {list(LOSS_NAMES)}, got {self.name!r}")


@dataclass
class TrainConfig:
    """Optimisation (``build_optimizer`` / ``build_lr_scheduler`` arguments) and the loop.

    Attributes:
        optim: ``adam``, ``amsgrad``, ``sgd``, ``rmsprop``, ``radam`` or ``adamw``.
        lr: Learning rate.
        weight_decay: L2 penalty.
        momentum: SGD/RMSprop momentum.
        sgd_dampening: SGD dampening.
        sgd_nesterov: Nesterov momentum.
        rmsprop_alpha: RMSprop smoothing.
        adam_beta1: Adam first-moment decay.
        adam_beta2: Adam second-moment decay.
        staged_lr: Train the layers not in ``new_layers`` at ``lr * base_lr_mult``.
        new_layers: Freshly initialised layers (full ``lr`` with ``staged_lr``).
        base_lr_mult: Learning-rate multiplier of the pretrained layers.
        lr_scheduler: ``single_step``, ``multi_step`` or ``cosine``.
        stepsize: Decay period (``single_step``) or milestones (``multi_step``), in epochs.
        gamma: Decay factor.
        warmup_epochs: Linear warmup epochs (0: none).
        warmup_factor: Learning-rate multiplier at the first warmup epoch.
        warmup_method: ``linear`` or ``constant``.
        max_epoch: Number of epochs.
        start_epoch: First epoch (set automatically when resuming).
        batch_size: Training images per batch (per process when distributed).
        fixbase_epoch: First epochs that train only ``open_layers``.
        open_layers: Layers trained during the fixed-base epochs.
        print_freq: Log every this many iterations.
        save_freq: Also checkpoint every this many epochs (0: only with evaluations).
        seed: Seed of every random generator.
        precision: Autocast of the training forward pass: ``auto`` (float16 on CUDA,
            bfloat16 on a CPU with native bfloat16, else float32), ``fp32``, ``bf16``,
            ``fp16`` (CUDA only).
        channels_last: Train in the channels-last (NHWC) memory layout (faster convolutions).
    """

    optim: str = "adam"
    lr: float = 0.0003
    weight_decay: float = 5e-4
    momentum: float = 0.9
    sgd_dampening: float = 0.0
    sgd_nesterov: bool = False
    rmsprop_alpha: float = 0.99
    adam_beta1: float = 0.9
    adam_beta2: float = 0.99
    staged_lr: bool = False
    new_layers: List[str] = field(default_factory=lambda: ["classifier"])
    base_lr_mult: float = 0.1
    lr_scheduler: str = "single_step"
    stepsize: List[int] = field(default_factory=lambda: [20])
    gamma: float = 0.1
    warmup_epochs: int = 0
    warmup_factor: float = 0.01
    warmup_method: str = "linear"
    max_epoch: int = 60
    start_epoch: int = 0
    batch_size: int = 32
    fixbase_epoch: int = 0
    open_layers: List[str] = field(default_factory=lambda: ["classifier"])
    print_freq: int = 20
    save_freq: int = 0
    seed: int = 1
    precision: str = "auto"
    channels_last: bool = True

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ConfigError(
                f"train.precision must be one of {list(PRECISIONS)}, got {self.precision!r}"
            )


@dataclass
class TestConfig:
    """Evaluation.

    Attributes:
        batch_size: Test images per batch.
        dist_metric: ``euclidean`` or ``cosine``.
        normalize_feature: L2-normalise features before the distances.
        ranks: CMC ranks shown.
        evaluate: Only evaluate (no training).
        eval_freq: Evaluate (and checkpoint) every this many epochs (<= 0: at the end only).
        start_eval: First epoch at which periodic evaluation may run.
        rerank: k-reciprocal re-ranking.
        visrank: Write ranked-result grids (with ``evaluate``).
        visrank_topk: Gallery images per grid.
        use_metric_cuhk03: CUHK03 protocol.
    """

    batch_size: int = 100
    dist_metric: str = "euclidean"
    normalize_feature: bool = False
    ranks: List[int] = field(default_factory=lambda: [1, 5, 10, 20])
    evaluate: bool = False
    eval_freq: int = -1
    start_eval: int = 0
    rerank: bool = False
    visrank: bool = False
    visrank_topk: int = 10
    use_metric_cuhk03: bool = False

    def __post_init__(self) -> None:
        if self.dist_metric not in DIST_METRICS:
            raise ConfigError(
                f"test.dist_metric must be one of {list(DIST_METRICS)}, got {self.dist_metric!r}"
            )


@dataclass
class RecipeConfig:
    """A whole training recipe.

    Attributes:
        model, data, loss, train, test: The sections above.
        save_dir: Output folder (checkpoints under ``<save_dir>/model/``, tensorboard events,
            ``train.log``).
        use_gpu: Train on CUDA (with mixed precision) when available.
    """

    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    test: TestConfig = field(default_factory=TestConfig)
    save_dir: str = "log"
    use_gpu: bool = True


def config_from_dict(values: Mapping[str, Any]) -> RecipeConfig:
    """Build a :class:`RecipeConfig` from nested dicts (missing keys take their defaults).

    Raises:
        ConfigError: an unknown key (the message lists the valid ones) or a mistyped value.
    """
    return build_dataclass(RecipeConfig, values)


def config_to_dict(config: RecipeConfig) -> Dict[str, Any]:
    """The nested-dict form of ``config`` (what :func:`config_from_dict` accepts)."""
    return dataclasses.asdict(config)


def apply_overrides(values: Dict[str, Any], overrides: Sequence[str]) -> Dict[str, Any]:
    """Apply ``section.key=value`` overrides (values parsed as YAML) to nested dicts in place.

    ``section.mapping_field.key[.key...]=value`` sets one entry of a mapping field
    (``data.dataset_kwargs``), creating the inner mappings as needed.

    Raises:
        ConfigError: an override without ``=``, an unknown section/key, or a path through a
            mapping entry that is not a mapping.
    """
    return apply_dotted_overrides(RecipeConfig, values, overrides)


def load_config(path: Optional[PathLike], overrides: Sequence[str] = ()) -> RecipeConfig:
    """Read a recipe YAML file (or only defaults when ``path`` is None) and apply overrides.

    Raises:
        FileNotFoundError: ``path`` does not exist (``IsADirectoryError``: it is a folder).
        ConfigError: invalid YAML (syntax or structure), unknown key or mistyped value.
    """
    values: Dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if path.is_dir():
            raise IsADirectoryError(f"config file {path} is a directory, not a YAML recipe")
        if not path.is_file():
            raise FileNotFoundError(f"config file not found: {path}")
        loaded = parse_yaml(path.read_text(encoding="utf-8"), f"config file {path}")
        if loaded is not None and not isinstance(loaded, dict):
            raise ConfigError(
                f"{path} must hold a mapping of sections, got {type(loaded).__name__}"
            )
        values = loaded or {}
    return config_from_dict(apply_overrides(values, overrides))
