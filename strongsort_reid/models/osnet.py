"""Omni-Scale Network (OSNet) for person re-identification.

Zhou et al., "Omni-Scale Feature Learning for Person Re-Identification", ICCV 2019.

An OSNet is a stem (7x7 conv, max-pool), three stages of residual omni-scale blocks with
a 1x1 conv + 2x2 average-pool transition after the first two, a final 1x1 conv, global
average pooling and a ``Linear -> BatchNorm1d -> ReLU`` embedding layer. Each block runs
four streams of 1, 2, 3 and 4 stacked *lite* 3x3 convolutions (a 1x1 conv followed by a
depthwise 3x3 conv), so the streams see receptive fields of 3, 5, 7 and 9 pixels, and
fuses them with a shared channel gate. Module names follow torchreid exactly so that its
model-zoo checkpoints load with ``strict=True``.

The building blocks are shared with :mod:`strongsort_reid.models.osnet_ain`; the head,
forward semantics and initialisation are those of
:class:`~strongsort_reid.models.common.ReIDModel`.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn
from torch.nn import functional as F

from strongsort_reid.models.common import (
    TORCHREID_ZOO_URL,
    ConvNormAct,
    ReIDModel,
    check_positive_int,
    init_reid_weights,
    register_zoo_weights,
)
from strongsort_reid.models.registry import register_model

__all__ = [
    "OSNet",
    "osnet_ibn_x1_0",
    "osnet_x0_25",
    "osnet_x0_5",
    "osnet_x0_75",
    "osnet_x1_0",
]

# Channel widths (stem, stage 2, stage 3, stage 4) of the width multipliers in the paper.
OSNET_CHANNELS = {
    "x1_0": (64, 256, 384, 512),
    "x0_75": (48, 192, 288, 384),
    "x0_5": (32, 128, 192, 256),
    "x0_25": (16, 64, 96, 128),
}

##########
# Building blocks (shared with osnet_ain)
##########


class Conv1x1Linear(nn.Module):
    """1x1 conv -> BatchNorm without activation (block output and shortcut projection).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        bn: Follow the conv with batch norm. OSNet-AIN drops it where an instance norm
            comes right after.
    """

    def __init__(self, in_channels: int, out_channels: int, bn: bool = True) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.bn = nn.BatchNorm2d(out_channels) if bn else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C_in, H, W) -> (B, C_out, H, W)``."""
        x = self.conv(x)
        return x if self.bn is None else self.bn(x)


class LightConv3x3(nn.Module):
    """Lite 3x3 conv: 1x1 conv -> depthwise 3x3 conv -> BatchNorm -> ReLU.

    Factorising a 3x3 conv into a pointwise and a depthwise conv keeps the block cheap
    while every stacked layer still grows the receptive field by 2 pixels.
    Shape: ``(B, C_in, H, W) -> (B, C_out, H, W)``.
    """

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 1, bias=False)
        self.conv2 = nn.Conv2d(
            out_channels, out_channels, 3, padding=1, bias=False, groups=out_channels
        )
        self.bn = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv2(self.conv1(x))))


