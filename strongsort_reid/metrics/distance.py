"""Pairwise distances between feature matrices (torchreid semantics).

``euclidean`` is the *squared* euclidean distance ``|a|^2 + |b|^2 - 2 a.b``, computed with one
``addmm`` exactly as torchreid does (so tiny negative values from rounding are possible and
kept); ``cosine`` is ``1 - a_hat . b_hat`` on L2-normalised rows.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

__all__ = [
    "AVAILABLE_METRICS",
    "compute_distance_matrix",
    "cosine_distance",
    "euclidean_squared_distance",
]

AVAILABLE_METRICS = ("euclidean", "cosine")


def euclidean_squared_distance(input1: torch.Tensor, input2: torch.Tensor) -> torch.Tensor:
    """Squared euclidean distance between every row of ``input1`` and every row of ``input2``.

    Args:
        input1: ``(m, d)`` features.
        input2: ``(n, d)`` features.

    Returns:
        ``(m, n)`` tensor, ``dist[i, j] = |input1[i]|^2 + |input2[j]|^2 - 2 input1[i].input2[j]``.
    """
    sq1 = input1.pow(2).sum(dim=1, keepdim=True)  # (m, 1)
    sq2 = input2.pow(2).sum(dim=1, keepdim=True).t()  # (1, n)
    return torch.addmm(sq1 + sq2, input1, input2.t(), beta=1, alpha=-2)


def cosine_distance(input1: torch.Tensor, input2: torch.Tensor) -> torch.Tensor:
    """Cosine distance ``1 - cos(a, b)`` between every row of ``input1`` and of ``input2``.

    Args:
        input1: ``(m, d)`` features (need not be normalised).
        input2: ``(n, d)`` features.

    Returns:
        ``(m, n)`` tensor with values in ``[0, 2]``.
    """
    a = F.normalize(input1, p=2, dim=1)
    b = F.normalize(input2, p=2, dim=1)
    return 1 - torch.mm(a, b.t())


def compute_distance_matrix(
    input1: torch.Tensor, input2: torch.Tensor, metric: str = "euclidean"
) -> torch.Tensor:
    """Distance matrix between two sets of features.

    Args:
        input1: ``(m, d)`` tensor, e.g. query features.
        input2: ``(n, d)`` tensor, e.g. gallery features.
        metric: ``"euclidean"`` (squared, as torchreid) or ``"cosine"``.

    Returns:
        ``(m, n)`` tensor on the inputs' device and dtype.

    Raises:
        TypeError: an input is not a ``torch.Tensor``.
        ValueError: an input is not 2-D, the feature dimensions differ, or ``metric`` is unknown.

    Example:
        >>> q, g = torch.rand(10, 512), torch.rand(100, 512)
        >>> compute_distance_matrix(q, g, metric="cosine").shape
        torch.Size([10, 100])
    """
    for name, value in (("input1", input1), ("input2", input2)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
        if value.dim() != 2:
            raise ValueError(f"{name} must be a 2-D (N, D) tensor, got shape {tuple(value.shape)}")
    if input1.size(1) != input2.size(1):
        raise ValueError(
            f"feature dimensions differ: input1 has {input1.size(1)}, input2 has {input2.size(1)}"
        )
    if metric == "euclidean":
        return euclidean_squared_distance(input1, input2)
    if metric == "cosine":
        return cosine_distance(input1, input2)
    raise ValueError(
        f"unknown distance metric {metric!r}; valid metrics: {list(AVAILABLE_METRICS)}"
    )
