"""Multi-Level Factorisation Net for person ReID (Chang et al., CVPR 2018), torchreid-compatible.

MLFN stacks 16 blocks in four stages (3, 4, 6, 3 blocks; 256, 512, 1024, 2048 channels).
Each block has

* a Factor Module (FM): a ResNeXt-style bottleneck whose grouped 3x3 convolution splits the
  channels into ``groups`` = 32 latent factors, and
* a Factor Selection Module (FSM): from the block's input, a small pooled MLP with a
  sigmoid output predicts one gate per factor, ``s`` of shape ``(B, groups, 1, 1)``, which
  scales that factor's channels before the expanding 1x1 convolution.

The 16 selections are concatenated into the Factor Signature ``S`` (``16 * groups`` = 512
values). The embedding fuses the two views: ``v = (fc_x(pool(x)) + fc_s(S)) / 2``, where
``fc_x`` and ``fc_s`` are 1x1 conv + BN + ReLU projections to ``embed_dim`` (1024).
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
from torch import nn
from torch.nn import functional as F

from strongsort_reid.models.common import (
    TORCHREID_ZOO_URL,
    ReIDModel,
    check_positive_int,
    conv1x1_bn,
    init_reid_weights,
    register_zoo_weights,
)
from strongsort_reid.models.registry import register_model

__all__ = ["MLFN", "MLFNBlock", "mlfn"]

# ImageNet weights of the torchreid model zoo (5 epochs, top-1 51.6).
MLFN_IMAGENET_URL = TORCHREID_ZOO_URL.format("1PP8Eygct5OF4YItYRfA3qypYY9xiqHuV")

# Per stage: (output channels, number of blocks, hidden widths of the FSM's MLP).
MLFN_STAGES = (
    (256, 3, (128, 64)),
    (512, 4, (256, 128)),
    (1024, 6, (512, 128)),
    (2048, 3, (512, 128)),
)


class MLFNBlock(nn.Module):
    """One MLFN block: factor module gated by the factor selection module, plus residual.

    Args:
        in_channels: Input channels.
        out_channels: Output channels; the factor module works at half this width.
        stride: Stride of the grouped 3x3 convolution (and of the projection shortcut).
        fsm_channels: The two hidden widths of the selection MLP.
        groups: Number of latent factors (groups of the 3x3 convolution).

    Shapes:
        ``(B, C_in, H, W)`` -> ``((B, C_out, H / stride, W / stride), (B, groups, 1, 1))``.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        fsm_channels: Sequence[int],
        groups: int = 32,
    ) -> None:
        super().__init__()
        mid_channels = out_channels // 2
        if mid_channels % groups:
            raise ValueError(f"out_channels // 2 = {mid_channels} is not divisible by {groups=}")
        self.groups = groups

        self.fm_conv1 = nn.Conv2d(in_channels, mid_channels, 1, bias=False)
        self.fm_bn1 = nn.BatchNorm2d(mid_channels)
        self.fm_conv2 = nn.Conv2d(
            mid_channels, mid_channels, 3, stride=stride, padding=1, groups=groups, bias=False
        )
        self.fm_bn2 = nn.BatchNorm2d(mid_channels)
        self.fm_conv3 = nn.Conv2d(mid_channels, out_channels, 1, bias=False)
        self.fm_bn3 = nn.BatchNorm2d(out_channels)

        hidden1, hidden2 = fsm_channels
        self.fsm = nn.Sequential(
            nn.AdaptiveAvgPool2d(1),
            nn.Conv2d(in_channels, hidden1, 1),
            nn.BatchNorm2d(hidden1),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden1, hidden2, 1),
            nn.BatchNorm2d(hidden2),
            nn.ReLU(inplace=True),
            nn.Conv2d(hidden2, groups, 1),
            nn.BatchNorm2d(groups),
            nn.Sigmoid(),
        )

        self.downsample = None
        if in_channels != out_channels or stride > 1:
            self.downsample = conv1x1_bn(in_channels, out_channels, stride)

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        selection = self.fsm(x)
        identity = x if self.downsample is None else self.downsample(x)

        out = F.relu(self.fm_bn1(self.fm_conv1(x)))
        out = F.relu(self.fm_bn2(self.fm_conv2(out)))
        # Grouped-conv channels are contiguous per group: channel c belongs to factor
        # c // (C / groups), so each gate is repeated over its factor's channels.
        channels_per_factor = out.shape[1] // self.groups
        out = out * selection.repeat_interleave(channels_per_factor, dim=1)
        # torchreid (and its checkpoints) apply a ReLU before the residual sum as well.
        out = F.relu(self.fm_bn3(self.fm_conv3(out)))
        return F.relu(out + identity), selection


