"""torchreid-compatible ReID architectures and their registry.

Importing this package registers every architecture; use :func:`build_model` to build one
by name and :func:`show_avai_models` to list them.
"""

from strongsort_reid.models import mlfn, mobilenetv2, osnet, osnet_ain, resnet, resnet_ibn_a  # noqa: F401
from strongsort_reid.models.registry import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ModelEntry,
    WeightsEntry,
    available_models,
    available_weights,
    build_model,
    get_model_entry,
    get_weights_entry,
    register_model,
    register_weights,
    show_avai_models,
)

__all__ = [
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "ModelEntry",
    "WeightsEntry",
    "available_models",
    "available_weights",
    "build_model",
    "get_model_entry",
    "get_weights_entry",
    "register_model",
    "register_weights",
    "show_avai_models",
]
