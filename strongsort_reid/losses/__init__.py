"""ReID training losses: label-smoothed cross entropy, batch-hard triplet, center loss."""

from __future__ import annotations

from typing import Callable, Sequence

import torch

from strongsort_reid.losses.center_loss import CenterLoss
from strongsort_reid.losses.cross_entropy_loss import CrossEntropyLoss
from strongsort_reid.losses.hard_mine_triplet_loss import TripletLoss

__all__ = ["CenterLoss", "CrossEntropyLoss", "DeepSupervision", "TripletLoss"]


def DeepSupervision(  # noqa: N802 - torchreid's name
    criterion: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    xs: Sequence[torch.Tensor],
    y: torch.Tensor,
) -> torch.Tensor:
    """Average of ``criterion(x, y)`` over several outputs ``xs`` (e.g. multi-branch heads).

    Args:
        criterion: loss taking ``(output, target)``.
        xs: tuple or list of outputs, each accepted by ``criterion``.
        y: ground truth shared by all outputs.

    Returns:
        Scalar tensor ``sum(criterion(x, y) for x in xs) / len(xs)``.
    """
    if len(xs) == 0:
        raise ValueError("DeepSupervision needs at least one output in xs")
    loss = 0.0
    for x in xs:
        loss = loss + criterion(x, y)
    return loss / len(xs)
