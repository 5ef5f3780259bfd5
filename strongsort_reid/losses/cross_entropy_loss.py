"""Cross entropy with label smoothing (Szegedy et al., CVPR 2016), torchreid semantics."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CrossEntropyLoss"]


class CrossEntropyLoss(nn.Module):
    """Cross entropy against smoothed one-hot targets.

    The target distribution is ``q = (1 - epsilon) * onehot(y) + epsilon / K`` and the loss is
    ``mean_over_batch( -sum_k q_k log p_k )`` with ``p = softmax(inputs)``.

    Args:
        num_classes: number of classes ``K`` (the logits' width).
        epsilon: smoothing weight (0.1 in the "bag of tricks" baseline).
        use_gpu: accepted for torchreid compatibility; the targets are built on the logits'
            device, so the loss runs wherever its inputs are.
        label_smooth: ``False`` sets ``epsilon`` to 0 (plain cross entropy).
    """

    def __init__(
        self,
        num_classes: int,
        epsilon: float = 0.1,
        use_gpu: bool = True,
        label_smooth: bool = True,
    ) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        if not 0.0 <= epsilon <= 1.0:
            raise ValueError(f"epsilon must be in [0, 1], got {epsilon}")
        self.num_classes = int(num_classes)
        self.epsilon = float(epsilon) if label_smooth else 0.0
        self.use_gpu = use_gpu
        self.logsoftmax = nn.LogSoftmax(dim=1)

    def forward(self, inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Loss for ``(B, K)`` logits and ``(B,)`` integer labels in ``[0, K)``; a scalar."""
        if inputs.dim() != 2 or inputs.size(1) != self.num_classes:
            raise ValueError(
                f"inputs must have shape (batch, {self.num_classes}), got {tuple(inputs.shape)}"
            )
        if targets.shape != (inputs.size(0),):
            raise ValueError(
                f"targets must have shape ({inputs.size(0)},), got {tuple(targets.shape)}"
            )
        targets = targets.long()
        if targets.numel() and (targets.min() < 0 or targets.max() >= self.num_classes):
            raise ValueError(f"targets must be class indices in [0, {self.num_classes})")
        log_probs = self.logsoftmax(inputs)
        onehot = torch.zeros_like(log_probs).scatter_(1, targets.unsqueeze(1), 1)
        smoothed = (1 - self.epsilon) * onehot + self.epsilon / self.num_classes
        return (-smoothed * log_probs).mean(0).sum()
