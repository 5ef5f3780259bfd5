"""The adaptation losses: the triplet uses only guaranteed negatives; the distillation term."""

from __future__ import annotations

import torch

from trackers.adapt.objective import cooccurrence_triplet, distillation


def _features():
    # Identities 0 and 1 co-occur; 2 never co-occurs with anything (maybe the same person as 0).
    features = torch.tensor(
        [[0.0, 0.0], [0.0, 1.0], [3.0, 0.0], [3.0, 0.5], [0.2, 0.0], [0.2, 0.4]]
    )
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    negatives = torch.tensor([[False, True, False], [True, False, False], [False] * 3])
    return features, labels, negatives


def test_triplet_ignores_pairs_that_are_not_guaranteed_negatives():
    features, labels, negatives = _features()
    out = cooccurrence_triplet(features, labels, negatives, margin=0.3)
    # Anchors of 0 and 1 (4 of 6) have a guaranteed negative; identity 2 has none, although
    # it lies right next to identity 0 (a plain batch-hard triplet would push it away).
    assert int(out["valid"]) == 4
    dist = torch.cdist(features, features)
    expected = []
    for anchor, positive, negatives_of in ((0, 1, [2, 3]), (1, 0, [2, 3]), (2, 3, [0, 1]),
                                           (3, 2, [0, 1])):  # fmt: skip
        hinge = dist[anchor, positive] - dist[anchor, negatives_of].min() + 0.3
        expected.append(torch.relu(hinge))
    torch.testing.assert_close(out["loss"], torch.stack(expected).mean())


def test_triplet_without_any_negative_is_zero_and_keeps_the_graph():
    features, labels, _ = _features()
    features.requires_grad_(True)
    out = cooccurrence_triplet(features, labels, torch.zeros(3, 3, dtype=torch.bool), 0.3)
    assert float(out["loss"].detach()) == 0.0 and int(out["valid"]) == 0
    out["loss"].backward()
    assert torch.equal(features.grad, torch.zeros_like(features))


def test_distillation_compares_directions_only():
    features = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    assert float(distillation(features, 3.0 * features)) == 0.0
    opposite = distillation(features, -features)
    torch.testing.assert_close(opposite, torch.tensor(4.0))
