"""Center loss (Wen et al., "A Discriminative Feature Learning Approach for Deep Face
Recognition", ECCV 2016)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["CenterLoss"]


class CenterLoss(nn.Module):
    """Mean squared euclidean distance between each feature and its class centre.

    ``loss = mean_i clamp(|x_i - c_{y_i}|^2, 1e-12, 1e12)``; the centres are learnable
    parameters (``torch.randn`` initialised, as torchreid) trained by their own optimizer or
    alongside the model.

    Args:
        num_classes: number of classes.
        feat_dim: feature dimension.
        use_gpu: place the centres on CUDA when it is available (torchreid's switch); the
            module can also be moved with ``.to(device)`` like any other.
    """

    def __init__(self, num_classes: int = 10, feat_dim: int = 2, use_gpu: bool = True) -> None:
        super().__init__()
        if num_classes < 1 or feat_dim < 1:
            raise ValueError(
                f"num_classes and feat_dim must be >= 1, got {num_classes} and {feat_dim}"
            )
        self.num_classes = int(num_classes)
        self.feat_dim = int(feat_dim)
        self.use_gpu = use_gpu
        device = "cuda" if use_gpu and torch.cuda.is_available() else "cpu"
        self.centers = nn.Parameter(torch.randn(self.num_classes, self.feat_dim, device=device))

    def forward(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Loss for ``(B, feat_dim)`` features and ``(B,)`` labels in ``[0, num_classes)``."""
        if x.dim() != 2 or x.size(1) != self.feat_dim:
            raise ValueError(f"x must have shape (batch, {self.feat_dim}), got {tuple(x.shape)}")
        if labels.shape != (x.size(0),):
            raise ValueError(f"labels must have shape ({x.size(0)},), got {tuple(labels.shape)}")
        labels = labels.long()
        if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
            raise ValueError(f"labels must be class indices in [0, {self.num_classes})")
        diff = x - self.centers[labels.to(self.centers.device)].to(x.device)
        return diff.pow(2).sum(dim=1).clamp(min=1e-12, max=1e12).mean()
