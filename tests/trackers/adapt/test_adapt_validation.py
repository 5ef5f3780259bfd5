"""The held-out validation that decides between the adapted and the starting weights: the
pseudo-mAP, the sign-flip test, the epoch selection and the choice of held-out identities."""

from __future__ import annotations

import numpy as np
import pytest

from trackers.adapt.mining import PseudoIdentities
from trackers.adapt.validation import (
    held_out_labels,
    identity_scores,
    min_identities,
    select_epoch,
    sign_flip_test,
    subset,
)


def _unit(*rows):
    features = np.asarray(rows, dtype=np.float64)
    return features / np.linalg.norm(features, axis=1, keepdims=True)


def test_pseudo_map_ranks_positives_against_guaranteed_negatives_only():
    # identity 0: crops a0, a1; identity 1 (co-occurs with 0): b0; identity 2 never co-occurs
    # with 0 and looks exactly like a0: it is not in 0's gallery, so it cannot hurt 0's score.
    features = _unit([1, 0], [0.8, 0.6], [0, 1], [1, 0])
    labels = np.array([0, 0, 1, 2])
    negatives = np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]], dtype=bool)
    assert identity_scores(features, labels, negatives) == {0: 1.0}
    # b0 moves between a0 and a1, nearer to each than they are to each other: AP 1/2 each
    features = _unit([1, 0], [0.6, 0.8], [0.8, 0.6], [1, 0])
    assert identity_scores(features, labels, negatives) == {0: 0.5}


def test_sign_flip_test_needs_five_identities_at_five_percent():
    assert min_identities(0.05) == 5 and min_identities(0.01) == 7
    margin, p_value = sign_flip_test(np.full(4, 1.0), 0.05, seed=0)
    assert p_value == 1 / 16 and margin == 1.0  # all four up is not enough
    margin, p_value = sign_flip_test(np.full(5, 1.0), 0.05, seed=0)
    assert p_value == 1 / 32 and margin < 1.0
    margin, p_value = sign_flip_test(np.array([3.0, -1, -1, -1, -1, 1]), 0.05, seed=0)
    assert p_value > 0.05 and margin > 0
    # choosing the best of several epochs is part of the statistic: a larger p-value
    one = sign_flip_test(np.array([2.0, 2, 2, 2, 2, -1]), 0.05, seed=0)
    several = sign_flip_test(np.array([[2.0, 2, 2, 2, 2, -1], [-1, 2, 2, 2, 2, 2]]), 0.05, 0)
    assert several[1] > one[1] and several[0] >= one[0]


def _epochs(*means_per_identity):
    return [dict(enumerate(scores)) for scores in means_per_identity]


def test_the_best_epoch_is_adopted_only_when_it_beats_the_noise():
    start, small, large = [0.90] * 6, [0.91] * 6, [0.95] * 6
    chosen = select_epoch(_epochs(start, small, large, small), alpha=0.05, seed=0)
    assert chosen.adopted and chosen.best_epoch == 2
    assert chosen.gain == pytest.approx(5.0) and chosen.p_value == 1 / 64
    assert chosen.scores == pytest.approx([90.0, 91.0, 95.0, 91.0])
    mixed = [0.95, 0.95, 0.85, 0.85, 0.95, 0.85]  # up for half, down for half
    assert not select_epoch(_epochs(start, mixed), alpha=0.05, seed=0).adopted
    worse = select_epoch(_epochs(start, [0.8] * 6), alpha=0.05, seed=0)
    assert not worse.adopted and worse.best_epoch == 0 and worse.gain == 0
    few = select_epoch(_epochs([0.9] * 4, [1.0] * 4), alpha=0.05, seed=0)
    assert not few.adopted and "needs 5" in few.reason and few.margin == pytest.approx(10.0)
    empty = select_epoch([{}, {}], alpha=0.05, seed=0)
    assert not empty.adopted and empty.to_dict()["margin"] is None


def _chain(count):
    """Identities ``0 .. count-1`` where each co-occurs with the next."""
    cooccur = np.zeros((count, count), dtype=bool)
    index = np.arange(count - 1)
    cooccur[index, index + 1] = cooccur[index + 1, index] = True
    return cooccur


def test_held_out_identities_each_have_a_held_out_negative():
    cooccur = _chain(20)
    held = held_out_labels(cooccur, 0.25, 0.05, seed=3)
    assert 5 <= len(held) <= 6 and list(held) == sorted(held)
    assert all(cooccur[label, held].any() for label in held)
    np.testing.assert_array_equal(held, held_out_labels(cooccur, 0.25, 0.05, seed=3))
    assert 10 <= len(held_out_labels(_chain(40), 0.25, 0.05, seed=3)) <= 11
    assert len(held_out_labels(cooccur, 0.0, 0.05, seed=3)) == 0
    assert len(held_out_labels(_chain(8), 0.25, 0.05, seed=3)) == 4  # at most half
    assert len(held_out_labels(np.zeros((20, 20), dtype=bool), 0.25, 0.05, seed=3)) == 0
    pairs = np.kron(np.eye(10, dtype=int), 1 - np.eye(2, dtype=int)).astype(bool)  # 0-1, 2-3..
    held = held_out_labels(pairs, 0.25, 0.05, seed=3)
    assert len(held) == 6 and all(pairs[label, held].any() for label in held)


def test_subset_relabels_and_keeps_the_negatives():
    mined = PseudoIdentities(
        frames=np.arange(6),
        boxes=np.zeros((6, 4), dtype=np.float32),
        labels=np.array([0, 0, 1, 1, 2, 2]),
        track_ids=np.array([10, 11, 12]),
        spans=np.array([[0, 1], [2, 3], [4, 5]]),
        cooccur=_chain(3),
        stats={"identities": 3, "crops": 6},
    )
    part = subset(mined, [2, 1])
    assert part.labels.tolist() == [0, 0, 1, 1] and part.frames.tolist() == [2, 3, 4, 5]
    assert part.track_ids.tolist() == [11, 12] and part.cooccur.tolist() == [[0, 1], [1, 0]]
    assert part.stats["identities"] == 2 and part.stats["crops"] == 4
