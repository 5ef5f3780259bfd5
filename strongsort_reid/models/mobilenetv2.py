"""MobileNetV2 for person ReID (Sandler et al., "MobileNetV2: Inverted Residuals and Linear
Bottlenecks", CVPR 2018), torchreid-compatible.

Stages ``conv1``-``conv9`` follow the paper's Table 2 (expansion t, width c, repeats n,
stride s), with every width scaled by ``width_mult`` and truncated to an int. The final
1x1 convolution has 1280 channels (``int(1280 * width_mult)`` for multipliers above 1);
the eval embedding is its global average pool: 1280-d for x1.0, 1792-d for x1.4.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from strongsort_reid.models.common import (
    TORCHREID_ZOO_URL,
    ConvNormAct,
    ReIDModel,
    conv1x1_bn,
    init_reid_weights,
    register_zoo_weights,
)
from strongsort_reid.models.registry import register_model

__all__ = ["MobileNetV2", "mobilenetv2_x1_0", "mobilenetv2_x1_4"]

# ImageNet weights of the torchreid model zoo: top-1 71.3 (x1.0), 73.9 (x1.4).
MOBILENETV2_X1_0_IMAGENET_URL = TORCHREID_ZOO_URL.format("1K7_CZE_L_Tf-BRY6_vVm0G-0ZKjVWh3R")
MOBILENETV2_X1_4_IMAGENET_URL = TORCHREID_ZOO_URL.format("10c0ToIGIVI0QZTx284nJe8QfSJl5bIta")

# (expansion t, output channels c, repeats n, first stride s) of stages conv2..conv8.
INVERTED_RESIDUAL_SETTINGS = (
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
)


class InvertedResidual(nn.Module):
    """1x1 expansion (ReLU6), 3x3 depthwise (ReLU6, carries the stride), linear 1x1
    projection; identity shortcut when the shape is unchanged.

    The expansion convolution is present even for t = 1 (torchreid keeps it, so the
    ``conv2.0.conv1.*`` keys exist).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        expansion: Width of the hidden layer relative to ``in_channels``.
        stride: Stride of the depthwise convolution.
    """

    def __init__(self, in_channels: int, out_channels: int, expansion: int, stride: int) -> None:
        super().__init__()
        hidden = in_channels * expansion
        self.use_residual = stride == 1 and in_channels == out_channels
        self.conv1 = ConvNormAct(in_channels, hidden, 1, activation=F.relu6)
        self.dwconv2 = ConvNormAct(
            hidden, hidden, 3, stride=stride, padding=1, groups=hidden, activation=F.relu6
        )
        # Linear bottleneck: no activation after the projection (paper, Sec. 3.2).
        self.conv3 = conv1x1_bn(hidden, out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv3(self.dwconv2(self.conv1(x)))
        return x + out if self.use_residual else out


class MobileNetV2(ReIDModel):
    """MobileNetV2 backbone with torchreid's ReID head.

    Args:
        num_classes: Number of training identities.
        loss: ``"softmax"`` or ``"triplet"``.
        width_mult: Channel multiplier (1.0 or 1.4 in the model zoo).
        fc_dims: Widths of optional embedding layers after pooling (torchreid's ``fc``).
        dropout_p: Dropout in those layers.

    Attributes:
        feature_dim: Width of the eval-mode embedding.
    """

    def __init__(
        self,
        num_classes: int,
        loss: str = "softmax",
        width_mult: float = 1.0,
        fc_dims: Optional[Sequence[int]] = None,
        dropout_p: Optional[float] = None,
    ) -> None:
        super().__init__(num_classes, loss)
        if width_mult <= 0:
            raise ValueError(f"width_mult must be positive, got {width_mult!r}")
        channels = int(32 * width_mult)
        # The last layer is not thinned below 1280 (paper, Sec. 5.1).
        last_channels = int(1280 * width_mult) if width_mult > 1 else 1280

        self.conv1 = ConvNormAct(3, channels, 3, stride=2, padding=1, activation=F.relu6)
        for index, (expansion, width, repeats, stride) in enumerate(INVERTED_RESIDUAL_SETTINGS):
            out_channels = int(width * width_mult)
            blocks = [InvertedResidual(channels, out_channels, expansion, stride)]
            blocks += [
                InvertedResidual(out_channels, out_channels, expansion, 1)
                for _ in range(1, repeats)
            ]
            self.add_module(f"conv{index + 2}", nn.Sequential(*blocks))
            channels = out_channels
        self.conv9 = ConvNormAct(channels, last_channels, 1, activation=F.relu6)
        self._build_head(last_channels, fc_dims, dropout_p)
        init_reid_weights(self)

    def featuremaps(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images -> ``(B, last_channels, H/32, W/32)`` maps."""
        x = self.conv1(x)
        for index in range(2, 9):
            x = getattr(self, f"conv{index}")(x)
        return self.conv9(x)


@register_model("mobilenetv2_x1_0", imagenet_url=MOBILENETV2_X1_0_IMAGENET_URL)
def mobilenetv2_x1_0(num_classes: int, loss: str = "softmax", **kwargs) -> MobileNetV2:
    """MobileNetV2 x1.0: 1280-d embedding, 2.2 M parameters."""
    return MobileNetV2(num_classes, loss, width_mult=1.0, fc_dims=None, **kwargs)


@register_model("mobilenetv2_x1_4", imagenet_url=MOBILENETV2_X1_4_IMAGENET_URL)
def mobilenetv2_x1_4(num_classes: int, loss: str = "softmax", **kwargs) -> MobileNetV2:
    """MobileNetV2 x1.4: 1792-d embedding, 4.3 M parameters."""
    return MobileNetV2(num_classes, loss, width_mult=1.4, fc_dims=None, **kwargs)


register_zoo_weights(
    "mobilenetv2_x1_0",
    {
        "market1501": "18DgHC2ZJkjekVoqBWszD8_Xiikz-fewp",
        "dukemtmcreid": "1q1WU2FETRJ3BXcpVtfJUuqq4z3psetds",
        "msmt17": "1j50Hv14NOUAg7ZeB3frzfX-WYLi7SrhZ",
    },
)
register_zoo_weights(
    "mobilenetv2_x1_4",
    {
        "market1501": "1t6JCqphJG-fwwPVkRLmGGyEBhGOf2GO5",
        "dukemtmcreid": "12uD5FeVqLg9-AFDju2L7SQxjmPb4zpBN",
        "msmt17": "1ZY5P2Zgm-3RbDpbXM0kIBMPvspeNIbXz",
    },
)
