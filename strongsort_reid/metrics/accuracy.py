"""Top-k classification accuracy (torchreid semantics, used for training logs)."""

from __future__ import annotations

from typing import List, Sequence, Union

import torch

__all__ = ["accuracy"]


def accuracy(
    output: Union[torch.Tensor, Sequence[torch.Tensor]],
    target: torch.Tensor,
    topk: Sequence[int] = (1,),
) -> List[torch.Tensor]:
    """Percentage of samples whose label is among the top-k predictions.

    Args:
        output: ``(B, C)`` logits, or a tuple/list of them (only the first is used, as in
            torchreid for deep-supervision outputs).
        target: ``(B,)`` integer labels.
        topk: the ``k`` values to evaluate.

    Returns:
        One 1-element tensor per ``k``, in percent (``0`` to ``100``).
    """
    if isinstance(output, (tuple, list)):
        output = output[0]
    maxk = max(topk)
    batch_size = target.size(0)
    _, pred = output.topk(maxk, dim=1, largest=True, sorted=True)
    correct = pred.t().eq(target.view(1, -1).expand_as(pred.t()))
    return [
        correct[:k].reshape(-1).float().sum(0, keepdim=True) * (100.0 / batch_size) for k in topk
    ]
