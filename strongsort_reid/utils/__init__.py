"""Utilities with torchreid's names: checkpoint I/O, weight resolution, model complexity."""

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
