"""Inference backends: one interface over eager PyTorch, TorchScript, ONNX Runtime and OpenVINO.

Each runtime lives in its own module; :mod:`strongsort_reid.inference.formats` decides which
one opens a given file or converted network.
"""

from strongsort_reid.inference.backends.base import RUNTIMES, InferenceBackend
from strongsort_reid.inference.backends.onnx_backend import OnnxBackend
from strongsort_reid.inference.backends.openvino_backend import OpenVinoBackend
from strongsort_reid.inference.backends.torch_backend import TorchBackend, half_dtype
from strongsort_reid.inference.backends.torchscript_backend import TorchScriptBackend

__all__ = [
    "RUNTIMES",
    "InferenceBackend",
    "OnnxBackend",
    "OpenVinoBackend",
    "TorchBackend",
    "TorchScriptBackend",
    "half_dtype",
]