class MLFN(ReIDModel):
    """MLFN backbone with torchreid's ReID output semantics (:meth:`ReIDModel.forward`).

    The head is MLFN's own: the embedding fuses the pooled maps and the factor signature
    (:meth:`_embed`) instead of :meth:`ReIDModel._build_head`'s pooled ``fc`` layers.

    Args:
        num_classes: Number of training identities.
        loss: ``"softmax"`` or ``"triplet"``.
        groups: Number of latent factors per block.
        embed_dim: Width of the fused embedding.

    Attributes:
        feature_dim: Width of the eval-mode embedding (``embed_dim``).
    """

    def __init__(
        self,
        num_classes: int,
        loss: str = "softmax",
        groups: int = 32,
        embed_dim: int = 1024,
    ) -> None:
        super().__init__(num_classes, loss)
        check_positive_int(groups, "groups")
        self.feature_dim = check_positive_int(embed_dim, "embed_dim")

        self.conv1 = nn.Conv2d(3, 64, 7, stride=2, padding=3)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)

        blocks: List[MLFNBlock] = []
        in_channels = 64
        for stage, (out_channels, num_blocks, fsm_channels) in enumerate(MLFN_STAGES):
            for index in range(num_blocks):
                stride = 2 if stage > 0 and index == 0 else 1
                blocks.append(MLFNBlock(in_channels, out_channels, stride, fsm_channels, groups))
                in_channels = out_channels
        self.feature = nn.ModuleList(blocks)
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)

        self.fc_x = nn.Sequential(
            nn.Conv2d(in_channels, embed_dim, 1, bias=False),
            nn.BatchNorm2d(embed_dim),
            nn.ReLU(inplace=True),
        )
        self.fc_s = nn.Sequential(
            nn.Conv2d(groups * len(blocks), embed_dim, 1, bias=False),
            nn.BatchNorm2d(embed_dim),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(embed_dim, self.num_classes)
        init_reid_weights(self)

    def _backbone(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """Images -> (last feature map ``(B, 2048, H/32, W/32)``, signature ``(B, 512, 1, 1)``)."""
        x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
        selections = []
        for block in self.feature:
            x, selection = block(x)
            selections.append(selection)
        return x, torch.cat(selections, dim=1)

    def featuremaps(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images -> ``(B, 2048, H/32, W/32)`` maps of the last block."""
        return self._backbone(x)[0]

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images -> ``(B, embed_dim)`` fused embeddings ``(fc_x + fc_s) / 2``."""
        maps, signature = self._backbone(x)
        v = (self.fc_x(self.global_avgpool(maps)) + self.fc_s(signature)) * 0.5
        return v.flatten(1)


@register_model("mlfn", imagenet_url=MLFN_IMAGENET_URL)
def mlfn(num_classes: int, loss: str = "softmax", **kwargs) -> MLFN:
    """MLFN: 16 blocks, 32 factors each, 1024-d fused embedding, 32.5 M parameters."""
    return MLFN(num_classes, loss, **kwargs)


register_zoo_weights(
    "mlfn",
    {
        "market1501": "1wXcvhA_b1kpDfrt9s2Pma-MHxtj9pmvS",
        "dukemtmcreid": "1rExgrTNb0VCIcOnXfMsbwSUW1h2L1Bum",
        "msmt17": "18JzsZlJb3Wm7irCbZbZ07TN4IFKvR6p-",
    },
)
