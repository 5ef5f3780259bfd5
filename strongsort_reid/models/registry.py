"""Model registry: one decorator per architecture, torchreid-compatible builders.

Every architecture file registers its builder functions with :func:`register_model`.
A builder has the signature ``builder(num_classes, loss='softmax', **kwargs) -> nn.Module``
and builds a randomly initialised network; ImageNet initialisation (``pretrained=True``)
is handled here, in one place, by :func:`build_model`.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from typing import Callable, Dict, List, Optional

from torch import nn

# Used through the module (downloads.download_file, ...) so that patching it there applies here.
from strongsort_reid.utils import download as downloads
from strongsort_reid.utils.checkpoint import load_pretrained_weights

logger = logging.getLogger(__name__)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


@dataclass(frozen=True)
class ModelEntry:
    """What the registry knows about one architecture.

    Attributes:
        name: Registry name, identical to torchreid's (e.g. ``"osnet_x0_25"``).
        builder: ``builder(num_classes, loss='softmax', **kwargs) -> nn.Module``.
        imagenet_url: Where ImageNet-pretrained backbone weights can be downloaded,
            or ``None`` if the architecture has no published ImageNet checkpoint.
        imagenet_sha256: Optional checksum of that file.
    """

    name: str
    builder: Callable[..., nn.Module]
    imagenet_url: Optional[str] = None
    imagenet_sha256: Optional[str] = None


_MODELS: Dict[str, ModelEntry] = {}


def register_model(
    name: str,
    imagenet_url: Optional[str] = None,
    imagenet_sha256: Optional[str] = None,
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator registering a builder under ``name``.

    Args:
        name: torchreid model name.
        imagenet_url: URL of the ImageNet-pretrained weights used by ``pretrained=True``.
        imagenet_sha256: Optional sha256 of that file.
    """

    def decorator(builder: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        if name in _MODELS:
            raise ValueError(f"model {name!r} is registered twice")
        _MODELS[name] = ModelEntry(name, builder, imagenet_url, imagenet_sha256)
        return builder

    return decorator


def available_models() -> List[str]:
    """Sorted list of the registered model names."""
    return sorted(_MODELS)


def show_avai_models() -> None:
    """Print the available model names (torchreid API)."""
    print(available_models())


def get_model_entry(name: str) -> ModelEntry:
    """Return the registry entry for ``name``; ``KeyError`` lists the available names."""
    try:
        return _MODELS[name]
    except KeyError:
        raise KeyError(
            f"Unknown model {name!r}. Available models: {', '.join(available_models())}"
        ) from None


def build_model(
    name: str,
    num_classes: int,
    loss: str = "softmax",
    pretrained: bool = True,
    use_gpu: bool = True,
    **kwargs,
) -> nn.Module:
    """Build a ReID model by its torchreid name.

    Args:
        name: Model name, one of :func:`available_models`.
        num_classes: Number of training identities (size of the classifier).
        loss: ``"softmax"`` (train mode returns logits) or ``"triplet"`` (train mode
            returns ``(logits, features)``). In eval mode every model returns the
            ``(B, D)`` feature vector.
        pretrained: Initialise the backbone from ImageNet weights. When they cannot be
            obtained (offline, no cached copy) a warning is issued and the model keeps
            its random initialisation; building never fails because of it.
        use_gpu: Accepted for torchreid compatibility; the model is returned on the CPU.
        **kwargs: Passed to the architecture builder.

    Returns:
        The network, in train mode, on the CPU.
    """
    entry = get_model_entry(name)
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(f"num_classes must be a positive int, got {num_classes!r}")
    if loss not in ("softmax", "triplet"):
        raise ValueError(f"loss must be 'softmax' or 'triplet', got {loss!r}")
    model = entry.builder(num_classes=num_classes, loss=loss, **kwargs)
    if pretrained:
        _init_from_imagenet(model, entry)
    return model


def _init_from_imagenet(model: nn.Module, entry: ModelEntry) -> None:
    """Load ImageNet weights into ``model``; warn and keep random init on any failure."""
    if entry.imagenet_url is None:
        warnings.warn(
            f"{entry.name}: no ImageNet checkpoint is published for this architecture; "
            "using random initialisation",
            stacklevel=3,
        )
        return
    try:
        # Share links (Google Drive) carry no file name, so the cache name is the model's.
        dst = downloads.cache_dir() / f"{entry.name}_imagenet.pth"
        path = downloads.download_file(entry.imagenet_url, dst, sha256=entry.imagenet_sha256)
        load_pretrained_weights(model, path)
    except (OSError, RuntimeError, ValueError) as exc:
        warnings.warn(
            f"{entry.name}: ImageNet weights could not be obtained ({exc}); "
            "continuing with random initialisation",
            stacklevel=3,
        )
