"""Metric-learning training: batch-hard triplet + identity cross entropy (+ center loss)."""

from __future__ import annotations

from typing import Any, Dict, Optional

import torch
from torch import nn

from strongsort_reid.engine.checkpointing import unwrap_model
from strongsort_reid.engine.engine import Engine, to_float
from strongsort_reid.losses import CenterLoss, CrossEntropyLoss, TripletLoss
from strongsort_reid.metrics import accuracy

__all__ = ["ImageTripletEngine"]


class ImageTripletEngine(Engine):
    """Train with ``weight_t * triplet + weight_x * cross entropy + weight_c * center``.

    Use an identity-balanced sampler (``train_sampler='RandomIdentitySampler'``) so each
    batch holds several images of every identity in it; otherwise few anchors have a
    positive and the triplet term is mostly zero (watch ``valid_triplets``).

    Args:
        datamanager: An ``ImageDataManager`` (see :class:`Engine`).
        model: The network, built with ``loss='triplet'``: in train mode it returns
            ``(logits, features)``.
        optimizer: Its optimizer.
        margin: Triplet margin.
        weight_t: Weight of the triplet loss (on the features).
        weight_x: Weight of the cross-entropy loss (on the logits).
        weight_c: Weight of the center loss (0 disables it). The class centres are learned
            by their own SGD optimizer with learning rate ``center_lr / weight_c``, i.e.
            each centre moves with step ``center_lr`` whatever the weight (bag of tricks).
        scheduler: Learning-rate scheduler of ``optimizer``, stepped once per epoch.
        use_gpu: Train on CUDA when available.
        precision: Autocast of the forward pass, ``"auto"``, ``"fp32"``, ``"bf16"`` or
            ``"fp16"`` (see :class:`Engine`).
        channels_last: Train in the channels-last memory layout (see :class:`Engine`).
        label_smooth: Smooth the cross-entropy targets with epsilon 0.1.
        soft_margin: Use the soft-plus triplet instead of the hinge.
        center_lr: Step size of the class centres.

    The statistics returned per batch are ``loss`` (total), ``loss_t``, ``loss_x``,
    ``loss_c`` (when used), ``acc`` (%) and ``valid_triplets`` (anchors with both a positive
    and a negative in the batch).
    """

    def __init__(
        self,
        datamanager: Any,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        margin: float = 0.3,
        weight_t: float = 1.0,
        weight_x: float = 1.0,
        weight_c: float = 0.0,
        scheduler: Optional[Any] = None,
        use_gpu: bool = True,
        label_smooth: bool = True,
        soft_margin: bool = False,
        center_lr: float = 0.5,
        *,
        precision: str = "auto",
        channels_last: bool = True,
    ) -> None:
        super().__init__(datamanager, use_gpu, precision, channels_last)
        if getattr(unwrap_model(model), "loss", "triplet") != "triplet":
            raise ValueError(
                "ImageTripletEngine needs a model built with loss='triplet' (train mode returns "
                f"(logits, features)); got loss={unwrap_model(model).loss!r}"
            )
        if min(weight_t, weight_x, weight_c) < 0 or weight_t + weight_x + weight_c == 0:
            raise ValueError(
                "weight_t, weight_x and weight_c must be >= 0 and not all 0, got "
                f"{weight_t}, {weight_x}, {weight_c}"
            )
        self.weight_t = weight_t
        self.weight_x = weight_x
        self.weight_c = weight_c
        self.register_model("model", model, optimizer, scheduler)
        num_classes = datamanager.num_train_pids
        self.criterion_t = TripletLoss(margin=margin, soft_margin=soft_margin)
        self.criterion_x = CrossEntropyLoss(
            num_classes=num_classes, use_gpu=self.use_gpu, label_smooth=label_smooth
        )
        if weight_c > 0:
            feature_dim = unwrap_model(model).feature_dim
            center_loss = CenterLoss(num_classes, feature_dim, use_gpu=self.use_gpu)
            center_optim = torch.optim.SGD(center_loss.parameters(), lr=center_lr / weight_c)
            self.register_model("center", center_loss, center_optim)

    def forward_backward(self, data: Dict[str, Any]) -> Dict[str, float]:
        """One step on ``(logits, features) = model(imgs)``; returns the statistics above."""
        imgs, pids = self.parse_data_for_train(data)
        with self.autocast():
            outputs, features = self.model(imgs)
        outputs, features = to_float(outputs), to_float(features)
        summary = {}
        loss = 0.0
        if self.weight_t > 0:
            loss_t = self.compute_loss(self.criterion_t, features, pids)
            loss = loss + self.weight_t * loss_t
            summary["loss_t"] = loss_t.item()
            summary["valid_triplets"] = float(self.criterion_t.num_valid_triplets)
        if self.weight_x > 0:
            loss_x = self.compute_loss(self.criterion_x, outputs, pids)
            loss = loss + self.weight_x * loss_x
            summary["loss_x"] = loss_x.item()
        if self.weight_c > 0:
            loss_c = self.compute_loss(self._train_modules["center"], features, pids)
            loss = loss + self.weight_c * loss_c
            summary["loss_c"] = loss_c.item()
        self.optimize(loss)
        summary["acc"] = accuracy(outputs, pids)[0].item()
        return {"loss": loss.item(), **summary}
