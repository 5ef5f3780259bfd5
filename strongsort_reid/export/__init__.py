"""Export ReID feature networks to deployable files (ONNX, OpenVINO IR, TorchScript).

* :func:`export_model` builds a registry model with its weights, exports it and checks the
  export against PyTorch (``strongsort-reid export`` is its command line);
  :func:`export_feature_model` exports an already built network, :func:`verify_export` checks
  a file.
* Running the files is the runtime layer's job (:mod:`strongsort_reid.inference`): its
  backends, :func:`open_backend` and the format table are re-exported here for convenience,
  as are the CPU rewrites (:mod:`strongsort_reid.inference.optimize`) and the model loader.

ONNX Runtime and OpenVINO are optional (``pip install strongsort-reid[export]``); a backend
that needs a missing package says which one to install.
"""

from strongsort_reid.export.pipeline import (
    ExportResult,
    export_feature_model,
    export_model,
    verify_export,
)
from strongsort_reid.inference.backends import (
    InferenceBackend,
    OnnxBackend,
    OpenVinoBackend,
    TorchBackend,
    TorchScriptBackend,
)
from strongsort_reid.inference.formats import FORMATS, SUFFIXES, open_backend
from strongsort_reid.inference.fusion import fold_batchnorm
from strongsort_reid.inference.metadata import ExportMetadata
from strongsort_reid.inference.optimize import cpu_graph, flush_subnormals
from strongsort_reid.inference.options import BACKENDS
from strongsort_reid.models.loading import LoadedModel, load_reid_model

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
