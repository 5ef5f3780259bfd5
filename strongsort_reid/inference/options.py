"""FeatureExtractor arguments: the backend choice, the device, and checked number tuples.

Kept apart from :mod:`strongsort_reid.inference.feature_extractor` so that callers choosing a
backend (the demo, benchmarks) need not import the extractor, and the rules live in one place.
"""

from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch

from strongsort_reid.inference.backends.base import RUNTIMES

# What ``FeatureExtractor(backend=...)`` accepts: a runtime, or "auto" (see pick_backend).
BACKENDS = ("auto", *RUNTIMES)


def pick_backend(backend: str, device: Union[str, torch.device]) -> str:
    """The runtime ``backend`` stands for: itself, or for ``"auto"`` the fastest one installed.

    ``"auto"`` is PyTorch on CUDA (``device`` ``"cuda[:N]"``, or ``"auto"`` with CUDA
    available); on the CPU OpenVINO if it is importable, else ONNX Runtime if it is, else
    PyTorch.
    """
    if backend != "auto":
        return backend
    device = str(device)
    if device.startswith("cuda"):
        return "torch"
    if device == "auto" and torch.cuda.is_available():
        return "torch"
    for module, name in (("openvino", "openvino"), ("onnxruntime", "onnx")):
        try:
            __import__(module)
        except ImportError:
            continue
        return name
    return "torch"


def resolve_device(device: Union[str, torch.device], backend: str) -> Tuple[torch.device, str]:
    """``(torch device for tensors, OpenVINO device name)`` for the ``device`` argument.

    Args:
        device: ``"auto"`` (CUDA when available and usable by ``backend``), ``"cpu"``,
            ``"cuda[:N]"``; for OpenVINO also its device names (``"GPU"``, ``"NPU"``).
        backend: One of :data:`~strongsort_reid.inference.backends.base.RUNTIMES`.

    Raises:
        ValueError: an unknown device, CUDA asked for but not available, or CUDA with OpenVINO.
    """
    name = str(device)
    if backend == "openvino":
        if name.lower() in ("auto", "cpu"):
            return torch.device("cpu"), "CPU"
        if name.lower().startswith("cuda"):
            raise ValueError("backend='openvino' cannot use CUDA; use device 'cpu' or 'GPU'")
        return torch.device("cpu"), name.upper()
    if name == "auto":
        use_cuda = torch.cuda.is_available() and (backend != "onnx" or _onnxruntime_has_cuda())
        return torch.device("cuda" if use_cuda else "cpu"), ""
    try:
        resolved = torch.device(name)
    except RuntimeError as exc:
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda[:N]', got {device!r}") from exc
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} but CUDA is not available; use 'cpu' or 'auto'")
    return resolved, ""


def _onnxruntime_has_cuda() -> bool:
    try:
        import onnxruntime
    except ImportError:
        return False
    return "CUDAExecutionProvider" in onnxruntime.get_available_providers()


def as_tuple(value, name: str, length: int, cast: Callable) -> Optional[tuple]:
    """``value`` as a tuple of ``length`` numbers made by ``cast``; ``None`` stays ``None``.

    Raises:
        ValueError: ``value`` is not a sequence of ``length`` numbers (the message names it).
    """
    if value is None:
        return None
    try:
        result = tuple(cast(v) for v in value)
    except (TypeError, ValueError):
        result = ()
    if len(result) != length:
        raise ValueError(f"{name} must be a sequence of {length} numbers, got {value!r}")
    return result
