"""Utilities with torchreid's names: checkpoint I/O, weight resolution, model complexity, and
the :class:`~strongsort_reid.utils.feature_extractor.FeatureExtractor` (imported on first
access: it pulls in OpenCV and the export backends).
"""

import importlib

from strongsort_reid.utils.checkpoint import (
    LoadReport,
    load_checkpoint,
    load_pretrained_weights,
    save_checkpoint,
)
from strongsort_reid.utils.complexity import compute_model_complexity
from strongsort_reid.utils.download import (
    WeightsUnavailableError,
    cache_dir,
    download_file,
    resolve_weights,
)

__all__ = [
    "FeatureExtractor",
    "LoadReport",
    "WeightsUnavailableError",
    "cache_dir",
    "compute_model_complexity",
    "download_file",
    "load_checkpoint",
    "load_pretrained_weights",
    "resolve_weights",
    "save_checkpoint",
]


def __getattr__(name: str):
    if name == "FeatureExtractor":
        module = importlib.import_module("strongsort_reid.utils.feature_extractor")
        globals()[name] = module.FeatureExtractor
        return module.FeatureExtractor
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
