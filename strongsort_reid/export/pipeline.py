"""Export end to end: load a ReID model, convert and write it, check it against PyTorch."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from strongsort_reid.export.exporters import write_export
from strongsort_reid.export.quantize import DEFAULT_CALIB_COUNT, Int8Options, export_int8
from strongsort_reid.inference.formats import FORMATS, SUFFIXES, convert, open_backend
from strongsort_reid.inference.metadata import ExportMetadata
from strongsort_reid.models.loading import LoadedModel, load_reid_model
from strongsort_reid.models.registry import IMAGENET_MEAN, IMAGENET_STD

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

# Smallest per-row cosine similarity with PyTorch an export must reach on random inputs.
MIN_COSINE_FP32 = 0.9999
MIN_COSINE_HALF = 0.999


@dataclass
class ExportResult:
    """Outcome of :func:`export_model`.

    Attributes:
        path: The exported file (``.onnx``, ``.xml`` with its ``.bin``, or ``.torchscript``).
        metadata: What was stored in it.
        min_cosine: For each checked batch size, the smallest cosine similarity between the
            export's and PyTorch's features (empty when verification was skipped or for int8).
        int8_cosine: For an int8 export, ``(mean, min)`` cosine similarity to PyTorch's
            float32 features on held-out real crops; else ``None``.
    """

    path: Path
    metadata: ExportMetadata
    min_cosine: Dict[int, float]
    int8_cosine: Optional[Tuple[float, float]] = None


def feature_dim(model: nn.Module, image_size: Tuple[int, int]) -> int:
    """Length of the feature vector ``model`` produces in eval mode."""
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        dim = int(model(torch.zeros(1, 3, *image_size)).shape[-1])
    model.train(was_training)
    return dim


def export_feature_model(
    model: nn.Module,
    path: PathLike,
    fmt: str,
    metadata: ExportMetadata,
) -> Path:
    """Export an already built network to ``path`` (see :func:`export_model` for the options)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return write_export(convert(model, fmt, metadata), fmt, path, metadata)


@torch.no_grad()
def verify_export(
    model: nn.Module,
    path: PathLike,
    batch_sizes: Sequence[int] = (1, 16),
    image_size: Tuple[int, int] = (256, 128),
    seed: int = 0,
) -> Dict[int, float]:
    """Compare an export with the PyTorch model on random normalised inputs.

    ``model`` is switched to eval mode (features, not logits, are compared).

    Returns:
        ``{batch_size: smallest per-row cosine similarity}``.
    """
    backend = open_backend(path, "cpu")
    reference = model.eval().float().cpu()
    generator = torch.Generator().manual_seed(seed)
    result = {}
    for size in batch_sizes:
        batch = torch.randn(size, 3, *image_size, generator=generator)
        expected = reference(batch)
        actual = backend(batch.to(backend.input_dtype))
        cosine = torch.nn.functional.cosine_similarity(actual, expected, dim=1)
        result[int(size)] = float(cosine.min())
    return result


def _metadata(
    loaded: LoadedModel,
    image_size: Optional[Tuple[int, int]],
    dynamic_batch: bool,
    batch_size: int,
    half: bool,
    fmt: str,
) -> ExportMetadata:
    """The metadata of an export of ``loaded`` (see :func:`export_model` for the arguments)."""
    entry = loaded.entry
    size = tuple(image_size or (entry.input_size if entry else (256, 128)))
    if len(size) != 2 or min(size) < 1:
        raise ValueError(f"image_size must be (height, width), got {image_size!r}")
    return ExportMetadata(
        arch=loaded.arch,
        weights=Path(loaded.weights).name if loaded.weights else "",
        image_size=size,
        feature_dim=feature_dim(loaded.model, size),
        mean=tuple(entry.mean) if entry else IMAGENET_MEAN,
        std=tuple(entry.std) if entry else IMAGENET_STD,
        dynamic_batch=dynamic_batch,
        batch_size=1 if dynamic_batch else batch_size,
        half=bool(half),
        format=fmt,
    )


