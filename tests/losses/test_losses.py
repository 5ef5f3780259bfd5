"""Losses: smoothed cross entropy, batch-hard triplet (hand cases), center loss, DeepSupervision."""

import math

import pytest
import torch
from torch.nn import functional as F

from strongsort_reid.losses import CenterLoss, CrossEntropyLoss, DeepSupervision, TripletLoss


def test_cross_entropy_label_smoothing_formula():
    torch.manual_seed(0)
    logits, targets = torch.randn(6, 5), torch.tensor([0, 4, 2, 2, 1, 3])
    eps, k = 0.1, 5
    loss = CrossEntropyLoss(num_classes=k, epsilon=eps, use_gpu=False)(logits, targets)
    log_p = F.log_softmax(logits, dim=1)
    q = torch.full((6, k), eps / k)
    q[torch.arange(6), targets] += 1 - eps
    expected = -(q * log_p).sum(1).mean()
    torch.testing.assert_close(loss, expected)
    # the same as torch's built-in smoothing and (1-eps)*NLL + eps*uniform term
    torch.testing.assert_close(loss, F.cross_entropy(logits, targets, label_smoothing=eps))
    nll = F.nll_loss(log_p, targets)
    torch.testing.assert_close(loss, (1 - eps) * nll - eps * log_p.mean(1).mean())


def test_cross_entropy_hand_case_and_no_smoothing():
    logits = torch.tensor([[0.0, 0.0]])  # p = (0.5, 0.5)
    target = torch.tensor([1])
    smooth = CrossEntropyLoss(2, epsilon=0.2, use_gpu=False)(logits, target)
    plain = CrossEntropyLoss(2, epsilon=0.2, use_gpu=False, label_smooth=False)(logits, target)
    assert smooth.item() == pytest.approx(math.log(2))  # any q on a uniform p gives log 2
    assert plain.item() == pytest.approx(math.log(2))
    logits = torch.tensor([[2.0, 0.0]])
    lp = F.log_softmax(logits, 1)[0]
    got = CrossEntropyLoss(2, epsilon=0.2, use_gpu=False)(logits, torch.tensor([0]))
    assert got.item() == pytest.approx(-(0.9 * lp[0] + 0.1 * lp[1]).item())


def test_cross_entropy_bad_input():
    ce = CrossEntropyLoss(3, use_gpu=False)
    with pytest.raises(ValueError, match="shape"):
        ce(torch.randn(2, 4), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        ce(torch.randn(2, 3), torch.tensor([0, 3]))


def _triplet_batch():
    # 1-D features: identity 0 at 0 and 1, identity 1 at 3 and 5, identity 2 alone at 10.
    x = torch.tensor([[0.0], [1.0], [3.0], [5.0], [10.0]], requires_grad=True)
    y = torch.tensor([0, 0, 1, 1, 2])
    return x, y


def test_triplet_batch_hard_hand_case():
    x, y = _triplet_batch()
    crit = TripletLoss(margin=0.3)
    loss = crit(x, y)
    # hardest positive / negative per anchor:
    # a0: ap=1, an=3 -> 0 ; a1: ap=1, an=2 -> 0 ; a2: ap=2, an=2 -> 0.3 ;
    # a3: ap=2, an=4 -> 0 ; a4: ap=0 (itself), an=5 -> 0
    assert loss.item() == pytest.approx(0.3 / 5, abs=1e-5)
    assert crit.num_valid_triplets == 4  # anchor 4 has no other positive
    assert crit.num_active_triplets == 1
    loss.backward()
    assert torch.isfinite(x.grad).all()


def test_triplet_soft_margin_hand_case():
    x, y = _triplet_batch()
    crit = TripletLoss(soft_margin=True)
    loss = crit(x, y)
    gaps = torch.tensor([1 - 3, 1 - 2, 2 - 2, 2 - 4, 0 - 5], dtype=torch.float32)
    assert loss.item() == pytest.approx(F.softplus(gaps).mean().item(), abs=1e-5)
    assert crit.num_valid_triplets == crit.num_active_triplets == 4


def test_triplet_matches_brute_force_on_random_batch():
    torch.manual_seed(1)
    x, y = torch.randn(16, 8), torch.arange(4).repeat_interleave(4)
    crit = TripletLoss(margin=0.3)
    loss = crit(x, y)
    d = torch.cdist(x, x)
    losses = []
    for i in range(16):
        ap = d[i][y == y[i]].max()
        an = d[i][y != y[i]].min()
        losses.append(torch.relu(ap - an + 0.3))
    torch.testing.assert_close(loss, torch.stack(losses).mean(), atol=1e-4, rtol=1e-4)
    assert crit.num_valid_triplets == 16


def test_triplet_single_identity_batch_is_zero_not_crash():
    x = torch.randn(4, 3, requires_grad=True)
    crit = TripletLoss()
    loss = crit(x, torch.zeros(4, dtype=torch.long))
    assert loss.item() == 0.0 and crit.num_valid_triplets == 0
    loss.backward()
    assert torch.isfinite(x.grad).all()


def test_center_loss_hand_case_and_gradient():
    crit = CenterLoss(num_classes=3, feat_dim=2, use_gpu=False)
    with torch.no_grad():
        crit.centers.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]]))
    x = torch.tensor([[3.0, 4.0], [1.0, 1.0], [2.0, 1.0]])
    loss = crit(x, torch.tensor([0, 1, 1]))
    assert loss.item() == pytest.approx((25 + 1e-12 + 1) / 3)
    loss.backward()
    assert crit.centers.grad[2].abs().sum() == 0  # unused centre untouched
    with pytest.raises(ValueError):
        crit(x, torch.tensor([0, 1, 3]))


def test_deep_supervision_averages():
    crit = CrossEntropyLoss(4, use_gpu=False)
    a, b, y = torch.randn(3, 4), torch.randn(3, 4), torch.tensor([0, 1, 2])
    torch.testing.assert_close(DeepSupervision(crit, (a, b), y), (crit(a, y) + crit(b, y)) / 2)
    with pytest.raises(ValueError):
        DeepSupervision(crit, [], y)
