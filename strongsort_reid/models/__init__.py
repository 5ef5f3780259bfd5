"""torchreid-compatible ReID architectures, their registry and the named-weights catalogue.

Importing this package registers every architecture and its published checkpoints; use
:func:`build_model` to build one by name, :func:`show_avai_models` to list them,
:func:`resolve_weights` to find (or download) a checkpoint by name and :func:`infer_arch` to
tell the architecture of a weight name or file.
"""

from strongsort_reid.models import mlfn, mobilenetv2, osnet, osnet_ain, resnet, resnet_ibn_a  # noqa: F401
from strongsort_reid.models.registry import (
    IMAGENET_MEAN,
    IMAGENET_STD,
    ModelEntry,
    available_models,
    build_model,
    get_model_entry,
    register_model,
    show_avai_models,
)
from strongsort_reid.models.weights import (
    WeightsEntry,
    available_weights,
    get_weights_entry,
    infer_arch,
    register_weights,
    resolve_weights,
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
    "infer_arch",
    "register_model",
    "register_weights",
    "resolve_weights",
    "show_avai_models",
]
