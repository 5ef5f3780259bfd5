"""Fine-tune the ReID model on mined crops with the project's engine, within a time budget.

The training recipe (model, input size, augmentations, P x K sampling, optimizer, loss weights)
is a :class:`~strongsort_reid.engine.config.RecipeConfig`: the shipped ``finetune_small`` recipe
with :data:`ADAPT_OVERRIDES` unless a recipe YAML is given (any of ``configs/*.yaml``, taken as
is); the data section's dataset is replaced by the crops, and ``model.load_weights`` by the
starting weights. Epochs run until ``train.max_epoch`` or until the time budget is spent
(checked before every batch). With a held-out :class:`~trackers.adapt.validation.ValidationSet`
the start and every epoch are scored on it and the best epoch is written only when it beats the
start by more than the validation's noise (:func:`~trackers.adapt.validation.select_epoch`);
otherwise the starting checkpoint is copied unchanged.
"""

from __future__ import annotations

import copy
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from strongsort_reid.data import ImageDataManager
from strongsort_reid.engine import build_checkpoint, set_random_seed
from strongsort_reid.engine.config import RecipeConfig, load_config
from strongsort_reid.engine.recipe import build_optimization, build_reid_model
from strongsort_reid.engine.recipes import recipe_path
from strongsort_reid.utils.checkpoint import save_checkpoint

from .objective import AdaptEngine, BudgetExhausted
from .validation import Selection, ValidationSet, embed, identity_scores, select_epoch

# adapt's default recipe: the small-data fine-tuning recipe (configs/finetune_small.yaml, shipped
# as strongsort_reid/engine/recipes/finetune_small.yaml) with what differs for pseudo-identities
# mined from a few minutes of one camera (a few dozen people, ~12 crops each, on 2 CPU cores).
# Kept from the recipe: model and input size, P x K = 8 x 4 batches, Adam, weight decay, triplet
# margin, cosine schedule, seed.
ADAPT_OVERRIDES: Tuple[str, ...] = (
    # The starting model should move, not be replaced (distillation pulls the same way): 10x
    # below the recipe's 3e-4, which suits hundreds of labelled identities.
    "train.lr=3e-5",
    # Few epochs, full rate from the first batch: the budget often ends the run early (vtest.avi,
    # 558 crops: 2 of 8 epochs in the default 2 minutes on 2 cores), and a warmup would spend
    # those epochs at a fraction of the rate. The cosine decays over what runs to max_epoch.
    "train.max_epoch=8",
    "train.warmup_epochs=0",
    # No identity cross entropy: it would push apart the fragments of one person that the
    # mining cut at gaps, and its fresh classifier needs classifier-only epochs that a few
    # minutes cannot spare; the triplet uses only the guaranteed negatives. Enable it with
    # loss.weight_x=1 train.fixbase_epoch=1.
    "loss.weight_x=0",
    "train.fixbase_epoch=0",
    # Colour jitter instead of random erasing: with erasing, TUD-Campus's 5 pseudo-identities
    # cost 5.4 CUHK01 mAP (forgetting guard: 2), with colour jitter 1.0 (bench_adapt.py, seed 1).
    "data.transforms=[random_flip,random_crop,color_jitter]",
    # A few hundred small crops load in ~1% of a training step: no worker processes.
    "data.workers=0",
    # adapt prints one line per epoch itself.
    "train.print_freq=1000",
)


@dataclass
class FineTuneOptions:
    """Adaptation settings on top of the recipe.

    Attributes:
        minutes: Time budget of the fine-tune in minutes: no batch starts after it (the
            first always runs). A run stopped by the budget depends on the machine's speed;
            ``max_epochs`` with an ample budget reproduces exactly.
        max_epochs: Cap on the epochs (``None``: the recipe's ``train.max_epoch``).
        distill_weight: Weight of the feature distillation to the starting model (0: off).
        freeze_bn: Keep the starting model's BatchNorm statistics.
        seed: Seed of every random generator (``None``: the recipe's ``train.seed``).
        use_gpu: Train on CUDA when available.
        holdout: Fraction of the pseudo-identities held out to validate the adaptation (at
            least :func:`~trackers.adapt.validation.min_identities`, at most half); 0: no
            validation, the last epoch is written.
        alpha: Significance of the validation's test: the adapted weights are written only
            when a gain this large would arise by chance with probability below ``alpha``.
    """

    minutes: float = 2.0
    max_epochs: Optional[int] = None
    distill_weight: float = 1.0
    freeze_bn: bool = True
    seed: Optional[int] = None
    use_gpu: bool = False
    holdout: float = 0.25
    alpha: float = 0.05

    def __post_init__(self):
        if not 0.0 <= self.holdout < 1.0 or not 0.0 < self.alpha < 1.0:
            raise ValueError(
                f"holdout must be in [0, 1) and alpha in (0, 1), got {self.holdout}, {self.alpha}"
            )


