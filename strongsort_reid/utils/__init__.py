"""Leaf helpers with torchreid's names: atomic writes, checkpoint I/O, downloads, model
complexity, MOTChallenge files.

``import strongsort_reid.utils`` (and ``.atomic`` or ``.motchallenge``) imports neither torch
nor anything above this package: the names below are imported on first access. Two of them
live higher up and are re-exported here for torchreid compatibility:
:class:`~strongsort_reid.inference.FeatureExtractor` and
:func:`~strongsort_reid.models.weights.resolve_weights`.
"""

from strongsort_reid.utils.lazy import lazy_exports

# Re-exported names -> the module that defines them (imported on first access).
_LAZY = {
    "FeatureExtractor": "strongsort_reid.inference.feature_extractor",
    "LoadReport": "strongsort_reid.utils.checkpoint",
    "WeightsUnavailableError": "strongsort_reid.utils.download",
    "cache_dir": "strongsort_reid.utils.download",
    "compute_model_complexity": "strongsort_reid.utils.complexity",
    "download_file": "strongsort_reid.utils.download",
    "load_checkpoint": "strongsort_reid.utils.checkpoint",
    "load_pretrained_weights": "strongsort_reid.utils.checkpoint",
    "resolve_weights": "strongsort_reid.models.weights",
    "save_checkpoint": "strongsort_reid.utils.checkpoint",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
