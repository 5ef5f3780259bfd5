"""Optional-package imports and PyTorch notice filters shared by the exporters and backends."""

from __future__ import annotations

import contextlib
import importlib
import warnings
from typing import Iterator

import torch


@contextlib.contextmanager
def quiet_torchscript() -> Iterator[None]:
    """Hide PyTorch's deprecation and tracer notices for the TorchScript APIs used here.

    TorchScript is deprecated upstream but still the fastest eager-free CPU path in PyTorch
    and the format many deployment tools consume; the notices would fire on every load.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit", category=FutureWarning)
        warnings.filterwarnings("ignore", category=torch.jit.TracerWarning)
        yield


def import_optional(module: str, purpose: str):
    """Import an optional package, or fail with the command that installs it.

    Args:
        module: Package name (identical to its PyPI name for onnx, onnxruntime, openvino).
        purpose: What needs it, for the message, e.g. ``"backend='onnx'"``.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{purpose} needs the {module!r} package, which is not installed: "
            f"pip install {module}  (or: pip install 'strongsort-reid[export]')"
        ) from exc