@dataclass
class FineTuneResult:
    """Weights written and what each epoch did.

    Attributes:
        weights: The adapted checkpoint (torchreid format, loads by path everywhere).
        epochs: Per epoch: the means of the batch statistics, ``batches``, ``seconds``, ``lr``.
        seconds: Wall time of the fine-tune.
        stopped_by: ``"max_epoch"`` or ``"time budget"``.
        selection: The validation's verdict (``None`` without validation).
    """

    weights: Path
    epochs: List[Dict[str, float]] = field(default_factory=list)
    seconds: float = 0.0
    stopped_by: str = "max_epoch"
    selection: Optional[Selection] = None


def load_recipe(path: Optional[Path] = None, overrides: Sequence[str] = ()) -> RecipeConfig:
    """The recipe at ``path`` (a training YAML) with ``section.key=value`` overrides; without
    ``path``, the shipped ``finetune_small`` recipe with :data:`ADAPT_OVERRIDES`, then
    ``overrides``."""
    if path is not None:
        return load_config(path, list(overrides))
    return load_config(recipe_path("finetune_small"), [*ADAPT_OVERRIDES, *overrides])


def _crops_recipe(recipe: RecipeConfig, crops: Path, weights: Path, identities: int):
    """``recipe`` reading the crop folder and starting from ``weights``; the batch shrinks to
    what the identities can fill (P >= 2)."""
    k = recipe.data.num_instances
    batch = min(recipe.train.batch_size, k * max(2, identities))
    data = replace(
        recipe.data,
        root=str(crops),
        sources=["folder"],
        targets=["folder"],
        dataset_kwargs={"folder": {"test_ratio": 0.0}},
    )
    return replace(
        recipe,
        data=data,
        model=replace(recipe.model, load_weights=str(weights), resume=""),
        train=replace(recipe.train, batch_size=batch - batch % k),
        loss=replace(recipe.loss, name="triplet"),
    )


def _datamanager(recipe: RecipeConfig, seed: int, use_gpu: bool) -> ImageDataManager:
    data = recipe.data
    return ImageDataManager(
        root=data.root,
        sources=data.sources,
        height=data.height,
        width=data.width,
        transforms=data.transforms,
        norm_mean=data.norm_mean,
        norm_std=data.norm_std,
        use_gpu=use_gpu,
        batch_size_train=recipe.train.batch_size,
        workers=data.workers,
        num_instances=data.num_instances,
        train_sampler=data.train_sampler,
        seed=seed,
        dataset_kwargs=data.dataset_kwargs,
        verbose=False,
    )


def _label_of_pid(datamanager: ImageDataManager) -> torch.Tensor:
    """The pseudo-identity of each dataset pid, read from the crop folder names."""
    labels = {}
    for path, pid, _camid, _dsetid in datamanager.train_set.train:
        labels[pid] = int(Path(path).parent.name)
    if sorted(labels) != list(range(datamanager.num_train_pids)):
        raise ValueError("crop folder relabelling is not contiguous")
    return torch.as_tensor([labels[pid] for pid in range(len(labels))], dtype=torch.int64)


