"""The one table of export formats: file suffixes, which format a file is, how to open it.

Every other module asks here instead of keeping its own suffix table or format switch:

* :func:`format_of` -- the format of a file (TorchScript archives are recognised without a
  suffix, by their content); :data:`RUNTIMES_FOR` -- the runtimes that open it (OpenVINO
  reads ONNX files, int8 QDQ ones included); :func:`is_int8` -- whether it is quantised;
* :func:`open_backend` -- the backend for an exported file;
* :func:`convert` -- the in-memory export of a PyTorch network (what ``export`` writes);
* :func:`backend_for_model` -- the backend for a PyTorch network in a given runtime: PyTorch
  runs it as is, the other runtimes get an in-memory export (what ``FeatureExtractor`` uses).
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Optional, Union

import torch
from torch import nn

from strongsort_reid.inference.backends import (
    InferenceBackend,
    OnnxBackend,
    OpenVinoBackend,
    TorchBackend,
    TorchScriptBackend,
)
from strongsort_reid.inference.compat import import_optional
from strongsort_reid.inference.convert import to_onnx_bytes, to_openvino_model, to_torchscript
from strongsort_reid.inference.metadata import ExportMetadata
from strongsort_reid.inference.options import resolve_device

PathLike = Union[str, os.PathLike]

FORMATS = ("onnx", "openvino", "torchscript")
# format -> suffix of the file an export is written to (OpenVINO puts a .bin next to the .xml).
SUFFIXES = {"onnx": ".onnx", "openvino": ".xml", "torchscript": ".torchscript"}
# format -> runtimes that can open its files, the format's own runtime first.
RUNTIMES_FOR = {
    "onnx": ("onnx", "openvino"),
    "openvino": ("openvino",),
    "torchscript": ("torchscript",),
}
# Further suffixes TorchScript archives are commonly saved with.
TORCHSCRIPT_SUFFIXES = (".torchscript", ".ts", ".jit")

_CONVERTERS = {"onnx": to_onnx_bytes, "openvino": to_openvino_model, "torchscript": to_torchscript}


def is_torchscript_archive(path: PathLike) -> bool:
    """True for a TorchScript file (a zip archive holding compiled ``code/``)."""
    path = Path(path)
    if path.suffix.lower() in TORCHSCRIPT_SUFFIXES:
        return True
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name for name in archive.namelist())


def format_of(path: Optional[PathLike]) -> Optional[str]:
    """The export format of the file ``path`` (one of :data:`FORMATS`), else ``None``.

    ``None`` also for ``None`` and for paths that are not files (weight names, checkpoints).
    """
    if path is None or not Path(path).is_file():
        return None
    suffix = Path(path).suffix.lower()
    for fmt in ("onnx", "openvino"):
        if suffix == SUFFIXES[fmt]:
            return fmt
    return "torchscript" if is_torchscript_archive(path) else None


def is_int8(path: PathLike) -> bool:
    """True for an ONNX file holding a statically quantised (QDQ / QOperator) network."""
    if format_of(path) != "onnx":
        return False
    onnx = import_optional("onnx", "reading ONNX files")
    graph = onnx.load(str(path), load_external_data=False).graph
    return any(node.op_type in ("QuantizeLinear", "QLinearConv") for node in graph.node)


def runtime_for_export(path: PathLike, device: Union[str, torch.device] = "cpu") -> str:
    """The runtime ``backend="auto"`` uses for an export: its own, except int8 ONNX files,
    which OpenVINO runs about 1.5x faster than ONNX Runtime on the CPU (when installed)."""
    fmt = format_of(path)
    if fmt is None:
        raise ValueError(f"{path} is not an exported model")
    if is_int8(path) and not str(device).startswith("cuda") and _installed("openvino"):
        return "openvino"
    return fmt


def _installed(module: str) -> bool:
    try:
        import_optional(module, "")
    except ImportError:
        return False
    return True


def _check_format(fmt: str) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")


def open_runtime(
    fmt: str,
    source,
    device: torch.device,
    ov_device: str = "CPU",
    num_threads: Optional[int] = None,
    metadata: Optional[ExportMetadata] = None,
    precision: Optional[str] = None,
) -> InferenceBackend:
    """The backend of runtime ``fmt`` for a file or an in-memory export (see :func:`convert`).

    Args:
        fmt: One of :data:`FORMATS`: the runtime (``"openvino"`` also opens ``.onnx`` files).
        source: A file path, or what :func:`convert` returned for ``fmt``.
        device: Torch device for ONNX Runtime and TorchScript.
        ov_device: OpenVINO device name (``"CPU"``, ``"GPU"``, ...).
        num_threads: CPU threads for ONNX Runtime / OpenVINO (default: torch's setting).
        metadata: For an in-memory TorchScript module (the other formats carry their own).
        precision: OpenVINO's float compute precision (see :class:`OpenVinoBackend`).
    """
    _check_format(fmt)
    if fmt == "onnx":
        return OnnxBackend(source, device, num_threads)
    if fmt == "openvino":
        return OpenVinoBackend(source, ov_device, num_threads, precision)
    return TorchScriptBackend(source, device, metadata)


def open_backend(
    path: PathLike,
    device: Union[str, torch.device] = "cpu",
    num_threads: Optional[int] = None,
    runtime: Optional[str] = None,
) -> InferenceBackend:
    """Open an exported model by its file type: ``.onnx``, OpenVINO ``.xml`` or TorchScript.

    Args:
        path: The exported file.
        device: As for ``FeatureExtractor`` (``"cpu"``, ``"auto"``, ``"cuda[:N]"``; OpenVINO
            device names for ``.xml`` files).
        num_threads: CPU threads for ONNX Runtime / OpenVINO.
        runtime: The runtime to open it with, one of ``RUNTIMES_FOR[format]`` (``"openvino"``
            for an ``.onnx`` file), or ``"auto"`` (:func:`runtime_for_export`). Default: the
            file's own runtime.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file type is not an export format, or ``runtime`` cannot open it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"exported model not found: {path}")
    fmt = format_of(path)
    if fmt is None:
        raise ValueError(
            f"{path} is not an exported model (.onnx, OpenVINO .xml or TorchScript archive)"
        )
    runtime = runtime_for_export(path, device) if runtime == "auto" else runtime or fmt
    if runtime not in RUNTIMES_FOR[fmt]:
        raise ValueError(
            f"{path} is a {fmt} export; runtime must be one of {RUNTIMES_FOR[fmt]}, got {runtime!r}"
        )
    torch_device, ov_device = resolve_device(device, runtime)
    return open_runtime(runtime, path, torch_device, ov_device, num_threads)


def convert(model: nn.Module, fmt: str, metadata: ExportMetadata):
    """In-memory export: ONNX bytes, an ``openvino.Model`` or a TorchScript module."""
    _check_format(fmt)
    return _CONVERTERS[fmt](model, metadata)


def backend_for_model(
    model: nn.Module,
    runtime: str,
    metadata: ExportMetadata,
    device: torch.device,
    ov_device: str = "CPU",
    num_threads: Optional[int] = None,
    dtype: torch.dtype = torch.float32,
    precision: Optional[str] = None,
) -> InferenceBackend:
    """Backend for a PyTorch network: the model itself (``"torch"``), or an in-memory export.

    Args:
        model: The network in eval mode.
        runtime: ``"torch"`` or one of :data:`FORMATS`.
        metadata: Describes the network (``image_size``, ``half``) for the conversion.
        device, ov_device, num_threads: As for :func:`open_runtime`.
        dtype: Compute dtype of the torch backend.
        precision: OpenVINO's float compute precision (see :class:`OpenVinoBackend`).
    """
    if runtime == "torch":
        return TorchBackend(model, device, dtype, metadata.image_size)
    return open_runtime(
        runtime,
        convert(model, runtime, metadata),
        device,
        ov_device,
        num_threads,
        metadata,
        precision,
    )
