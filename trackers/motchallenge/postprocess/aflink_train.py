"""Train the AFLink model (:mod:`.aflink`) on MOTChallenge ground truth.

Samples follow the StrongSORT++ recipe. Every ground-truth track of at least
:data:`MIN_TRACK_LENGTH` frames is cut at a random point (at least a third of that length from
either end) into an earlier and a later piece, each cut end moved by a Gaussian jitter
(mean 5 rows, deviation 3) so that the pieces are separated by a random gap. From one cut:

* positive: ``(earlier, later)``;
* negatives: ``(later, earlier)`` (wrong order); ``(earlier, later shifted in time by
  +-[30, 100] frames)``; ``(earlier, later shifted by +-[100, 500] pixels in x and in y)``;
* one more negative here: ``(earlier, the later piece of another track)`` (another object,
  real motion), when there is more than one track.

Also added here, for small ground truth: each cut track is mirrored at random in x and in y
(a person walking left is as plausible as one walking right).

Training uses Adam (learning rate 1e-3, weight decay 1e-5) with cosine decay to 1e-5 and
cross-entropy, seeded (numpy and torch), on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from torch import nn

from strongsort_reid.utils.motchallenge import read_gt

from .aflink import AFLinkModel, pair_inputs

MIN_TRACK_LENGTH = 30
# Each cut gives these pairs, in this order; only the first is the same object.
PAIR_KINDS = ("positive", "reversed", "time-shifted", "space-shifted", "other-track")


def gt_tracks(gt_path: Path, min_length: int = MIN_TRACK_LENGTH) -> List[np.ndarray]:
    """The ``(n, 3)`` ``frame, x, y`` tracks of a ``gt.txt`` with at least ``min_length`` rows.

    Only rows marked considered and of class pedestrian (columns 7 and 8, as MOT17 has them)
    are used; each track is sorted by frame.
    """
    gt = read_gt(gt_path)
    gt = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1)]
    tracks = []
    for identity in np.unique(gt[:, 1]):
        track = gt[gt[:, 1] == identity][:, [0, 2, 3]]
        if len(track) >= min_length:
            tracks.append(track[np.argsort(track[:, 0], kind="stable")])
    return tracks


def cut_track(track: np.ndarray, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """A random earlier and later piece of ``track`` ``(n, 3)`` with a random gap between."""
    margin = MIN_TRACK_LENGTH // 3
    cut = int(rng.integers(margin, len(track) - margin + 1))
    end = max(1, cut + int(rng.normal(-5, 3)))
    start = min(len(track) - 1, max(end, cut + int(rng.normal(5, 3))))
    return track[:end], track[start:]


def sample_pairs(
    tracks: Sequence[np.ndarray], count: int, rng: np.random.Generator
) -> Tuple[List[Tuple[np.ndarray, np.ndarray]], np.ndarray]:
    """Pairs from ``count`` random cuts (:data:`PAIR_KINDS` each, the last only with more than
    one track) and their ``(P,)`` int64 labels (1: same object)."""
    pairs, labels = [], []
    for _ in range(count):
        index = int(rng.integers(len(tracks)))
        mirror = np.array([1.0, *rng.choice([-1.0, 1.0], size=2)])
        earlier, later = cut_track(tracks[index] * mirror, rng)
        shifted_time, shifted_space = later.copy(), later.copy()
        shifted_time[:, 0] += rng.choice([-1, 1]) * rng.integers(30, 101)
        shifted_space[:, 1:] += rng.choice([-1, 1], size=2) * rng.integers(100, 501, size=2)
        pairs += [(earlier, later), (later, earlier), (earlier, shifted_time)]
        pairs.append((earlier, shifted_space))
        labels += [1, 0, 0, 0]
        if len(tracks) > 1:
            other = (index + int(rng.integers(1, len(tracks)))) % len(tracks)
            pairs.append((earlier, cut_track(tracks[other] * mirror, rng)[1]))
            labels.append(0)
    return pairs, np.asarray(labels, dtype=np.int64)


@dataclass
class TrainResult:
    """A trained model and what it saw.

    Attributes:
        model: The trained :class:`~.aflink.AFLinkModel` (eval mode).
        tracks: Ground-truth tracks used.
        losses: Mean training loss of each tenth of the steps.
        accuracy: Accuracy on a fresh seeded sample of pairs from the same tracks.
    """

    model: AFLinkModel
    tracks: int
    losses: List[float] = field(default_factory=list)
    accuracy: float = 0.0


def train_aflink(
    gt_paths: Sequence[Path],
    steps: int = 300,
    cuts_per_step: int = 16,
    seed: int = 0,
    threads: Optional[int] = 1,
    progress: Optional[Callable[[int, float], None]] = None,
    check_cuts: int = 100,
) -> TrainResult:
    """Train AFLink on the tracks of ``gt_paths`` (``gt.txt`` files).

    Args:
        gt_paths: Ground-truth files.
        steps: Optimiser steps.
        cuts_per_step: Track cuts per batch (each gives up to 5 pairs).
        seed: Seeds numpy and torch; the same seed gives the same weights.
        threads: Torch CPU threads while training (the model is tiny: one thread is about as
            fast as several and reproducible); ``None`` keeps torch's setting.
        progress: Called as ``progress(step, loss)`` after every step.
        check_cuts: Cuts of the seeded sample that measures the final accuracy.

    Raises:
        ValueError: No track of :data:`MIN_TRACK_LENGTH` frames or more.
    """
    tracks = [t for path in gt_paths for t in gt_tracks(Path(path))]
    if not tracks:
        raise ValueError(
            f"no ground-truth track of {MIN_TRACK_LENGTH}+ frames in {[str(p) for p in gt_paths]}"
        )
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        result = _train(tracks, steps, cuts_per_step, seed, progress)
        result.accuracy = evaluate_pairs(result.model, tracks, seed + 1, check_cuts)
        return result
    finally:
        torch.set_num_threads(previous_threads)


def _train(tracks, steps, cuts_per_step, seed, progress) -> TrainResult:
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    model = AFLinkModel().train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps, eta_min=1e-5)
    loss_fn = nn.CrossEntropyLoss()
    losses: List[float] = []
    for step in range(steps):
        pairs, labels = sample_pairs(tracks, cuts_per_step, rng)
        former, latter = pair_inputs(pairs)
        loss = loss_fn(
            model(torch.from_numpy(former), torch.from_numpy(latter)), torch.from_numpy(labels)
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if progress is not None:
            progress(step + 1, losses[-1])
    tenths = np.array_split(np.asarray(losses), min(10, steps))
    return TrainResult(
        model=model.eval(),
        tracks=len(tracks),
        losses=[float(t.mean()) for t in tenths],
    )


def evaluate_pairs(
    model: AFLinkModel, tracks: Sequence[np.ndarray], seed: int, cuts: int = 100
) -> float:
    """Accuracy of ``model`` (probability > 0.5 means "same") on seeded sampled pairs."""
    pairs, labels = sample_pairs(tracks, cuts, np.random.default_rng(seed))
    probability = model.probability(*pair_inputs(pairs))
    return float(np.mean((probability > 0.5) == (labels == 1)))


def save_aflink(result: TrainResult, path: Path, meta: Dict[str, object]) -> Path:
    """Write the weights (floats in half precision: half the file, same links) and ``meta``
    (JSON-able: sources, seed, steps) atomically."""
    from strongsort_reid.utils.checkpoint import save_checkpoint

    state = {
        name: value.half() if value.is_floating_point() else value
        for name, value in result.model.state_dict().items()
    }
    meta = {**meta, "tracks": result.tracks, "accuracy": result.accuracy}
    return save_checkpoint({"state_dict": state, "meta": meta}, path)
