"""The adaptation objective: pseudo-identity cross entropy, batch-hard triplet whose negatives are
only the guaranteed ones (co-occurring pseudo-identities), and an L2 feature distillation to the
frozen starting model that keeps the network close to what it knew (against forgetting).

``loss = weight_x * CE + weight_t * triplet + weight_d * mean ||f(x)/|f(x)| - f0(x)/|f0(x)| ||^2``
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

import torch
import torch.nn.functional as F
from torch import nn

from strongsort_reid.engine import ImageTripletEngine
from strongsort_reid.engine.engine import to_float
from strongsort_reid.metrics import accuracy


def cooccurrence_triplet(
    features: torch.Tensor, labels: torch.Tensor, negatives: torch.Tensor, margin: float
) -> Dict[str, torch.Tensor]:
    """Batch-hard triplet loss with an explicit negative relation.

    Args:
        features: ``(B, D)`` features.
        labels: ``(B,)`` int64 pseudo-identities.
        negatives: ``(P, P)`` bool: identities known to be different people.
        margin: Hinge margin (Euclidean distance units).

    Returns:
        ``{"loss": scalar mean over anchors with a positive and a guaranteed negative (0 when
        there is none), "valid": number of such anchors}``.
    """
    dist = torch.cdist(features, features).clamp(min=1e-12)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    negative = negatives[labels][:, labels]
    has_pos = (same & ~eye).any(dim=1)
    has_neg = negative.any(dim=1)
    valid = has_pos & has_neg
    if not valid.any():
        return {"loss": features.sum() * 0.0, "valid": valid.sum()}
    dist_ap = dist.masked_fill(~same, float("-inf")).max(dim=1).values
    dist_an = dist.masked_fill(~negative, float("inf")).min(dim=1).values
    losses = F.relu(dist_ap[valid] - dist_an[valid] + margin)
    return {"loss": losses.mean(), "valid": valid.sum()}


def distillation(features: torch.Tensor, reference: torch.Tensor) -> torch.Tensor:
    """Mean squared L2 distance between the L2-normalised rows of ``(B, D)`` ``features`` and
    ``reference`` (in ``[0, 4]``)."""
    return (F.normalize(features, dim=1) - F.normalize(reference, dim=1)).pow(2).sum(1).mean()


class BudgetExhausted(Exception):
    """The time budget ran out before the next batch (raised out of ``Engine.train``)."""


class AdaptEngine(ImageTripletEngine):
    """The project's triplet engine with the adaptation objective (module docstring).

    Args:
        datamanager: ``ImageDataManager`` over the crops (``folder`` dataset).
        model: Network built with ``loss='triplet'`` for the pseudo-identities.
        optimizer, scheduler: Its optimizer and scheduler.
        label_of_pid: ``(num_train_pids,)`` int64: the pseudo-identity of each dataset pid.
        negatives: ``(P, P)`` bool guaranteed negative pairs of pseudo-identities.
        teacher: The frozen starting model (eval mode) for the distillation, or ``None``.
        weight_d: Weight of the distillation term.
        freeze_bn: Keep the BatchNorm statistics of the starting model (BN layers stay in
            eval mode while training).
        margin, weight_t, weight_x, label_smooth, use_gpu: As for ``ImageTripletEngine``.

    Attributes:
        deadline: ``time.perf_counter()`` value after which no new batch starts (the first
            batch always runs); ``None``: no limit.
        batch_stats: The statistics of every batch so far.

    Statistics per batch: ``loss``, ``loss_t``, ``loss_x`` and ``acc`` (%, with cross entropy),
    ``loss_d`` and ``valid_triplets`` (anchors with a positive and a guaranteed negative).
    """

    def __init__(
        self,
        datamanager: Any,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        label_of_pid: torch.Tensor,
        negatives: torch.Tensor,
        teacher: nn.Module = None,
        weight_d: float = 0.0,
        freeze_bn: bool = False,
        scheduler: Any = None,
        margin: float = 0.3,
        weight_t: float = 1.0,
        weight_x: float = 1.0,
        label_smooth: bool = True,
        use_gpu: bool = False,
    ) -> None:
        super().__init__(
            datamanager,
            model,
            optimizer,
            margin=margin,
            weight_t=weight_t,
            weight_x=weight_x,
            scheduler=scheduler,
            use_gpu=use_gpu,
            label_smooth=label_smooth,
        )
        if weight_d < 0:
            raise ValueError(f"weight_d must be >= 0, got {weight_d}")
        if weight_d > 0 and teacher is None:
            raise ValueError("weight_d > 0 needs the teacher (the starting model)")
        self.margin = margin
        self.label_of_pid = label_of_pid.to(self.device)
        self.negatives = negatives.to(self.device)
        self.teacher = teacher.to(self.device).eval() if teacher is not None else None
        self.weight_d = weight_d
        self.freeze_bn = freeze_bn
        self.deadline: Optional[float] = None
        self.batch_stats: List[Dict[str, float]] = []

    def two_stepped_transfer_learning(self, epoch, fixbase_epoch, open_layers, name="model"):
        """The engine's layer opening (which sets train mode), then the BatchNorm layers back
        to eval mode when ``freeze_bn``."""
        super().two_stepped_transfer_learning(epoch, fixbase_epoch, open_layers, name)
        if self.freeze_bn:
            for module in self.get_model(name).modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()

    def forward_backward(self, data: Dict[str, Any]) -> Dict[str, float]:
        if self.deadline is not None and self.batch_stats and time.perf_counter() > self.deadline:
            raise BudgetExhausted
        summary = self._step(data)
        self.batch_stats.append(summary)
        return summary

    def _step(self, data: Dict[str, Any]) -> Dict[str, float]:
        imgs, pids = self.parse_data_for_train(data)
        labels = self.label_of_pid[pids]
        with self.autocast():
            outputs, features = self.model(imgs)
        outputs, features = to_float(outputs), to_float(features)
        summary: Dict[str, float] = {}
        loss = features.new_zeros(())
        if self.weight_t > 0:
            triplet = cooccurrence_triplet(features, labels, self.negatives, self.margin)
            loss = loss + self.weight_t * triplet["loss"]
            summary["loss_t"] = triplet["loss"].item()
            summary["valid_triplets"] = float(triplet["valid"])
        if self.weight_x > 0:
            loss_x = self.compute_loss(self.criterion_x, outputs, pids)
            loss = loss + self.weight_x * loss_x
            summary["loss_x"] = loss_x.item()
        if self.weight_d > 0:
            with torch.no_grad(), self.autocast():
                reference = self.teacher(imgs)
            loss_d = distillation(features, to_float(reference))
            loss = loss + self.weight_d * loss_d
            summary["loss_d"] = loss_d.item()
        self.optimize(loss)
        if self.weight_x > 0:
            summary["acc"] = accuracy(outputs, pids)[0].item()
        return {"loss": loss.item(), **summary}
