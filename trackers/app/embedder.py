"""The demo's appearance embedder: a FeatureExtractor built from a ``--reid-model`` value, or
motion-only tracking (with one message) when the weights cannot be obtained."""

from __future__ import annotations

from typing import Any, Callable, Optional

import numpy as np

# ``auto``: OpenVINO, else ONNX Runtime, else PyTorch on the CPU; PyTorch on CUDA (the rule is
# strongsort_reid.inference.pick_backend's, applied by the FeatureExtractor).
REID_BACKENDS = ("auto", "torch", "torchscript", "onnx", "openvino")
NO_REID = ("none", "off")


class ReidUnavailable(RuntimeError):
    """The ReID weights cannot be found or downloaded."""


class MotionOnlyEmbedder:
    """Stand-in when no ReID model is available: all-zero embeddings.

    A zero embedding has cosine distance 1 to everything, so no pair passes the appearance
    stage and tracks are continued by the IoU stage only (motion-only tracking).
    """

    def from_frame(self, frame: np.ndarray, boxes_xyxy: np.ndarray) -> np.ndarray:
        """``(N, 1)`` float32 zeros for ``N`` boxes (``frame`` is not read)."""
        return np.zeros((len(boxes_xyxy), 1), dtype=np.float32)


def reid_arch_of(reid_model: str) -> str:
    """Architecture of a ``--reid-model`` value (see
    :func:`strongsort_reid.models.weights.infer_arch`).

    Raises:
        ValueError: No architecture matches; the message asks for ``--reid-arch``.
    """
    from strongsort_reid.models.weights import infer_arch

    try:
        return infer_arch(reid_model)
    except ValueError as exc:
        raise ValueError(f"{exc}; pass --reid-arch") from None


def build_reid_embedder(
    reid_model: str,
    reid_arch: Optional[str] = None,
    backend: str = "auto",
    device: str = "auto",
    half: bool = False,
    require: bool = False,
    say: Callable[[str], None] = print,
) -> Any:
    """A FeatureExtractor for ``reid_model`` (registry name or file), or a
    :class:`MotionOnlyEmbedder` when there is none.

    Args:
        reid_model: Weight name (``osnet_x0_25_msmt17``), checkpoint or export file, or
            ``"none"`` for motion-only tracking.
        reid_arch: Architecture; inferred with :func:`reid_arch_of` when ``None``.
        backend: One of :data:`REID_BACKENDS`.
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
        return MotionOnlyEmbedder()
    from strongsort_reid.models.weights import resolve_weights
    from strongsort_reid.utils.download import WeightsUnavailableError

    try:
        weights = resolve_weights(reid_model)
    except WeightsUnavailableError as exc:
        message = f"ReID weights {reid_model} unavailable: {exc}"
        if require:
            raise ReidUnavailable(message) from None
        say(f"{message}\ntracking by motion only (pass --require-reid to stop instead)")
        return MotionOnlyEmbedder()
    from strongsort_reid.inference import build_extractor

    arch = reid_arch or reid_arch_of(reid_model)
    extractor = build_extractor(weights, arch=arch, device=device, half=half, backend=backend)
    say(
        f"ReID: {arch} from {weights} ({extractor.backend.name} backend, {extractor.feature_dim}-d)"
    )
    return extractor
