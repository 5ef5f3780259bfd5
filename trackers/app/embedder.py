"""The demo's appearance embedder: a FeatureExtractor built from a ``--reid-model`` value, or
motion-only tracking (with one message) when the weights cannot be obtained."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Optional

import numpy as np

# ``auto``: OpenVINO, else ONNX Runtime, else PyTorch on the CPU; PyTorch on CUDA (the rule is
# strongsort_reid.inference.pick_backend's, applied by the FeatureExtractor).
REID_BACKENDS = ("auto", "torch", "torchscript", "onnx", "openvino")
NO_REID = ("none", "off")
# Runtimes whose conversion from PyTorch weights is done once and kept in the user cache.
EXPORT_CACHED = ("onnx", "openvino")


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
    from strongsort_reid.inference import build_extractor, format_of, pick_backend

    arch = reid_arch or reid_arch_of(reid_model)
    runtime = pick_backend(backend, device)
    if runtime in EXPORT_CACHED and not half and format_of(weights) is None:
        weights = cached_export(weights, arch, runtime, say)
    # ``backend`` as asked (not ``runtime``): the export opens with the runtime ``auto`` picked
    # and at the precision ``auto`` stands for (OpenVINO bf16 where the CPU computes it).
    extractor = build_extractor(weights, arch=arch, device=device, half=half, backend=backend)
    say(
        f"ReID: {arch} from {weights} ({extractor.backend.name} backend, {extractor.feature_dim}-d)"
    )
    return extractor


def cached_export(weights: Path, arch: str, fmt: str, say: Callable[[str], None] = print) -> Path:
    """The ``fmt`` export of ``weights``, made once and kept in ``$STRONGSORT_REID_HOME/exports``.

    Converting a network (PyTorch -> ONNX -> OpenVINO) takes a second or two at every start;
    the export is made once with :func:`strongsort_reid.export.export_model` (checked against
    PyTorch) and later runs open the file. The file name holds the weights' content hash and the
    package version, so new weights or a new exporter make a new export. When the export fails,
    the weights are returned and converted in memory as before (with a message).

    Args:
        weights: A PyTorch checkpoint file.
        arch: Its architecture.
        fmt: ``"onnx"`` or ``"openvino"``.
        say: Where the one-time conversion message goes.

    Returns:
        The export file (``.onnx`` or ``.xml``), or ``weights`` when exporting failed.
    """
    from strongsort_reid import __version__
    from strongsort_reid.export import export_model
    from strongsort_reid.inference import SUFFIXES
    from strongsort_reid.utils.download import cache_dir, sha256_of

    weights = Path(weights)
    key = f"{sha256_of(weights)[:12]}_v{__version__}"
    path = cache_dir() / "exports" / f"{weights.stem}_{arch}_{key}{SUFFIXES[fmt]}"
    if path.is_file():
        return path
    say(f"converting {weights.name} to {fmt} once (checked against PyTorch, kept in {path.parent})")
    try:
        export_model(arch, weights, fmt, output=path)
    except (ValueError, RuntimeError, OSError) as exc:
        say(f"ReID export failed ({exc}); converting in memory at every start instead")
        return weights
    return path
