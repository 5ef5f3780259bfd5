"""FeatureExtractor arguments: the backend choice, the device, and checked number tuples.

Kept apart from :mod:`strongsort_reid.inference.feature_extractor` so that callers choosing a
backend (the demo, benchmarks) need not import the extractor, and the rules live in one place.
"""

from __future__ import annotations

from typing import Callable, Optional, Tuple, Union

import torch

from strongsort_reid.inference.backends.base import RUNTIMES
from strongsort_reid.inference.compat import openvino_core

# What ``FeatureExtractor(backend=...)`` accepts: a runtime, or "auto" (see pick_backend).
BACKENDS = ("auto", *RUNTIMES)
# OpenVINO device names that stand for a choice among the real devices.
_OPENVINO_VIRTUAL = ("AUTO", "MULTI", "HETERO", "BATCH")


def pick_backend(backend: str, device: Union[str, torch.device]) -> str:
    """The runtime ``backend`` stands for: itself, or for ``"auto"`` the fastest one installed.

    ``"auto"`` is PyTorch on CUDA (``device`` ``"cuda[:N]"``, or ``"auto"`` with CUDA
    available). On the CPU: OpenVINO when the CPU computes bf16 natively (AMX or AVX-512
    BF16; the extractor then runs it in bf16, see :func:`openvino_precision`), else ONNX
    Runtime, else OpenVINO, else PyTorch, whichever is importable first. Measured on OSNet
    x0.25 at batch 32 (one thread, CPU time): ONNX Runtime f32 ~300 crops/s, OpenVINO f32
    ~250, OpenVINO bf16 ~430.
    """
    if backend != "auto":
        return backend
    device = str(device)
    if device.startswith("cuda"):
        return "torch"
    if device == "auto" and torch.cuda.is_available():
        return "torch"
    if cpu_has_bf16():
        return "openvino"
    for module, name in (("onnxruntime", "onnx"), ("openvino", "openvino")):
        try:
            __import__(module)
        except ImportError:
            continue
        return name
    return "torch"


def cpu_has_bf16() -> bool:
    """Whether OpenVINO is installed and reports native bf16 compute on the CPU."""
    try:
        core = openvino_core()
    except ImportError:
        return False
    return "BF16" in core.get_property("CPU", "OPTIMIZATION_CAPABILITIES")


def openvino_precision(
    backend: str, runtime: str, half: Union[bool, str], ov_device: str
) -> Optional[str]:
    """OpenVINO's float compute precision for a FeatureExtractor (``None``: the backend's rule).

    ``"bf16"`` when OpenVINO runs on the CPU and either ``half="bf16"`` was asked for, or the
    backend was chosen by ``"auto"`` with no ``half``: on OSNet x0.25 bf16 is ~1.7x OpenVINO's
    f32 speed with a cosine similarity to f32 of 0.999 mean / 0.994 min on real crops.
    """
    if runtime != "openvino" or ov_device.upper() != "CPU":
        return None
    if half == "bf16" or (backend == "auto" and not half):
        return "bf16"
    return None


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
        available = openvino_core().available_devices
        if name.upper().split(":")[0].split(".")[0] not in (*available, *_OPENVINO_VIRTUAL):
            raise ValueError(
                f"device={device!r} is not an OpenVINO device of this machine "
                f"({', '.join(available)}; or 'auto', 'cpu')"
            )
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
