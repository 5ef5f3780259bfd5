"""Pieces shared by every ReID architecture of this package.

* :class:`ReIDModel`: torchreid's head and forward semantics (global average pooling,
  optional ``fc`` embedding layers, identity ``classifier``, train/eval output selection)
  and the argument checks every architecture makes.
* :func:`init_reid_weights`: torchreid's random initialisation.
* :class:`ConvNormAct` and :func:`conv1x1_bn`: the conv + norm (+ activation) units whose
  ``state_dict`` key layout several architectures share.
* :func:`register_zoo_weights`: registration of torchreid model-zoo checkpoints, with the
  number of identities of each training set.
"""

from __future__ import annotations

from typing import Callable, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import nn
from torch.nn import functional as F

from strongsort_reid.models.weights import WeightsEntry, register_weights

__all__ = [
    "SUPPORTED_LOSSES",
    "TORCHREID_ZOO_URL",
    "TRAIN_IDENTITIES",
    "ConvNormAct",
    "ReIDModel",
    "ReIDOutput",
    "build_fc_layers",
    "check_images",
    "check_loss",
    "check_positive_int",
    "conv1x1_bn",
    "init_reid_weights",
    "register_zoo_weights",
    "reid_output",
]

SUPPORTED_LOSSES = ("softmax", "triplet")

ReIDOutput = Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]

# The torchreid model zoo's Google Drive files (the IDs boxmot's weight table uses too).
TORCHREID_ZOO_URL = "https://drive.google.com/uc?id={}"

# Identities a zoo checkpoint was trained on = rows of its classifier. Same-domain models
# use the train split of one dataset; the cross-domain "combineall" models train on all of
# MSMT17 (1041 train + 3060 test identities).
TRAIN_IDENTITIES = {
    "market1501": 751,
    "dukemtmcreid": 702,
    "msmt17": 1041,
    "msmt17_combineall": 4101,
}
_COMBINEALL_SUFFIX = "_combineall"


##########
# Argument checks
##########


def check_loss(loss: str) -> str:
    """Return ``loss`` if the model heads support it, else raise ``ValueError``."""
    if loss not in SUPPORTED_LOSSES:
        raise ValueError(f"loss must be one of {SUPPORTED_LOSSES}, got {loss!r}")
    return loss


def check_positive_int(value: int, name: str) -> int:
    """Return ``value`` if it is a positive int (not a bool), else raise ``ValueError``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return value


def check_images(x: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``x`` is a ``(B, 3, H, W)`` image batch."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"x must be a (B, 3, H, W) image tensor, got shape {tuple(x.shape)}")


##########
# Layers
##########


class ConvNormAct(nn.Module):
    """Bias-free conv -> BatchNorm (or affine InstanceNorm) -> activation.

    The ``state_dict`` keys are ``conv.*`` and ``bn.*`` (torchreid's OSNet ``ConvLayer`` /
    ``Conv1x1`` and MobileNetV2 ``ConvBlock``).

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Square kernel size.
        stride: Convolution stride.
        padding: Zero padding on each side.
        groups: Convolution groups (``out_channels`` for a depthwise convolution).
        instance_norm: Normalise with ``InstanceNorm2d(affine=True)`` instead of batch norm
            (the OSNet IBN and AIN stems do this to remove image style).
        activation: Elementwise activation, ``F.relu`` or ``F.relu6`` (MobileNetV2).

    Shape: ``(B, C_in, H, W) -> (B, C_out, H', W')`` with
    ``H' = (H + 2 * padding - kernel_size) // stride + 1`` (likewise ``W'``).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int = 1,
        padding: int = 0,
        groups: int = 1,
        instance_norm: bool = False,
        activation: Callable[[torch.Tensor], torch.Tensor] = F.relu,
    ) -> None:
        super().__init__()
        self.conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            groups=groups,
            bias=False,
        )
        if instance_norm:
            self.bn = nn.InstanceNorm2d(out_channels, affine=True)
        else:
            self.bn = nn.BatchNorm2d(out_channels)
        self.activation = activation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.activation(self.bn(self.conv(x)))


def conv1x1_bn(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    """Bias-free 1x1 conv then BatchNorm, no activation; keys ``0.*`` (conv), ``1.*`` (BN).

    Used as the projection shortcut of ResNet and MLFN blocks and as the linear
    bottleneck of MobileNetV2. Shape: ``(B, C_in, H, W) -> (B, C_out, H / stride, W / stride)``.
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


def build_fc_layers(
    fc_dims: Optional[Sequence[int]], input_dim: int, dropout_p: Optional[float] = None
) -> Optional[nn.Sequential]:
    """Embedding layers applied after global pooling (torchreid's ``fc``).

    Each entry of ``fc_dims`` adds ``Linear -> BatchNorm1d -> ReLU`` (``-> Dropout`` when
    ``dropout_p`` is given), so the ``state_dict`` keys are ``fc.0.*`` (Linear), ``fc.1.*``
    (BatchNorm1d) and so on, as in torchreid.

    Args:
        fc_dims: Output widths of the layers, or ``None`` for no layers.
        input_dim: Width of the pooled feature vector.
        dropout_p: Dropout probability after each ReLU, or ``None`` for none.

    Returns:
        The ``nn.Sequential`` or ``None`` when ``fc_dims`` is ``None``.
    """
    if fc_dims is None:
        if dropout_p is not None:
            raise ValueError("dropout_p is only used by fc layers; pass fc_dims as well")
        return None
    if not isinstance(fc_dims, (list, tuple)) or not fc_dims:
        raise ValueError(f"fc_dims must be a non-empty list or tuple of ints, got {fc_dims!r}")
    if any(not isinstance(dim, int) or dim < 1 for dim in fc_dims):
        raise ValueError(f"fc_dims must hold positive ints, got {fc_dims!r}")
    if dropout_p is not None and not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"dropout_p must be in [0, 1) or None, got {dropout_p!r}")
    layers = []
    for dim in fc_dims:
        layers += [nn.Linear(input_dim, dim), nn.BatchNorm1d(dim), nn.ReLU(inplace=True)]
        if dropout_p is not None:
            layers.append(nn.Dropout(p=dropout_p))
        input_dim = dim
    return nn.Sequential(*layers)


def init_reid_weights(model: nn.Module) -> None:
    """torchreid's random initialisation: He-normal (fan-out) convs, unit norms, small FCs."""
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.InstanceNorm2d)):
            if module.weight is not None:
                nn.init.ones_(module.weight)
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, 0.01)
            if module.bias is not None:
                nn.init.zeros_(module.bias)