class ChannelGate(nn.Module):
    """Unified aggregation gate: per-channel weights in ``(0, 1)`` from global context.

    ``gate(x) = x * sigmoid(fc2(relu(fc1(avgpool(x)))))`` with 1x1 convs ``fc1``/``fc2``
    through a bottleneck of ``channels // reduction``. One gate instance is shared by all
    streams of a block, so the fusion weights depend on the input, not on the stream.
    Shape: ``(B, C, H, W) -> (B, C, H, W)``.
    """

    def __init__(self, channels: int, reduction: int = 16) -> None:
        super().__init__()
        hidden = channels // reduction
        self.fc1 = nn.Conv2d(channels, hidden, 1, bias=True)
        self.fc2 = nn.Conv2d(hidden, channels, 1, bias=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weights = F.adaptive_avg_pool2d(x, 1)
        weights = torch.sigmoid(self.fc2(F.relu(self.fc1(weights))))
        return x * weights


##########
# OSNet
##########


class OSBlock(nn.Module):
    """Omni-scale residual bottleneck with four lite-conv streams of depth 1 to 4.

    Args:
        in_channels: Input channels.
        out_channels: Output channels; the streams run at ``out_channels // 4``.
        instance_norm: Apply an affine instance norm after the residual sum
            (OSNet-IBN, first stage only).

    Shape: ``(B, in_channels, H, W) -> (B, out_channels, H, W)``.
    """

    bottleneck_reduction = 4

    def __init__(self, in_channels: int, out_channels: int, instance_norm: bool = False) -> None:
        super().__init__()
        mid = out_channels // self.bottleneck_reduction
        self.conv1 = ConvNormAct(in_channels, mid, 1)
        self.conv2a = LightConv3x3(mid, mid)
        self.conv2b = _lite_stack(mid, 2)
        self.conv2c = _lite_stack(mid, 3)
        self.conv2d = _lite_stack(mid, 4)
        self.gate = ChannelGate(mid)
        self.conv3 = Conv1x1Linear(mid, out_channels)
        self.downsample = (
            Conv1x1Linear(in_channels, out_channels) if in_channels != out_channels else None
        )
        self.IN = nn.InstanceNorm2d(out_channels, affine=True) if instance_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.conv1(x)
        fused = (
            self.gate(self.conv2a(x1))
            + self.gate(self.conv2b(x1))
            + self.gate(self.conv2c(x1))
            + self.gate(self.conv2d(x1))
        )
        identity = x if self.downsample is None else self.downsample(x)
        out = self.conv3(fused) + identity
        if self.IN is not None:
            out = self.IN(out)
        return F.relu(out)


def _lite_stack(channels: int, depth: int) -> nn.Sequential:
    """``depth`` stacked :class:`LightConv3x3` layers (receptive field ``2 * depth + 1``)."""
    return nn.Sequential(*(LightConv3x3(channels, channels) for _ in range(depth)))


def transition(channels: int) -> nn.Sequential:
    """1x1 conv then 2x2 average pooling: halves height and width between stages."""
    return nn.Sequential(ConvNormAct(channels, channels, 1), nn.AvgPool2d(2, stride=2))


class OSNet(ReIDModel):
    """OSNet (and OSNet-IBN with ``instance_norm=True``).

    Args:
        num_classes: Training identities (classifier rows).
        channels: Widths ``(stem, stage2, stage3, stage4)``, see ``OSNET_CHANNELS``.
        layers: Blocks per stage ``(stage2, stage3, stage4)``.
        feature_dim: Embedding length.
        loss: ``"softmax"`` or ``"triplet"``.
        instance_norm: OSNet-IBN: instance norm in the stem and after each stage-2 block,
            which makes features less sensitive to colour/style shifts between cameras.
    """

    def __init__(
        self,
        num_classes: int,
        channels: Sequence[int] = OSNET_CHANNELS["x1_0"],
        layers: Sequence[int] = (2, 2, 2),
        feature_dim: int = 512,
        loss: str = "softmax",
        instance_norm: bool = False,
    ) -> None:
        super().__init__(num_classes, loss)
        if len(channels) != 4 or len(layers) != 3:
            raise ValueError(
                f"channels needs 4 and layers 3 entries, got {tuple(channels)}, {tuple(layers)}"
            )
        self.conv1 = ConvNormAct(
            3, channels[0], 7, stride=2, padding=3, instance_norm=instance_norm
        )
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = _make_stage(layers[0], channels[0], channels[1], True, instance_norm)
        self.conv3 = _make_stage(layers[1], channels[1], channels[2], True, False)
        self.conv4 = _make_stage(layers[2], channels[2], channels[3], False, False)
        self.conv5 = ConvNormAct(channels[3], channels[3], 1)
        self._build_head(channels[3], [check_positive_int(feature_dim, "feature_dim")])
        init_reid_weights(self)

    def featuremaps(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W) -> (B, channels[3], H / 16, W / 16)``."""
        x = self.maxpool(self.conv1(x))
        return self.conv5(self.conv4(self.conv3(self.conv2(x))))


def _make_stage(
    num_blocks: int,
    in_channels: int,
    out_channels: int,
    reduce_spatial_size: bool,
    instance_norm: bool,
) -> nn.Sequential:
    """``num_blocks`` OSBlocks, then a :func:`transition` when ``reduce_spatial_size``."""
    blocks = [OSBlock(in_channels, out_channels, instance_norm=instance_norm)]
    blocks += [
        OSBlock(out_channels, out_channels, instance_norm=instance_norm)
        for _ in range(1, num_blocks)
    ]
    if reduce_spatial_size:
        blocks.append(transition(out_channels))
    return nn.Sequential(*blocks)


##########
# Builders
##########

_IMAGENET_URLS = {
    "osnet_x1_0": TORCHREID_ZOO_URL.format("1LaG1EJpHrxdAxKnSCJ_i0u-nbxSAeiFY"),
    "osnet_x0_75": TORCHREID_ZOO_URL.format("1uwA9fElHOk3ZogwbeY5GkLI6QPTX70Hq"),
    "osnet_x0_5": TORCHREID_ZOO_URL.format("16DGLbZukvVYgINws8u8deSaOqjybZ83i"),
    "osnet_x0_25": TORCHREID_ZOO_URL.format("1rb8UN5ZzPKRc_xvtHlyDh-cSz88YX9hs"),
    "osnet_ibn_x1_0": TORCHREID_ZOO_URL.format("1sr90V6irlYYDd4_4ISU2iruoRG8J__6l"),
}


@register_model("osnet_x1_0", imagenet_url=_IMAGENET_URLS["osnet_x1_0"])
def osnet_x1_0(num_classes: int, loss: str = "softmax", **kwargs) -> OSNet:
    """OSNet, width x1.0 (2.2 M parameters with a 512-d embedding)."""
    return OSNet(num_classes, OSNET_CHANNELS["x1_0"], loss=loss, **kwargs)


@register_model("osnet_x0_75", imagenet_url=_IMAGENET_URLS["osnet_x0_75"])
def osnet_x0_75(num_classes: int, loss: str = "softmax", **kwargs) -> OSNet:
    """OSNet, width x0.75."""
    return OSNet(num_classes, OSNET_CHANNELS["x0_75"], loss=loss, **kwargs)


@register_model("osnet_x0_5", imagenet_url=_IMAGENET_URLS["osnet_x0_5"])
def osnet_x0_5(num_classes: int, loss: str = "softmax", **kwargs) -> OSNet:
    """OSNet, width x0.5."""
    return OSNet(num_classes, OSNET_CHANNELS["x0_5"], loss=loss, **kwargs)


@register_model("osnet_x0_25", imagenet_url=_IMAGENET_URLS["osnet_x0_25"])
def osnet_x0_25(num_classes: int, loss: str = "softmax", **kwargs) -> OSNet:
    """OSNet, width x0.25 (0.2 M parameters); the StrongSORT default extractor."""
    return OSNet(num_classes, OSNET_CHANNELS["x0_25"], loss=loss, **kwargs)


@register_model("osnet_ibn_x1_0", imagenet_url=_IMAGENET_URLS["osnet_ibn_x1_0"])
def osnet_ibn_x1_0(num_classes: int, loss: str = "softmax", **kwargs) -> OSNet:
    """OSNet-IBN, width x1.0: instance norm in the stem and the first stage."""
    return OSNet(num_classes, OSNET_CHANNELS["x1_0"], loss=loss, instance_norm=True, **kwargs)


##########
# Published model-zoo checkpoints (torchreid model zoo, names as in boxmot)
##########

# Same-domain models of the torchreid model zoo: trained on the train split of one dataset.
register_zoo_weights(
    "osnet_x1_0",
    {
        "market1501": "1vduhq5DpN2q1g4fYEZfPI17MJeh9qyrA",
        "dukemtmcreid": "1QZO_4sNf4hdOKKKzKc-TZU9WW1v6zQbq",
        "msmt17": "112EMUfBPYeYg70w-syK6V6Mx8-Qb9Q1M",
    },
)
register_zoo_weights(
    "osnet_x0_75",
    {
        "market1501": "1ozRaDSQw_EQ8_93OUmjDbvLXw9TnfPer",
        "dukemtmcreid": "1IE3KRaTPp4OUa6PGTFL_d5_KQSJbP0Or",
        "msmt17": "1QEGO6WnJ-BmUzVPd3q9NoaO_GsPNlmWc",
    },
)
register_zoo_weights(
    "osnet_x0_5",
    {
        "market1501": "1PLB9rgqrUM7blWrg4QlprCuPT7ILYGKT",
        "dukemtmcreid": "1KoUVqmiST175hnkALg9XuTi1oYpqcyTu",
        "msmt17": "1UT3AxIaDvS2PdxzZmbkLmjtiqq7AIKCv",
    },
)
register_zoo_weights(
    "osnet_x0_25",
    {
        "market1501": "1z1UghYvOTtjx7kEoRfmqSMu-z62J6MAj",
        "dukemtmcreid": "1eumrtiXT4NOspjyEV4j8cHmlOaaCGk5l",
        "msmt17": "1sSwXSUlj4_tHZequ_iZ8w_Jh0VaRQMqF",
    },
    # Checked with hashlib against the copies in ../shared/data/reid.
    sha256={
        "market1501": "c0ff09177a21417a19bc73bbf5af4eb5d2b097c2074ed35e67819ee6cd93612c",
        "msmt17": "6f57607fed9f502b9efed546108132ee715df5a5b6e6932c6269bacb47f59f99",
    },
)
# Cross-domain model of the zoo, trained on all MSMT17 identities (combineall=True).
register_zoo_weights("osnet_ibn_x1_0", {"msmt17_combineall": "1q3Sj2ii34NlfxA4LvmHdWO_75NDRmECJ"})
