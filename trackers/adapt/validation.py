"""Model selection without labels: is the adapted model better than the starting one?

Part of the pseudo-identities is held out of the fine-tune (whole identities: people the model
never trained on, as every later person of the camera will be). Each held-out crop is a query;
its gallery is the other crops of its pseudo-identity (positives) and the crops of the held-out
pseudo-identities that share a frame with it somewhere in the source (guaranteed negatives);
pseudo-identities that never co-occur may be one person and are left out of each other's
gallery. The score of a model is the *pseudo-mAP*: the mean over held-out identities of the mean
average precision of their queries (cosine distance, as the tracker matches).

The starting weights are scored before training and the model after every epoch; the best epoch
is kept only if its gain over the start is larger than the validation's noise: a paired sign-flip
(randomisation) test over the held-out identities. Under "no gain" each identity's change of
score is as likely negative as positive, so the noise margin is the ``1 - alpha`` quantile, over
all ``2^n`` sign flips of the per-identity changes (one sign per identity, shared by the epochs),
of the best epoch's mean change; the gain must exceed it (p-value < ``alpha``). Taking the best
epoch inside the statistic accounts for choosing it on the same data. With ``n`` identities the
smallest p-value is ``2^-n``, so fewer than 5 (``alpha = 0.05``) can never show a gain and the
starting weights are kept; identities are the unit, not crops, because one person's crops are
not independent.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
import torch
from PIL import Image
from torch import nn

from .mining import PseudoIdentities

# Sign flips are enumerated exactly up to this many identities, sampled (seeded) above.
EXACT_FLIPS_MAX = 16
SAMPLED_FLIPS = 20000


def min_identities(alpha: float) -> int:
    """Fewest held-out identities whose sign-flip test can reach a p-value below ``alpha``."""
    return max(2, math.floor(math.log2(1.0 / alpha)) + 1)


def subset(identities: PseudoIdentities, keep: Sequence[int]) -> PseudoIdentities:
    """The pseudo-identities ``keep`` (labels, ascending) relabelled ``0 .. len(keep)-1``."""
    keep = np.asarray(sorted(int(k) for k in keep), dtype=np.int64)
    relabel = np.full(identities.num_identities, -1, dtype=np.int64)
    relabel[keep] = np.arange(len(keep))
    rows = relabel[identities.labels] >= 0
    return replace(
        identities,
        frames=identities.frames[rows],
        boxes=identities.boxes[rows],
        labels=relabel[identities.labels[rows]],
        track_ids=identities.track_ids[keep],
        spans=identities.spans[keep],
        cooccur=identities.cooccur[np.ix_(keep, keep)],
        stats={**identities.stats, "identities": len(keep), "crops": int(rows.sum())},
    )


def held_out_labels(cooccur: np.ndarray, fraction: float, alpha: float, seed: int) -> np.ndarray:
    """Labels of the pseudo-identities to hold out (ascending; empty when none).

    ``max(ceil(fraction * P), min_identities(alpha))`` of the ``P`` identities, at most ``P //
    2`` (the fine-tune keeps at least half), each with a guaranteed negative among the others
    (else none of its crops could be scored). Identities are visited in a seeded random order;
    one that co-occurs with an identity already held out joins, else it joins together with the
    first (in that order) identity it co-occurs with (ending one above the count at most).
    Fewer than two held out: none.

    Args:
        cooccur: ``(P, P)`` bool guaranteed negative pairs.
        fraction: Fraction of the identities to hold out, in ``[0, 1)`` (0: none).
        alpha: Significance of the test (sets the minimum count).
        seed: Seed of the order.
    """
    count = len(cooccur)
    if fraction <= 0 or count < 4:
        return np.empty(0, dtype=np.int64)
    wanted = min(max(math.ceil(fraction * count), min_identities(alpha)), count // 2)
    order = np.random.default_rng(seed).permutation(count)
    held = np.zeros(count, dtype=bool)
    for candidate in order:
        if held.sum() >= wanted:
            break
        if held[candidate]:
            continue
        if cooccur[candidate, held].any():
            held[candidate] = True
            continue
        partners = [p for p in order if cooccur[candidate, p] and not held[p]]
        if partners and held.sum() + 2 <= count // 2:  # may end one above ``wanted``
            held[[candidate, partners[0]]] = True
    return np.flatnonzero(held) if held.sum() >= 2 else np.empty(0, dtype=np.int64)


@dataclass
class ValidationSet:
    """Held-out crops and which of them may be compared.

    Attributes:
        paths: ``(N,)`` crop files.
        labels: ``(N,)`` int64 held-out pseudo-identity of each crop.
        negatives: ``(Q, Q)`` bool guaranteed negative pairs of the held-out identities.
    """

    paths: List[Path]
    labels: np.ndarray
    negatives: np.ndarray

    @classmethod
    def from_folder(cls, root: Path, negatives: np.ndarray) -> ValidationSet:
        """The crops ``root/<label>/<frame>.jpg`` (:func:`~trackers.adapt.dataset.write_crops`)."""
        paths = sorted(Path(root).glob("*/*.jpg"))
        labels = np.asarray([int(p.parent.name) for p in paths], dtype=np.int64)
        return cls(paths, labels, np.asarray(negatives, dtype=bool))

    @property
    def num_identities(self) -> int:
        return len(self.negatives)

    def images(self, transform: Callable[[Image.Image], torch.Tensor]) -> torch.Tensor:
        """``(N, 3, H, W)`` float32: every crop through the test ``transform``."""
        return torch.stack([transform(Image.open(p).convert("RGB")) for p in self.paths])


def embed(model: nn.Module, images: torch.Tensor, batch: int = 64) -> np.ndarray:
    """``(N, D)`` L2-normalised features of ``images`` in eval mode (the mode is restored)."""
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        parts = [
            model(images[i : i + batch].to(device)).float() for i in range(0, len(images), batch)
        ]
    model.train(was_training)
    features = torch.cat(parts)
    return torch.nn.functional.normalize(features, dim=1).cpu().numpy()


def identity_scores(
    features: np.ndarray, labels: np.ndarray, negatives: np.ndarray
) -> Dict[int, float]:
    """Mean average precision of each identity's queries (module docstring).

    Args:
        features: ``(N, D)`` L2-normalised features.
        labels: ``(N,)`` identity of each row.
        negatives: ``(Q, Q)`` bool guaranteed negative pairs.

    Returns:
        ``{identity: mean AP in [0, 1]}`` for identities with at least one query that has a
        positive and a negative.
    """
    distance = 1.0 - features @ features.T
    same = labels[:, None] == labels[None, :]
    gallery = (same | negatives[labels][:, labels]) & ~np.eye(len(labels), dtype=bool)
    per_identity: Dict[int, List[float]] = {}
    for query in range(len(labels)):
        candidates = np.flatnonzero(gallery[query])
        relevant = same[query, candidates]
        if relevant.all() or not relevant.any():
            continue
        order = np.argsort(distance[query, candidates], kind="stable")
        hits = relevant[order]
        precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
        per_identity.setdefault(int(labels[query]), []).append(float(precision[hits].mean()))
    return {label: float(np.mean(values)) for label, values in sorted(per_identity.items())}


def sign_flip_test(changes: np.ndarray, alpha: float, seed: int) -> Tuple[float, float]:
    """Noise margin and p-value of the best epoch's mean change (module docstring).

    Args:
        changes: ``(E, n)`` change of score of each of ``n`` identities after each of ``E``
            epochs (or ``(n,)``: one epoch).
        alpha: Significance.
        seed: Seed of the sampled flips (more than ``EXACT_FLIPS_MAX`` identities).

    Returns:
        ``(margin, p_value)``: the ``1 - alpha`` quantile of the best epoch's mean change over
        the sign flips (one sign per identity, shared by all epochs: picking the best epoch
        is part of the statistic) and the fraction of flips at least the observed best.
    """
    changes = np.atleast_2d(np.asarray(changes, dtype=np.float64))
    count = changes.shape[1]
    if count == 0 or changes.shape[0] == 0:
        return float("inf"), 1.0
    if count <= EXACT_FLIPS_MAX:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=count)))
    else:
        signs = np.random.default_rng(seed).choice((1.0, -1.0), size=(SAMPLED_FLIPS, count))
    best = (signs @ changes.T / count).max(axis=1)
    observed = changes.mean(axis=1).max()
    p_value = float(np.mean(best >= observed - 1e-12))
    return float(np.quantile(best, 1.0 - alpha, method="higher")), p_value


@dataclass
class Selection:
    """The validation's verdict.

    Attributes:
        scores: Pseudo-mAP (percent) of the start (index 0) and after each epoch.
        best_epoch: Epoch with the best score (0: the start); written only when ``adopted``.
        gain: Its score minus the start's (points).
        margin: Noise margin of the gain (points; ``inf`` when the test cannot decide).
        p_value: One-sided p-value of the gain.
        adopted: Whether the best epoch's weights are written (else the starting weights).
        identities: Held-out identities scored.
        reason: One line for people.
    """

    scores: List[float]
    best_epoch: int
    gain: float
    margin: float
    p_value: float
    adopted: bool
    identities: int
    reason: str

    def to_dict(self) -> Dict[str, object]:
        """JSON-able (an infinite margin is ``None``)."""
        return {**vars(self), "margin": self.margin if math.isfinite(self.margin) else None}


def select_epoch(per_epoch: Sequence[Dict[int, float]], alpha: float, seed: int) -> Selection:
    """Pick the best epoch and test it against the start.

    Args:
        per_epoch: Per-identity scores (:func:`identity_scores`) of the start, then of each
            epoch (same identities in each).
        alpha: Significance of the sign-flip test.
        seed: Seed of the sampled sign flips (more than ``EXACT_FLIPS_MAX`` identities).
    """
    identities = sorted(per_epoch[0])
    table = np.array([[scores[i] for i in identities] for scores in per_epoch]) * 100.0
    means = table.mean(axis=1) if identities else np.zeros(len(per_epoch))
    best = int(np.argmax(means))  # the first of equal scores: the start wins ties
    gain = float(means[best] - means[0])
    margin, p_value = sign_flip_test(table[1:] - table[0], alpha, seed)
    needed = min_identities(alpha)
    if len(identities) < needed:
        adopted = False
        reason = (
            f"{len(identities)} held-out pseudo-identities cannot show a gain (a sign-flip test "
            f"at {alpha:g} needs {needed})"
        )
    elif best == 0:
        adopted, reason = False, "no epoch scored above the starting weights"
    else:
        adopted = p_value < alpha
        reason = (
            f"epoch {best} gains {gain:+.2f} points, noise margin {margin:.2f} (p = {p_value:.3g})"
        )
    return Selection(
        scores=[float(m) for m in means],
        best_epoch=best,
        gain=gain,
        margin=margin,
        p_value=p_value,
        adopted=adopted,
        identities=len(identities),
        reason=reason,
    )
