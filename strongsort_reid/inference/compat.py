"""Optional-package imports, the shared OpenVINO Core, and PyTorch notice filters used by the
exporters and backends."""

from __future__ import annotations

import contextlib
import functools
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


def openvino_core():
    """The process-wide ``openvino.Core`` of this package: created on first use, never released.

    OpenVINO's CPU plugin (one per ``Core``) installs an alternate signal stack for the calling
    thread when it is created and, when released, reinstates the stack that was active before it
    and unmaps its own. Two plugins released in the order they were created -- ultralytics
    builds its own ``Core`` for an OpenVINO detector -- leave the thread on the unmapped stack of
    the first one, and the next Python signal handler that runs on it (``SIGCHLD`` when a
    subprocess ends while torch's DataLoader handler is installed, say) kills the process with a
    segmentation fault. A single ``Core`` that lives as long as the process never reinstates a
    stale stack, whatever other ``Core`` objects come and go around it.

    Raises:
        ImportError: OpenVINO is not installed (the message says how to install it).
    """
    return _create_core(import_optional("openvino", "backend='openvino'"))


@functools.cache
def _create_core(openvino):
    return openvino.Core()
