"""Identity-classification training (softmax cross entropy, optional label smoothing)."""

from __future__ import annotations

from typing import Any, Dict, Optional

import torch
from torch import nn

from strongsort_reid.engine.engine import Engine, to_float
from strongsort_reid.losses import CrossEntropyLoss
from strongsort_reid.metrics import accuracy

__all__ = ["ImageSoftmaxEngine"]


class ImageSoftmaxEngine(Engine):
    """Train a model (built with ``loss='softmax'``) to classify the training identities.

    Args:
        datamanager: An ``ImageDataManager`` (see :class:`Engine`).
        model: The network; in train mode it returns ``(B, num_train_pids)`` logits.
        optimizer: Its optimizer.
        scheduler: Its learning-rate scheduler, stepped once per epoch.
        use_gpu: Train on CUDA when available.
        precision: Autocast of the forward pass, ``"auto"``, ``"fp32"``, ``"bf16"`` or
            ``"fp16"`` (see :class:`Engine`).
        channels_last: Train in the channels-last memory layout (see :class:`Engine`).
        label_smooth: Smooth the one-hot targets with epsilon 0.1.

    Example:
        >>> engine = ImageSoftmaxEngine(datamanager, model, optimizer, scheduler)
        >>> engine.run(save_dir="log/osnet", max_epoch=60, eval_freq=10)
    """

    def __init__(
        self,
        datamanager: Any,
        model: nn.Module,
        optimizer: torch.optim.Optimizer,
        scheduler: Optional[Any] = None,
        use_gpu: bool = True,
        label_smooth: bool = True,
        *,
        precision: str = "auto",
        channels_last: bool = True,
    ) -> None:
        super().__init__(datamanager, use_gpu, precision, channels_last)
        self.register_model("model", model, optimizer, scheduler)
        self.criterion = CrossEntropyLoss(
            num_classes=datamanager.num_train_pids,
            use_gpu=self.use_gpu,
            label_smooth=label_smooth,
        )

    def forward_backward(self, data: Dict[str, Any]) -> Dict[str, float]:
        """Cross entropy on the logits; returns ``{'loss', 'acc'}`` (accuracy in %)."""
        imgs, pids = self.parse_data_for_train(data)
        with self.autocast():
            outputs = to_float(self.model(imgs))
        loss = self.compute_loss(self.criterion, outputs, pids)
        self.optimize(loss)
        return {"loss": loss.item(), "acc": accuracy(outputs, pids)[0].item()}