def _verified(model: nn.Module, path: Path, metadata: ExportMetadata) -> Dict[int, float]:
    """:func:`verify_export` at batch 1 and 16; the file is removed and ``ValueError`` raised
    when the smallest cosine is below :data:`MIN_COSINE_FP32` (:data:`MIN_COSINE_HALF`)."""
    cosines = verify_export(model, path, (1, 16), metadata.image_size)
    threshold = MIN_COSINE_HALF if metadata.half else MIN_COSINE_FP32
    if min(cosines.values()) < threshold:
        fmt = metadata.format
        for produced in (path, path.with_suffix(".bin")) if fmt == "openvino" else (path,):
            produced.unlink(missing_ok=True)
        raise ValueError(
            f"{fmt} export of {metadata.arch} does not reproduce PyTorch: smallest cosine "
            f"similarity per batch size {cosines} < {threshold}; the file was removed"
        )
    return cosines


def export_model(
    model_name: str,
    weights: Optional[PathLike] = None,
    fmt: str = "onnx",
    output: Optional[PathLike] = None,
    image_size: Optional[Tuple[int, int]] = None,
    dynamic_batch: bool = True,
    batch_size: int = 1,
    half: bool = False,
    verify: bool = True,
    int8: bool = False,
    calib_source: Sequence[PathLike] = (),
    calib_count: int = DEFAULT_CALIB_COUNT,
    int8_options: Optional[Int8Options] = None,
) -> ExportResult:
    """Build ``model_name`` with ``weights``, export it, and check the export against PyTorch.

    Args:
        model_name: Registry architecture, e.g. ``"osnet_x0_25"``.
        weights: Registered weight name or checkpoint file (``None``: random init, warned).
        fmt: ``"onnx"``, ``"openvino"`` or ``"torchscript"``.
        output: Destination file; default ``<weights stem or model_name><suffix>`` in the
            current folder (suffixes ``.onnx``, ``.xml`` + ``.bin``, ``.torchscript``).
        image_size: Input ``(height, width)``; default: the weights' training size, else
            ``(256, 128)``.
        dynamic_batch: Export a dynamic batch axis (default); else a fixed ``batch_size``.
        batch_size: The fixed batch size when ``dynamic_batch`` is False.
        half: Store float16 weights (ONNX/TorchScript compute in float16; OpenVINO decides
            the compute precision per device).
        verify: Run the export at batch 1 and 16 against PyTorch and require a per-row
            cosine similarity >= 0.9999 (0.999 with ``half``).
        int8: Statically quantise to int8 (QDQ, ``fmt`` ``"onnx"`` or ``"openvino"``),
            calibrated on real crops from ``calib_source`` and checked on held-out ones
            (mean cosine >= 0.98, always; see :func:`~strongsort_reid.export.quantize.export_int8`).
            Default file name ``<stem>_int8<suffix>``.
        calib_source: MOTChallenge folders of sequences (``gt/gt.txt`` + ``img1/``) to cut
            calibration crops from; required with ``int8``.
        calib_count: Calibration crops.
        int8_options: Calibration method and what stays in float (default :class:`Int8Options`).

    Returns:
        An :class:`ExportResult`.

    Raises:
        ValueError: bad arguments, or the export does not reproduce PyTorch (the file is
            removed then).
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if int8 and (half or not calib_source):
        raise ValueError("int8 needs calib_source (MOT folders of sequences) and no half")
    if not dynamic_batch and (not isinstance(batch_size, int) or batch_size < 1):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    loaded = load_reid_model(model_name, weights)
    metadata = _metadata(loaded, image_size, dynamic_batch, batch_size, half, fmt)
    stem = Path(loaded.weights).stem if loaded.weights else model_name
    stem += "_int8" if int8 else ""
    path = Path(output) if output is not None else Path(stem + SUFFIXES[fmt])
    if int8:
        options = int8_options or Int8Options()
        path, agreement = export_int8(
            loaded.model, path, fmt, metadata, calib_source, calib_count, options
        )
        logger.info("exported int8 %s to %s (cosine vs float32: %s)", model_name, path, agreement)
        return ExportResult(path, open_backend(path).metadata, {}, agreement)
    export_feature_model(loaded.model, path, fmt, metadata)
    cosines = _verified(loaded.model, path, metadata) if verify else {}
    logger.info("exported %s to %s (cosine vs PyTorch: %s)", model_name, path, cosines)
    return ExportResult(path, metadata, cosines)
