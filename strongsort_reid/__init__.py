"""torchreid-compatible person re-identification: models, weights, feature extraction.

``import strongsort_reid`` is light (no torch, OpenCV or runtimes): subpackages and the
re-exported :class:`~strongsort_reid.utils.feature_extractor.FeatureExtractor` are imported
on first use, e.g. ``from strongsort_reid import FeatureExtractor``.
"""

import importlib

__version__ = "0.1.0"

# Re-exported names -> the module that defines them (imported on first access).
_LAZY = {"FeatureExtractor": "strongsort_reid.utils.feature_extractor"}

__all__ = ["FeatureExtractor", "__version__"]


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))