##########
# Head and output semantics
##########


def reid_output(
    features: torch.Tensor, classifier: nn.Module, loss: str, training: bool
) -> ReIDOutput:
    """torchreid's output convention shared by every architecture.

    Args:
        features: ``(B, D)`` float embeddings.
        classifier: Identity classifier mapping ``D`` to ``num_classes``.
        loss: ``"softmax"`` or ``"triplet"``.
        training: The module's ``training`` flag.

    Returns:
        In eval mode the ``(B, D)`` features. In train mode the ``(B, num_classes)`` logits
        for ``"softmax"``, or ``(logits, features)`` for ``"triplet"``.
    """
    if not training:
        return features
    logits = classifier(features)
    if loss == "triplet":
        return logits, features
    return logits


class ReIDModel(nn.Module):
    """Base of the ReID architectures: argument checks, head and torchreid forward semantics.

    Subclasses call ``super().__init__(num_classes, loss)``, build their backbone (its
    modules are registered first so ``state_dict`` keys come in torchreid's order),
    implement :meth:`featuremaps`, then call :meth:`_build_head` (or build their own head,
    set ``feature_dim`` and override :meth:`_embed`) and finally :func:`init_reid_weights`.

    Args:
        num_classes: Number of training identities (``classifier`` outputs).
        loss: ``"softmax"`` or ``"triplet"`` (what train mode returns, see :meth:`forward`).

    Attributes:
        feature_dim: Width of the eval-mode embedding.
        loss: ``"softmax"`` or ``"triplet"``.
        num_classes: Number of training identities.
    """

    feature_dim: int

    def __init__(self, num_classes: int, loss: str) -> None:
        super().__init__()
        self.num_classes = check_positive_int(num_classes, "num_classes")
        self.loss = check_loss(loss)

    def _build_head(
        self,
        in_dim: int,
        fc_dims: Optional[Sequence[int]] = None,
        dropout_p: Optional[float] = None,
    ) -> None:
        """Global average pooling, optional ``fc`` layers (:func:`build_fc_layers`), classifier."""
        self.global_avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = build_fc_layers(fc_dims, in_dim, dropout_p)
        self.feature_dim = fc_dims[-1] if fc_dims else in_dim
        self.classifier = nn.Linear(self.feature_dim, self.num_classes)

    def featuremaps(self, x: torch.Tensor) -> torch.Tensor:
        """Backbone output: ``(B, 3, H, W)`` float images -> ``(B, C, H', W')`` maps."""
        raise NotImplementedError

    def _embed(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` images -> ``(B, feature_dim)`` embeddings (pooled maps, then ``fc``)."""
        v = self.global_avgpool(self.featuremaps(x)).flatten(1)
        if self.fc is not None:
            v = self.fc(v)
        return v

    def forward(self, x: torch.Tensor, return_featuremaps: bool = False) -> ReIDOutput:
        """Run the network.

        Args:
            x: ``(B, 3, H, W)`` float images, ImageNet-normalised RGB (256x128 in the zoo).
            return_featuremaps: Return :meth:`featuremaps` (the last conv maps) instead.

        Returns:
            eval mode: ``(B, feature_dim)`` embeddings (not L2-normalised);
            train mode: ``(B, num_classes)`` logits for ``loss='softmax'``, or
            ``(logits, embeddings)`` for ``loss='triplet'`` (see :func:`reid_output`).
        """
        check_images(x)
        if return_featuremaps:
            return self.featuremaps(x)
        return reid_output(self._embed(x), self.classifier, self.loss, self.training)


##########
# Model-zoo checkpoints
##########


def register_zoo_weights(
    arch: str, drive_ids: Mapping[str, str], sha256: Optional[Mapping[str, str]] = None
) -> None:
    """Register torchreid model-zoo checkpoints of ``arch`` under boxmot's names.

    A checkpoint is named ``f"{arch}_{dataset}"``; for a ``combineall`` training set the
    dataset is the key without its ``"_combineall"`` suffix (``osnet_ain_x1_0_msmt17``).

    Args:
        arch: Registry name of the architecture.
        drive_ids: Training set (a key of ``TRAIN_IDENTITIES``) -> Google Drive file id.
        sha256: Training set -> hex digest of the file, where it is known.
    """
    sha256 = sha256 or {}
    unknown = set(sha256) - set(drive_ids)
    if unknown:
        raise ValueError(f"sha256 has training sets without a drive id: {sorted(unknown)}")
    for training_set, file_id in drive_ids.items():
        dataset = training_set.removesuffix(_COMBINEALL_SUFFIX)
        register_weights(
            WeightsEntry(
                name=f"{arch}_{dataset}",
                arch=arch,
                urls=(TORCHREID_ZOO_URL.format(file_id),),
                num_classes=TRAIN_IDENTITIES[training_set],
                sha256=sha256.get(training_set),
                dataset=dataset,
            )
        )
