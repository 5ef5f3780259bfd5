"""ResNet-50 for person ReID (He et al., CVPR 2016), torchreid-compatible.

Two registered variants, with torchreid's names, ``state_dict`` keys and forward semantics:

* ``resnet50``: ImageNet ResNet-50 with its 1000-way ``fc`` replaced by a ReID
  ``classifier``; the embedding is the global average pool of ``layer4`` (2048-d).
* ``resnet50_fc512``: the stride of ``layer4`` is 1 (a 16x8 instead of 8x4 map for a
  256x128 input) and a ``Linear(2048, 512) + BatchNorm1d + ReLU`` block named ``fc``
  follows the pooling; the embedding is its 512-d output.

The building blocks (``Bottleneck``, ``ResNet``) are shared with the IBN-a variant in
:mod:`resnet_ibn_a`; the head and output semantics are those of
:class:`~strongsort_reid.models.common.ReIDModel`.
"""

from __future__ import annotations

from typing import Callable, Optional, Sequence

import torch
from torch import nn

from strongsort_reid.models.common import (
    ReIDModel,
    conv1x1_bn,
    init_reid_weights,
    register_zoo_weights,
)
from strongsort_reid.models.registry import register_model

__all__ = ["Bottleneck", "ResNet", "resnet50", "resnet50_fc512"]

# torchvision's original ImageNet ResNet-50 checkpoint, the one torchreid initialises from.
RESNET50_IMAGENET_URL = "https://download.pytorch.org/models/resnet50-19c8e357.pth"

NormFactory = Callable[[int], nn.Module]


class Bottleneck(nn.Module):
    """ResNet bottleneck: 1x1 reduce, 3x3 (carries the stride), 1x1 expand by 4, residual.

    Args:
        in_channels: Channels of the input.
        planes: Width of the 3x3 convolution; the output has ``4 * planes`` channels.
        stride: Stride of the 3x3 convolution (and of the projection shortcut).
        downsample: Projection shortcut, needed when the shape changes.
        norm1: Factory for the normalisation after the first 1x1 convolution; the IBN-a
            variant swaps in half instance / half batch normalisation here.
    """

    expansion = 4

    def __init__(
        self,
        in_channels: int,
        planes: int,
        stride: int = 1,
        downsample: Optional[nn.Module] = None,
        norm1: NormFactory = nn.BatchNorm2d,
    ) -> None:
        super().__init__()
        out_channels = planes * self.expansion
        self.conv1 = nn.Conv2d(in_channels, planes, kernel_size=1, bias=False)
        self.bn1 = norm1(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_channels, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU(inplace=True)
        self.downsample = downsample

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C_in, H, W)`` -> ``(B, 4 * planes, H / stride, W / stride)``."""
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return self.relu(out + identity)


class ResNet(ReIDModel):
    """Bottleneck ResNet backbone with torchreid's ReID head.

    Layout (torchvision names): ``conv1`` 7x7/2, ``bn1``, ReLU, 3x3/2 max pool,
    ``layer1``-``layer4`` (strides 1, 2, 2, ``last_stride``), global average pool,
    optional ``fc`` block, ``classifier``.

    Args:
        num_classes: Number of training identities (``classifier`` outputs).
        loss: ``"softmax"`` or ``"triplet"`` (what train mode returns, see
            :meth:`ReIDModel.forward`).
        layers: Number of bottlenecks in each of the four stages.
        last_stride: Stride of ``layer4``; 1 keeps twice the spatial resolution.
        fc_dims: Widths of the optional embedding layers after pooling.
        dropout_p: Dropout in the embedding layers.
        norm1_per_stage: For each stage, the factory of the bottlenecks' ``bn1``
            (``None`` = plain BatchNorm everywhere).

    Attributes:
        feature_dim: Width of the eval-mode embedding.
    """

    def __init__(
        self,
        num_classes: int,
        loss: str = "softmax",
        layers: Sequence[int] = (3, 4, 6, 3),
        last_stride: int = 2,
        fc_dims: Optional[Sequence[int]] = None,
        dropout_p: Optional[float] = None,
        norm1_per_stage: Optional[Sequence[NormFactory]] = None,
    ) -> None:
        super().__init__(num_classes, loss)
        if last_stride not in (1, 2):
            raise ValueError(f"last_stride must be 1 or 2, got {last_stride!r}")
        if norm1_per_stage is None:
            norm1_per_stage = (nn.BatchNorm2d,) * 4
        if len(layers) != 4 or len(norm1_per_stage) != 4:
            raise ValueError("layers and norm1_per_stage must have one entry per stage (4)")
        self.in_channels = 64

        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = self._make_stage(64, layers[0], 1, norm1_per_stage[0])
        self.layer2 = self._make_stage(128, layers[1], 2, norm1_per_stage[1])
        self.layer3 = self._make_stage(256, layers[2], 2, norm1_per_stage[2])
        self.layer4 = self._make_stage(512, layers[3], last_stride, norm1_per_stage[3])
        self._build_head(512 * Bottleneck.expansion, fc_dims, dropout_p)
        init_reid_weights(self)

    def _make_stage(
        self, planes: int, blocks: int, stride: int, norm1: NormFactory
    ) -> nn.Sequential:
        out_channels = planes * Bottleneck.expansion
        downsample = None
        if stride != 1 or self.in_channels != out_channels:
            downsample = conv1x1_bn(self.in_channels, out_channels, stride)
        stage = [Bottleneck(self.in_channels, planes, stride, downsample, norm1)]
        self.in_channels = out_channels
        stage += [Bottleneck(out_channels, planes, norm1=norm1) for _ in range(1, blocks)]
        return nn.Sequential(*stage)

    def featuremaps(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images -> ``(B, 2048, H/32, W/32)`` maps (``H/16`` if last_stride=1)."""
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
        x = self.layer2(x)
        x = self.layer3(x)
        return self.layer4(x)


@register_model("resnet50", imagenet_url=RESNET50_IMAGENET_URL)
def resnet50(num_classes: int, loss: str = "softmax", **kwargs) -> ResNet:
    """ResNet-50, layer4 stride 2, 2048-d embedding (global average pool)."""
    return ResNet(num_classes, loss, layers=(3, 4, 6, 3), last_stride=2, fc_dims=None, **kwargs)


@register_model("resnet50_fc512", imagenet_url=RESNET50_IMAGENET_URL)
def resnet50_fc512(num_classes: int, loss: str = "softmax", **kwargs) -> ResNet:
    """ResNet-50, layer4 stride 1, then ``fc`` (2048 -> 512 + BN + ReLU): 512-d embedding."""
    return ResNet(num_classes, loss, layers=(3, 4, 6, 3), last_stride=1, fc_dims=[512], **kwargs)


register_zoo_weights(
    "resnet50",
    {
        "market1501": "1dUUZ4rHDWohmsQXCRe2C_HbYkzz94iBV",
        "dukemtmcreid": "17ymnLglnc64NRvGOitY3BqMRS9UWd1wg",
        "msmt17": "1ep7RypVDOthCRIAqDnn4_N-UhkkFHJsj",
    },
)
register_zoo_weights(
    "resnet50_fc512",
    {
        "market1501": "1kv8l5laX_YCdIGVCetjlNdzKIA3NvsSt",
        "dukemtmcreid": "13QN8Mp3XH81GK4BPGXobKHKyTGH50Rtx",
        "msmt17": "1fDJLcz4O5wxNSUvImIIjoaIF9u1Rwaud",
    },
)
