"""Build the demo's appearance embedder from a ``--reid-model`` value, degrading to motion-only
tracking (with one message) when the weights cannot be obtained."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

REID_BACKENDS = ("auto", "torch", "torchscript", "onnx", "openvino")
NO_REID = ("none", "off")


class ReidUnavailable(RuntimeError):
    """The ReID weights cannot be found or downloaded."""


def infer_reid_arch(name: str) -> str:
    """Architecture of a weight name or file: its registry entry, else the longest registered
    architecture name its file stem starts with (``osnet_x0_25_mine.pth`` -> ``osnet_x0_25``).

    Raises:
        ValueError: No architecture matches; the message asks for ``--reid-arch``.
    """
    from strongsort_reid.models.registry import available_models, get_weights_entry

    stem = Path(str(name)).name.split(".")[0]
    try:
        return get_weights_entry(stem).arch
    except KeyError:
        pass
    matches = [arch for arch in available_models() if stem.startswith(arch)]
    if not matches:
        raise ValueError(
            f"cannot tell the architecture of ReID weights {name!r}; pass --reid-arch "
            f"(one of {', '.join(available_models())})"
        )
    return max(matches, key=len)


def pick_backend(backend: str, device: str) -> str:
    """``"auto"``: OpenVINO, else ONNX Runtime, else PyTorch on the CPU; PyTorch on CUDA."""
    if backend != "auto":
        return backend
    if device.startswith("cuda"):
        return "torch"
    if device == "auto":
        import torch

        if torch.cuda.is_available():
            return "torch"
    for module, name in (("openvino", "openvino"), ("onnxruntime", "onnx")):
        try:
            __import__(module)
        except ImportError:
            continue
        return name
    return "torch"


def build_reid_embedder(
    reid_model: str,
    reid_arch: Optional[str] = None,
    backend: str = "auto",
    device: str = "auto",
    half: bool = False,
    require: bool = False,
    say: Callable[[str], None] = print,
) -> Optional[Any]:
    """A FeatureExtractor for ``reid_model`` (registry name or file), or ``None`` for motion only.

    Args:
        reid_model: Weight name (``osnet_x0_25_msmt17``), checkpoint or export file, or
            ``"none"`` for motion-only tracking.
        reid_arch: Architecture; inferred with :func:`infer_reid_arch` when ``None``.
        backend: One of :data:`REID_BACKENDS` (see :func:`pick_backend`).
        device, half: As for the FeatureExtractor.
        require: Raise :class:`ReidUnavailable` instead of falling back to motion only.
        say: Where the fallback message goes.

    Raises:
        ReidUnavailable: ``require`` and the weights cannot be obtained.
        FileNotFoundError: A weights path that does not exist.
        ValueError: The architecture cannot be inferred, or the file does not fit it.
    """
    if reid_model.lower() in NO_REID:
        if require:
            raise ReidUnavailable("--require-reid contradicts --reid-model none")
        return None
    from strongsort_reid.utils.download import WeightsUnavailableError, resolve_weights

    try:
        weights = resolve_weights(reid_model)
    except WeightsUnavailableError as exc:
        message = f"ReID weights {reid_model} unavailable: {exc}"
        if require:
            raise ReidUnavailable(message) from None
        say(f"{message}\ntracking by motion only (pass --require-reid to stop instead)")
        return None
    from strongsort_reid.utils.feature_extractor import FeatureExtractor

    arch = reid_arch or infer_reid_arch(reid_model)
    chosen = pick_backend(backend, device)
    extractor = FeatureExtractor(arch, model_path=weights, device=device, half=half, backend=chosen)
    say(f"ReID: {arch} from {weights} ({chosen} backend, {extractor.feature_dim}-d)")
    return extractor
