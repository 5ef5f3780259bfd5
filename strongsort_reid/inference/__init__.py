"""The runtime layer: feature extraction on PyTorch, TorchScript, ONNX Runtime or OpenVINO.

* :class:`FeatureExtractor` (and :func:`build_extractor`, which infers the architecture from
  the weights) turns images, crops or a frame plus boxes into L2-normalised features;
* :mod:`~strongsort_reid.inference.preprocess` validates, crops, resizes and normalises;
* :mod:`~strongsort_reid.inference.formats` is the one table of formats: which file is which
  format, how to open it (:func:`open_backend`), how a PyTorch network runs in each runtime;
* :mod:`~strongsort_reid.inference.backends` holds the runtimes behind one interface.

``import strongsort_reid.inference`` is light: the names below are imported on first use.
ONNX Runtime and OpenVINO are optional (``pip install strongsort-reid[export]``); a backend
that needs a missing package says which one to install.
"""

from strongsort_reid.utils.lazy import lazy_exports

# Re-exported names -> the module that defines them (imported on first access).
_LAZY = {
    "FeatureExtractor": "strongsort_reid.inference.feature_extractor",
    "build_extractor": "strongsort_reid.inference.feature_extractor",
    "InferenceBackend": "strongsort_reid.inference.backends",
    "OnnxBackend": "strongsort_reid.inference.backends",
    "OpenVinoBackend": "strongsort_reid.inference.backends",
    "TorchBackend": "strongsort_reid.inference.backends",
    "TorchScriptBackend": "strongsort_reid.inference.backends",
    "BACKENDS": "strongsort_reid.inference.options",
    "pick_backend": "strongsort_reid.inference.options",
    "FORMATS": "strongsort_reid.inference.formats",
    "SUFFIXES": "strongsort_reid.inference.formats",
    "format_of": "strongsort_reid.inference.formats",
    "open_backend": "strongsort_reid.inference.formats",
}

__all__ = sorted(_LAZY)

__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
