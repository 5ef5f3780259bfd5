"""torchreid-compatible person re-identification: models, weights, feature extraction.

``import strongsort_reid`` is light (no torch, OpenCV or runtimes): subpackages and the
re-exported :class:`~strongsort_reid.inference.FeatureExtractor` are imported
on first use, e.g. ``from strongsort_reid import FeatureExtractor``.
"""

from strongsort_reid.utils.lazy import lazy_exports

__version__ = "0.1.0"

# Re-exported names -> the module that defines them (imported on first access).
_LAZY = {"FeatureExtractor": "strongsort_reid.inference.feature_extractor"}

__all__ = ["FeatureExtractor", "__version__"]

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
