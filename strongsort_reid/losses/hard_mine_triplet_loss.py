"""Batch-hard triplet loss (Hermans et al., "In Defense of the Triplet Loss", 2017)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["TripletLoss"]


class TripletLoss(nn.Module):
    """Triplet loss with hardest-positive / hardest-negative mining inside the batch.

    For every anchor ``a`` the hardest positive is the farthest sample with the same label
    (the anchor itself counts, as in torchreid, so an identity seen once gives ``d_ap ~ 0``)
    and the hardest negative is the closest sample with another label; distances are
    euclidean. The loss, averaged over all anchors, is ``max(0, d_ap - d_an + margin)``, or
    ``log(1 + exp(d_ap - d_an))`` with ``soft_margin=True``. Anchors without any negative in
    the batch contribute 0.

    Args:
        margin: hinge margin (0.3 in torchreid and the "bag of tricks" baseline).
        soft_margin: use the soft-plus form instead of the hinge (``margin`` is then unused).

    Attributes:
        num_valid_triplets: after each forward, the number of anchors of that batch that form
            a proper triplet: at least one *other* sample of the same identity and at least one
            sample of another identity. With ``RandomIdentitySampler`` (P identities x K
            instances, K >= 2) every anchor is valid.
        num_active_triplets: among the valid anchors, those whose hardest triplet still has a
            positive loss (``d_an - d_ap < margin``; every valid one with ``soft_margin``).
    """

    def __init__(self, margin: float = 0.3, soft_margin: bool = False) -> None:
        super().__init__()
        if margin < 0:
            raise ValueError(f"margin must be >= 0, got {margin}")
        self.margin = float(margin)
        self.soft_margin = bool(soft_margin)
        self.num_valid_triplets = 0
        self.num_active_triplets = 0

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Loss for ``(B, D)`` features and ``(B,)`` labels; a scalar."""
        if inputs.dim() != 2:
            raise ValueError(f"inputs must be (batch, feat_dim), got shape {tuple(inputs.shape)}")
        if targets.shape != (inputs.size(0),):
            raise ValueError(
                f"targets must have shape ({inputs.size(0)},), got {tuple(targets.shape)}"
            )
        sq = inputs.pow(2).sum(dim=1, keepdim=True)
        dist = torch.addmm(sq + sq.t(), inputs, inputs.t(), beta=1, alpha=-2)
        dist = dist.clamp(min=1e-12).sqrt()  # clamp keeps the sqrt differentiable at 0

        same = targets.unsqueeze(0) == targets.unsqueeze(1)
        dist_ap = dist.masked_fill(~same, float("-inf")).max(dim=1).values
        dist_an = dist.masked_fill(same, float("inf")).min(dim=1).values
        has_neg = ~same.all(dim=1)
        # Anchors without a negative get d_an = d_ap + margin + 1 so their loss is exactly 0.
        dist_an = torch.where(has_neg, dist_an, dist_ap.detach() + self.margin + 1.0)

        if self.soft_margin:
            losses = F.softplus(dist_ap - dist_an)
            losses = torch.where(has_neg, losses, torch.zeros_like(losses))
            active = has_neg
        else:
            losses = F.relu(dist_ap - dist_an + self.margin)
            active = losses > 0
        with torch.no_grad():
            valid = has_neg & (same.sum(dim=1) > 1)
            self.num_valid_triplets = int(valid.sum())
            self.num_active_triplets = int((valid & active).sum())
        return losses.mean()
