"""OSNet-AIN: OSNet with instance normalisation placed by architecture search.

Zhou et al., "Learning Generalisable Omni-Scale Representations for Person
Re-Identification", TPAMI 2021.

Differences from :class:`~strongsort_reid.models.osnet.OSNet`:

- the stem normalises with an affine instance norm;
- the four streams of a block live in one ``ModuleList`` (``conv2.<t>.layers``);
- in the searched blocks (``instance_norm=True``) the instance norm sits inside the
  residual branch, replacing the batch norm after the output 1x1 conv, so that only the
  branch, not the shortcut, is style-normalised; the blocks per stage are
  ``[IN, IN]``, ``[BN, IN]``, ``[IN, BN]``;
- the stage transitions are separate ``pool2`` / ``pool3`` modules.
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
from strongsort_reid.models.osnet import (
    OSNET_CHANNELS,
    ChannelGate,
    Conv1x1Linear,
    LightConv3x3,
    transition,
)
from strongsort_reid.models.registry import register_model

__all__ = ["OSNetAIN", "osnet_ain_x0_25", "osnet_ain_x0_5", "osnet_ain_x0_75", "osnet_ain_x1_0"]

# Which blocks of each stage carry the in-branch instance norm (found by the search).
AIN_STAGE_PATTERN = ((True, True), (False, True), (True, False))


class LightConvStream(nn.Module):
    """``depth`` stacked lite 3x3 convs; ``(B, C_in, H, W) -> (B, C_out, H, W)``."""

    def __init__(self, in_channels: int, out_channels: int, depth: int) -> None:
        super().__init__()
        if depth < 1:
            raise ValueError(f"depth must be >= 1, got {depth}")
        layers = [LightConv3x3(in_channels, out_channels)]
        layers += [LightConv3x3(out_channels, out_channels) for _ in range(depth - 1)]
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


class AINBlock(nn.Module):
    """Omni-scale block of OSNet-AIN.

    Args:
        in_channels: Input channels.
        out_channels: Output channels; the streams run at ``out_channels // 4``.
        instance_norm: Normalise the residual branch with an affine instance norm
            (torchreid's ``OSBlockINin``) instead of batch norm (``OSBlock``).

    Shape: ``(B, in_channels, H, W) -> (B, out_channels, H, W)``.
    """

    bottleneck_reduction = 4
    num_streams = 4

    def __init__(self, in_channels: int, out_channels: int, instance_norm: bool) -> None:
        super().__init__()
        mid = out_channels // self.bottleneck_reduction
        self.conv1 = ConvNormAct(in_channels, mid, 1)
        self.conv2 = nn.ModuleList(
            LightConvStream(mid, mid, depth) for depth in range(1, self.num_streams + 1)
        )
        self.gate = ChannelGate(mid)
        self.conv3 = Conv1x1Linear(mid, out_channels, bn=not instance_norm)
        self.downsample = (
            Conv1x1Linear(in_channels, out_channels) if in_channels != out_channels else None
        )
        self.IN = nn.InstanceNorm2d(out_channels, affine=True) if instance_norm else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x1 = self.conv1(x)
        fused = sum(self.gate(stream(x1)) for stream in self.conv2)
        branch = self.conv3(fused)
        if self.IN is not None:
            branch = self.IN(branch)
        identity = x if self.downsample is None else self.downsample(x)
        return F.relu(branch + identity)


class OSNetAIN(ReIDModel):
    """OSNet-AIN.

    Args:
        num_classes: Training identities (classifier rows).
        channels: Widths ``(stem, stage2, stage3, stage4)``, see ``OSNET_CHANNELS``.
        feature_dim: Embedding length.
        loss: ``"softmax"`` or ``"triplet"``.
    """

    def __init__(
        self,
        num_classes: int,
        channels: Sequence[int] = OSNET_CHANNELS["x1_0"],
        feature_dim: int = 512,
        loss: str = "softmax",
    ) -> None:
        super().__init__(num_classes, loss)
        if len(channels) != 4:
            raise ValueError(f"channels needs 4 entries, got {tuple(channels)}")
        self.conv1 = ConvNormAct(3, channels[0], 7, stride=2, padding=3, instance_norm=True)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.conv2 = _make_stage(AIN_STAGE_PATTERN[0], channels[0], channels[1])
        self.pool2 = transition(channels[1])
        self.conv3 = _make_stage(AIN_STAGE_PATTERN[1], channels[1], channels[2])
        self.pool3 = transition(channels[2])
        self.conv4 = _make_stage(AIN_STAGE_PATTERN[2], channels[2], channels[3])
        self.conv5 = ConvNormAct(channels[3], channels[3], 1)
        self._build_head(channels[3], [check_positive_int(feature_dim, "feature_dim")])
        init_reid_weights(self)

    def featuremaps(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W) -> (B, channels[3], H / 16, W / 16)``."""
        x = self.maxpool(self.conv1(x))
        x = self.pool2(self.conv2(x))
        x = self.pool3(self.conv3(x))
        return self.conv5(self.conv4(x))


def _make_stage(pattern: Sequence[bool], in_channels: int, out_channels: int) -> nn.Sequential:
    """One :class:`AINBlock` per entry of ``pattern`` (its ``instance_norm`` flag)."""
    return nn.Sequential(
        *(
            AINBlock(in_channels if index == 0 else out_channels, out_channels, use_in)
            for index, use_in in enumerate(pattern)
        )
    )


##########
# Builders
##########

_IMAGENET_URLS = {
    "osnet_ain_x1_0": TORCHREID_ZOO_URL.format("1-CaioD9NaqbHK_kzSMW8VE4_3KcsRjEo"),
    "osnet_ain_x0_75": TORCHREID_ZOO_URL.format("1apy0hpsMypqstfencdH-jKIUEFOW4xoM"),
    "osnet_ain_x0_5": TORCHREID_ZOO_URL.format("1KusKvEYyKGDTUBVRxRiz55G31wkihB6l"),
    "osnet_ain_x0_25": TORCHREID_ZOO_URL.format("1SxQt2AvmEcgWNhaRb2xC4rP6ZwVDP0Wt"),
}


@register_model("osnet_ain_x1_0", imagenet_url=_IMAGENET_URLS["osnet_ain_x1_0"])
def osnet_ain_x1_0(num_classes: int, loss: str = "softmax", **kwargs) -> OSNetAIN:
    """OSNet-AIN, width x1.0."""
    return OSNetAIN(num_classes, OSNET_CHANNELS["x1_0"], loss=loss, **kwargs)


@register_model("osnet_ain_x0_75", imagenet_url=_IMAGENET_URLS["osnet_ain_x0_75"])
def osnet_ain_x0_75(num_classes: int, loss: str = "softmax", **kwargs) -> OSNetAIN:
    """OSNet-AIN, width x0.75."""
    return OSNetAIN(num_classes, OSNET_CHANNELS["x0_75"], loss=loss, **kwargs)


@register_model("osnet_ain_x0_5", imagenet_url=_IMAGENET_URLS["osnet_ain_x0_5"])
def osnet_ain_x0_5(num_classes: int, loss: str = "softmax", **kwargs) -> OSNetAIN:
    """OSNet-AIN, width x0.5."""
    return OSNetAIN(num_classes, OSNET_CHANNELS["x0_5"], loss=loss, **kwargs)


@register_model("osnet_ain_x0_25", imagenet_url=_IMAGENET_URLS["osnet_ain_x0_25"])
def osnet_ain_x0_25(num_classes: int, loss: str = "softmax", **kwargs) -> OSNetAIN:
    """OSNet-AIN, width x0.25."""
    return OSNetAIN(num_classes, OSNET_CHANNELS["x0_25"], loss=loss, **kwargs)


# torchreid model zoo, "MSMT17 (combineall=True)" cross-domain model: trained on all 4101
# MSMT17 identities (1041 train + 3060 test); boxmot publishes it as osnet_ain_x1_0_msmt17.
register_zoo_weights("osnet_ain_x1_0", {"msmt17_combineall": "1SigwBE6mPdqiJMqhuIY4aqC7--5CsMal"})
