"""ResNet-50 IBN-a for person ReID (Pan et al., "Two at Once: Enhancing Learning and
Generalization Capacities via IBN-Net", ECCV 2018), torchreid-compatible.

IBN-a replaces the BatchNorm after the first 1x1 convolution of every bottleneck in
``layer1``-``layer3`` by an :class:`IBN` layer: instance normalisation on the first half
of the channels (appearance invariance: colour, lighting, style) and batch normalisation
on the rest (keeps content discrimination). ``layer4`` and the stem stay plain, and the
rest of the network, including the 2048-d eval embedding, is the ``resnet50`` of
:mod:`strongsort_reid.models.resnet`.
"""

from __future__ import annotations

import torch
from torch import nn

from strongsort_reid.models.registry import register_model
from strongsort_reid.models.resnet import ResNet

__all__ = ["IBN", "resnet50_ibn_a"]

# ImageNet weights published by the IBN-Net authors; their keys (``layerN.M.bn1.IN.*``,
# ``layerN.M.bn1.BN.*``) match this model, so every backbone layer is initialised.
RESNET50_IBN_A_IMAGENET_URL = (
    "https://github.com/XingangPan/IBN-Net/releases/download/v1.0/resnet50_ibn_a-d9d0bb7b.pth"
)


class IBN(nn.Module):
    """Instance-batch normalisation: IN on the first ``channels // 2`` channels, BN on the rest.

    Args:
        channels: Number of input channels ``C``.

    Shapes:
        ``(B, C, H, W)`` -> ``(B, C, H, W)``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.half = channels // 2
        # Affine IN has no running statistics: it keys only IN.weight and IN.bias.
        self.IN = nn.InstanceNorm2d(self.half, affine=True)
        self.BN = nn.BatchNorm2d(channels - self.half)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        instance_part, batch_part = torch.split(x, [self.half, x.shape[1] - self.half], dim=1)
        return torch.cat((self.IN(instance_part), self.BN(batch_part)), dim=1)


@register_model("resnet50_ibn_a", imagenet_url=RESNET50_IBN_A_IMAGENET_URL)
def resnet50_ibn_a(num_classes: int, loss: str = "softmax", **kwargs) -> ResNet:
    """ResNet-50 IBN-a: IBN in ``bn1`` of layers 1-3, layer4 stride 2, 2048-d embedding.

    As in torchreid, ``fc_dims`` / ``dropout_p`` may be passed to add embedding layers.
    """
    return ResNet(
        num_classes,
        loss,
        layers=(3, 4, 6, 3),
        last_stride=2,
        norm1_per_stage=(IBN, IBN, IBN, nn.BatchNorm2d),
        **kwargs,
    )
