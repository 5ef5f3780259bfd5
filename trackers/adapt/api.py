"""``adapt(source)``: fit the ReID model to one camera without labels.

Each round tracks the source (with the starting weights, then with the previous round's), mines
pseudo-identities from the tracks (:mod:`.mining`), cuts their crops (:mod:`.dataset`) and
fine-tunes the *starting* weights on them (:mod:`.finetune`): later rounds only improve the
pseudo-identities, so errors do not compound and the distillation always pulls towards the
original model. Part of the pseudo-identities is held out: the fine-tune's weights are written
only when they score better on them than the starting weights by more than the noise
(:mod:`.validation`); otherwise the round writes the starting checkpoint unchanged. The last
round's checkpoint is the result.

>>> result = adapt("video.mp4", minutes=3)                       # doctest: +SKIP
>>> StrongSORT(reid_weights=result.weights)                      # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Optional, Sequence, Union

import numpy as np

from strongsort_reid.engine.config import RecipeConfig
from strongsort_reid.models.weights import infer_arch, resolve_weights
from strongsort_reid.weights import DEFAULT_DETECTOR

from .compare import cuhk01_scores, has_ground_truth, tracking_scores
from .dataset import write_crop_sets
from .finetune import (
    FineTuneOptions,
    FineTuneResult,
    fine_tune,
    keep_start_weights,
    load_recipe,
)
from .mining import MiningConfig, PseudoIdentities, mine_identities
from .report import AdaptResult, RoundReport
from .tracking import TrackingSettings, track_source
from .validation import ValidationSet, held_out_labels, min_identities, subset

PathLike = Union[str, Path]


class TooFewIdentities(ValueError):
    """The tracks hold fewer than two pseudo-identities: nothing to learn from."""


def default_output(source: str) -> Path:
    """A fresh ``runs/adapt/<source name>[-N]``."""
    name = Path(str(source).rstrip("/")).stem or "source"
    base = folder = Path("runs") / "adapt" / name
    number = 2
    while folder.exists():
        folder, number = base.with_name(f"{name}-{number}"), number + 1
    return folder


def adapt(
    source: PathLike,
    output: Optional[PathLike] = None,
    reid_weights: str = "osnet_x0_25_msmt17",
    minutes: float = 2.0,
    rounds: int = 1,
    recipe: Optional[PathLike] = None,
    recipe_overrides: Sequence[str] = (),
    mining: Optional[MiningConfig] = None,
    training: Optional[FineTuneOptions] = None,
    tracking: Optional[TrackingSettings] = None,
    cuhk01_root: Optional[PathLike] = None,
    evaluate: bool = True,
    say: Callable[[str], None] = lambda _message: None,
    progress: bool = False,
) -> AdaptResult:
    """Adapt ``reid_weights`` to ``source`` and write the weights and the report.

    Args:
        source: A video, image folder/glob or MOTChallenge sequence folder.
        output: Output folder (default: :func:`default_output`); the adapted checkpoint is
            ``<output>/<arch>_adapted.pth``, the report ``report.json`` / ``report.txt``.
        reid_weights: Starting weights (registered name or checkpoint path).
        minutes: Fine-tune time budget per round (overrides ``training.minutes``).
        rounds: Track-mine-fine-tune rounds (>= 1).
        recipe, recipe_overrides: Training recipe YAML (default: the shipped
            ``finetune_small`` recipe with :data:`~trackers.adapt.finetune.ADAPT_OVERRIDES`)
            and ``section.key=value`` overrides.
        mining: Pseudo-identity thresholds (default :class:`MiningConfig`).
        training: Distillation, BatchNorm, epochs, seed (default :class:`FineTuneOptions`).
        tracking: Detector, det file, tracker configuration, frame limit.
        cuhk01_root: Folder holding CUHK01: report its rank-1/mAP before and after.
        evaluate: Score the tracking before/after when ``source`` is a MOTChallenge sequence
            with ``gt/gt.txt`` (the ground truth is read only for this score).
        say: Where progress lines go.
        progress: Show progress bars.

    Raises:
        TooFewIdentities: fewer than two pseudo-identities were mined.
        ValueError, FileNotFoundError: bad source, weights, recipe or settings.
    """
    if rounds < 1 or minutes <= 0:
        raise ValueError(f"rounds must be >= 1 and minutes > 0, got {rounds}, {minutes}")
    source = str(source)
    output = Path(output) if output is not None else default_output(source)
    output.mkdir(parents=True, exist_ok=True)
    start_weights = resolve_weights(reid_weights)
    arch = infer_arch(reid_weights)
    tracking = tracking or TrackingSettings(yolo_model=DEFAULT_DETECTOR)
    training = replace(training or FineTuneOptions(), minutes=minutes)
    config = load_recipe(Path(recipe) if recipe else None, recipe_overrides)
    config = replace(config, model=replace(config.model, name=arch))
    result = AdaptResult(
        weights=output / f"{arch}_adapted.pth", source=source, start_weights=str(reid_weights)
    )
    plan = _Plan(config, mining or MiningConfig(), training, tracking, say, progress)
    wall, cpu = time.perf_counter(), time.process_time()
    current = start_weights
    for number in range(1, rounds + 1):
        folder = output / f"round{number}"
        folder.mkdir(exist_ok=True)
        target = result.weights if number == rounds else folder / f"{arch}_adapted.pth"
        say(f"round {number}/{rounds}: tracking {source} with {current}")
        report = _round(source, current, start_weights, folder, target, plan)
        result.rounds.append(report)
        current = target
    result.wall_seconds = time.perf_counter() - wall
    result.cpu_seconds = time.process_time() - cpu
    _measure(result, start_weights, plan, output, cuhk01_root, evaluate)
    result.write(output)
    return result


def _measure(result: AdaptResult, start_weights, plan, output: Path, cuhk01_root, evaluate):
    """Fill ``result``'s before/after tracking scores (a sequence with ground truth, when
    ``evaluate``) and CUHK01 scores (when ``cuhk01_root``), and the seconds they took."""
    measured, say = time.perf_counter(), plan.say
    if evaluate and has_ground_truth(result.source):
        say("scoring the tracking before and after with the ground truth")
        result.tracking = _compare_tracking(
            result.source, start_weights, result.weights, plan.tracking, output / "cache", say
        )
    if cuhk01_root is not None:
        say("evaluating CUHK01 before and after")
        result.cuhk01 = _compare_cuhk01(
            start_weights, result.weights, cuhk01_root, plan.recipe.model.name, plan.training
        )
    if result.tracking is not None or result.cuhk01 is not None:
        result.comparison_seconds = time.perf_counter() - measured


@dataclass
class _Plan:
    """What every round uses."""

    recipe: RecipeConfig
    mining: MiningConfig
    training: FineTuneOptions
    tracking: TrackingSettings
    say: Callable[[str], None]
    progress: bool


def _round(source, tracked_with, start_weights, folder, target, plan: _Plan) -> RoundReport:
    """Track, mine, write crops and fine-tune once."""
    started = time.perf_counter()
    rows, fps, summary = track_source(
        source, tracked_with, plan.tracking, folder / "tracks.txt", plan.say, plan.progress
    )
    tracking_seconds = time.perf_counter() - started
    identities = mine_identities(rows, fps, plan.mining)
    stats = dict(identities.stats)
    if identities.num_identities < 2:
        raise TooFewIdentities(
            f"only {identities.num_identities} pseudo-identities in {summary.frames} frames of "
            f"{source} ({stats['tracks']} tracks): adapt needs people tracked for at least "
            f"{plan.mining.min_frames} frames without occlusion (a longer source, or lower "
            "min_frames / min_height)"
        )
    train, held_out = _split(identities, plan)
    crops, held_out_crops = folder / "crops", folder / "held_out"
    sets = {crops: train} if held_out is None else {crops: train, held_out_crops: held_out}
    written = write_crop_sets(sets, source, plan.tracking.max_frames)
    stats["crops_written"] = sum(written.values())
    if held_out is not None:
        stats["held_out_identities"] = held_out.num_identities
        stats["held_out_crops"] = written[held_out_crops]
    mining_seconds = time.perf_counter() - started - tracking_seconds
    plan.say(
        f"{stats['identities']} pseudo-identities, {stats['crops_written']} crops, "
        f"{stats['negative_pairs']} co-occurrence negative pairs"
        + ("" if held_out is None else f"; {held_out.num_identities} identities held out")
    )
    if plan.training.holdout > 0 and held_out is None:
        reason = _unvalidated(identities, plan.training.alpha)
        plan.say(f"kept the starting weights, no fine-tune: {reason}")
        keep_start_weights(start_weights, target)
        tuned = FineTuneResult(weights=target, stopped_by="not validated")
        validation = {"adopted": False, "reason": reason, "scores": []}
    else:
        plan.say("fine-tuning")
        held = None
        if held_out is not None:
            held = ValidationSet.from_folder(held_out_crops, held_out.cooccur)
        tuned = fine_tune(
            crops,
            train.cooccur,
            start_weights,
            target,
            plan.recipe,
            plan.training,
            plan.say,
            held,
        )
        validation = tuned.selection.to_dict() if tuned.selection is not None else None
    return RoundReport(
        tracked_with=str(tracked_with),
        frames=summary.frames,
        tracking_seconds=tracking_seconds,
        mining=stats,
        tracking_stage_ms=dict(summary.stage_ms),
        mining_seconds=mining_seconds,
        epochs=tuned.epochs,
        training_seconds=tuned.seconds,
        stopped_by=tuned.stopped_by,
        weights=str(target),
        validation=validation,
    )


def _split(identities: PseudoIdentities, plan: _Plan):
    """``(training, held-out)`` pseudo-identities; held-out is ``None`` without validation or
    when too few identities can be held out for the test to decide."""
    training = plan.training
    seed = plan.recipe.train.seed if training.seed is None else training.seed
    held = held_out_labels(identities.cooccur, training.holdout, training.alpha, seed)
    if len(held) < min_identities(training.alpha):
        return identities, None
    rest = np.setdiff1d(np.arange(identities.num_identities), held)
    return subset(identities, rest), subset(identities, held)


def _unvalidated(identities: PseudoIdentities, alpha: float) -> str:
    needed = min_identities(alpha)
    return (
        f"{identities.num_identities} pseudo-identities are too few to validate an adaptation "
        f"(at most half may be held out, each seen with another held-out one, and the test at "
        f"{alpha:g} needs {needed})"
    )


def _compare_cuhk01(before, after, root, arch, training: FineTuneOptions):
    """CUHK01 rank-1 and mAP of both weights."""
    return {
        label: cuhk01_scores(weights, Path(root), arch, training.use_gpu)
        for label, weights in (("before", before), ("after", after))
    }


def _compare_tracking(source, before, after, tracking: TrackingSettings, cache, say):
    """Tracking scores of both weights on a sequence with ground truth (same detections)."""
    seq = Path(source).resolve()
    use_det_file = tracking.det_file is not None
    if use_det_file and Path(tracking.det_file).resolve() != seq / "det" / "det.txt":
        say("tracking not scored: --det-file is not the sequence's det/det.txt")
        return None
    return {
        label: tracking_scores(
            seq, weights, tracking.yolo_model, use_det_file, tracking.tracker_config, cache, say
        )
        for label, weights in (("before", before), ("after", after))
    }
