"""Training-time head options from "Bag of Tricks and a Strong Baseline for Deep Person
Re-identification" (Luo et al., CVPRW 2019), applied to a built ReID model in place.

* :func:`attach_bnneck`: a BatchNorm1d "neck" between the embedding and the classifier. The
  triplet loss sees the embedding before the neck (free to spread in euclidean space); the
  identity classifier and inference use the normalised embedding after it, whose shift is
  frozen at zero and whose classifier has no bias, so classes are separated by angle.
* :func:`set_last_stride`: stride 1 in ResNet's last stage, doubling the final feature map
  (16x8 instead of 8x4 at 256x128) at almost no extra cost.

Both keep every existing ``state_dict`` key, so checkpoints of such a model still load into
the plain architecture; the neck adds ``bnneck.*`` keys, which a plain model ignores
(features are then taken before the neck).
"""

from __future__ import annotations

from typing import Any, Dict, Tuple

import torch
from torch import nn

__all__ = ["attach_bnneck", "has_bnneck", "set_last_stride"]


class _NeckBeforeClassifier:
    """Forward pre-hook of ``classifier``: feed it the embedding after the neck."""

    def __init__(self, owner: nn.Module) -> None:
        self.owner = owner

    def __call__(self, module: nn.Module, args: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor]:
        return (self.owner.bnneck(args[0]),)


class _NeckAtInference:
    """Forward hook of the model: in eval mode return the embedding after the neck."""

    def __call__(
        self,
        module: nn.Module,
        args: Tuple[Any, ...],
        kwargs: Dict[str, Any],
        output: Any,
    ) -> Any:
        returns_maps = kwargs.get("return_featuremaps", args[1] if len(args) > 1 else False)
        if module.training or returns_maps:
            return output
        return module.bnneck(output)


def has_bnneck(model: nn.Module) -> bool:
    """True when :func:`attach_bnneck` was applied to ``model``."""
    return isinstance(getattr(model, "bnneck", None), nn.BatchNorm1d)


def attach_bnneck(model: nn.Module) -> nn.Module:
    """Add a BNNeck to a :class:`~strongsort_reid.models.common.ReIDModel`, in place.

    After this, train mode returns ``classifier(bn(f))`` (softmax) or
    ``(classifier(bn(f)), f)`` (triplet), and eval mode returns ``bn(f)``, where ``f`` is the
    ``(B, feature_dim)`` embedding.

    Args:
        model: A model with ``feature_dim`` and a ``Linear`` ``classifier``.

    Returns:
        ``model`` itself.

    Raises:
        ValueError: the model has no ``feature_dim``/``classifier``, or already has a neck.
    """
    classifier = getattr(model, "classifier", None)
    if not isinstance(classifier, nn.Linear) or not hasattr(model, "feature_dim"):
        raise ValueError(
            f"{type(model).__name__} has no feature_dim and Linear classifier: BNNeck needs a "
            "ReIDModel"
        )
    if has_bnneck(model):
        raise ValueError(f"{type(model).__name__} already has a BNNeck")
    neck = nn.BatchNorm1d(model.feature_dim).to(classifier.weight.device)
    neck.bias.requires_grad_(False)  # no shift: the neck only rescales each dimension
    model.add_module("bnneck", neck)
    if classifier.bias is not None:
        # The paper's classifier has no bias; zeroing and freezing it keeps torchreid's keys.
        with torch.no_grad():
            classifier.bias.zero_()
        classifier.bias.requires_grad_(False)
    classifier.register_forward_pre_hook(_NeckBeforeClassifier(model))
    model.register_forward_hook(_NeckAtInference(), with_kwargs=True)
    return model


def set_last_stride(model: nn.Module, stride: int) -> nn.Module:
    """Set the stride of a ResNet's last stage (``layer4``) in place.

    Args:
        model: A ResNet-family model whose ``layer4[0]`` carries the stage's stride in
            ``conv2`` and its projection shortcut ``downsample[0]``.
        stride: 1 or 2.

    Returns:
        ``model`` itself.

    Raises:
        ValueError: ``stride`` is not 1 or 2, or the model has no such ``layer4``.
    """
    if stride not in (1, 2):
        raise ValueError(f"last_stride must be 1 or 2, got {stride!r}")
    first_block = getattr(model, "layer4", [None])[0]
    conv = getattr(first_block, "conv2", None)
    downsample = getattr(first_block, "downsample", None)
    if not isinstance(conv, nn.Conv2d) or downsample is None:
        raise ValueError(
            f"last_stride applies to ResNet-family models (layer4[0].conv2 and a downsample "
            f"shortcut); {type(model).__name__} has none"
        )
    conv.stride = (stride, stride)
    downsample[0].stride = (stride, stride)
    return model