def fine_tune(
    crops: Path,
    negatives: np.ndarray,
    start_weights: Path,
    output: Path,
    recipe: RecipeConfig,
    options: FineTuneOptions,
    say: Callable[[str], None],
    validation: Optional[ValidationSet] = None,
) -> FineTuneResult:
    """Train on ``crops/<label>/*.jpg`` and write the adapted checkpoint to ``output``.

    Args:
        crops: Crop folder (:func:`~trackers.adapt.dataset.write_crops`).
        negatives: ``(P, P)`` bool guaranteed negative pairs of the labels.
        start_weights: Checkpoint the model starts from (also the distillation teacher).
        output: Path of the adapted checkpoint.
        recipe: The training recipe (:func:`load_recipe`).
        options: Budget, distillation, BatchNorm and seed.
        say: Where the per-epoch lines go.
        validation: Held-out crops that decide between the epochs and the start (see the
            module docstring); ``None``: the last epoch is written.
    """
    start = time.perf_counter()
    seed = recipe.train.seed if options.seed is None else options.seed
    set_random_seed(seed)
    recipe = _crops_recipe(recipe, crops, start_weights, len(negatives))
    use_gpu = options.use_gpu and torch.cuda.is_available()
    datamanager = _datamanager(recipe, seed, use_gpu)
    model = build_reid_model(recipe, datamanager.num_train_pids)
    teacher = copy.deepcopy(model) if options.distill_weight > 0 else None
    optimizer, scheduler = build_optimization(model, recipe.train)
    engine = AdaptEngine(
        datamanager,
        model,
        optimizer,
        _label_of_pid(datamanager),
        torch.as_tensor(negatives, dtype=torch.bool),
        teacher,
        options.distill_weight,
        options.freeze_bn,
        scheduler,
        recipe.loss.margin,
        recipe.loss.weight_t,
        recipe.loss.weight_x,
        recipe.loss.label_smooth,
        use_gpu,
    )
    max_epochs = options.max_epochs or recipe.train.max_epoch
    result = FineTuneResult(weights=Path(output))
    engine.deadline = start + 60.0 * options.minutes
    validator = _Validator(validation, model, datamanager) if validation is not None else None
    for epoch in range(max_epochs):
        epoch_start, first_batch = time.perf_counter(), len(engine.batch_stats)
        try:
            engine.train(
                epoch, recipe.train.print_freq, recipe.train.fixbase_epoch, recipe.train.open_layers
            )
        except BudgetExhausted:
            result.stopped_by = "time budget"
        batches = engine.batch_stats[first_batch:]
        if batches:
            stats = {key: float(np.mean([b[key] for b in batches])) for key in batches[0]}
            stats.update(batches=len(batches), seconds=time.perf_counter() - epoch_start)
            if validator is not None:
                stats["val_mAP"] = validator.score_epoch(len(result.epochs) + 1)
            result.epochs.append({**stats, "lr": engine.get_current_lr()})
            say(f"epoch {epoch + 1}/{max_epochs}: " + _format_stats(result.epochs[-1]))
        if result.stopped_by == "time budget":
            break
    if validator is None:
        _save(model, len(result.epochs), result.weights)
    else:
        result.selection = select_epoch(validator.per_epoch, options.alpha, seed)
        _write_selected(result.selection, validator, start_weights, result.weights, say)
    result.seconds = time.perf_counter() - start
    return result


class _Validator:
    """Scores the model on the held-out crops and keeps each epoch's weights (a small network:
    ~1 MB per copy for osnet_x0_25)."""

    def __init__(self, validation: ValidationSet, model: torch.nn.Module, datamanager):
        self.validation, self.model = validation, model
        self.images = validation.images(datamanager.preprocess_pil_img)
        self.per_epoch: List[Dict[int, float]] = []
        self.states: Dict[int, Dict[str, torch.Tensor]] = {}
        self.score_epoch(0)  # the starting weights

    def score_epoch(self, epoch: int) -> float:
        """Score the model as it is after ``epoch`` epochs; returns the pseudo-mAP (%)."""
        features = embed(self.model, self.images)
        scores = identity_scores(features, self.validation.labels, self.validation.negatives)
        self.per_epoch.append(scores)
        if epoch > 0:
            self.states[epoch] = copy.deepcopy(self.model.state_dict())
        return 100.0 * float(np.mean(list(scores.values()))) if scores else 0.0


def _write_selected(selection: Selection, validator: _Validator, start_weights, output, say):
    """The best epoch's weights when adopted, else a copy of the starting checkpoint."""
    scores = selection.scores
    if selection.adopted:
        validator.model.load_state_dict(validator.states[selection.best_epoch])
        _save(validator.model, selection.best_epoch, output)
        say(
            f"adapted weights from epoch {selection.best_epoch}: validation pseudo-mAP "
            f"{scores[0]:.2f} -> {scores[selection.best_epoch]:.2f} ({selection.reason})"
        )
    else:
        keep_start_weights(start_weights, output)
        say(
            f"kept the starting weights: validation pseudo-mAP {scores[0]:.2f} -> "
            f"{scores[selection.best_epoch]:.2f} ({selection.reason})"
        )


def keep_start_weights(start_weights, output) -> None:
    """Write the starting checkpoint unchanged as the result ``output``."""
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(start_weights, output)


def _save(model: torch.nn.Module, epochs: int, path: Path) -> None:
    state = build_checkpoint(model, epochs, optimizer=None)
    state.pop("rng_state")
    save_checkpoint(state, path)


def _format_stats(stats: Dict[str, float]) -> str:
    return ", ".join(f"{key} {value:.3g}" for key, value in stats.items())
