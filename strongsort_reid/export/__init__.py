"""Export ReID feature networks (ONNX, OpenVINO IR, TorchScript) and run them.

* :func:`export_model` builds a registry model with its weights, exports it and checks the
  export against PyTorch (``strongsort-reid export`` is its command line).
* :func:`open_backend` opens an exported file; the backend classes are what
  :class:`~strongsort_reid.utils.feature_extractor.FeatureExtractor` runs on.
* :mod:`~strongsort_reid.export.optimize` holds the CPU rewrites the torch backend applies
  (subnormal weights flushed, 1x1 convolutions as matrix products, frozen graphs).

ONNX Runtime and OpenVINO are optional (``pip install strongsort-reid[export]``); a backend
that needs a missing package says which one to install.
"""

from strongsort_reid.export.backends import (
    BACKENDS,
    InferenceBackend,
    OnnxBackend,
    OpenVinoBackend,
    TorchBackend,
    TorchScriptBackend,
    open_backend,
)
from strongsort_reid.export.exporters import FORMATS, SUFFIXES
from strongsort_reid.export.fusion import fold_batchnorm
from strongsort_reid.export.loading import LoadedModel, load_reid_model
from strongsort_reid.export.metadata import ExportMetadata
from strongsort_reid.export.optimize import cpu_graph, flush_subnormals
from strongsort_reid.export.pipeline import (
    ExportResult,
    export_feature_model,
    export_model,
    verify_export,
)

__all__ = [
    "BACKENDS",
    "FORMATS",
    "SUFFIXES",
    "ExportMetadata",
    "ExportResult",
    "InferenceBackend",
    "LoadedModel",
    "OnnxBackend",
    "OpenVinoBackend",
    "TorchBackend",
    "TorchScriptBackend",
    "cpu_graph",
    "export_feature_model",
    "export_model",
    "flush_subnormals",
    "fold_batchnorm",
    "load_reid_model",
    "open_backend",
    "verify_export",
]
