"""Write an in-memory export (see :mod:`strongsort_reid.inference.convert`) to a file.

Files are written atomically through :mod:`strongsort_reid.utils.atomic` (temporary name next
to the destination, then rename), so a crash never leaves a truncated model behind. The export
already carries its :class:`~strongsort_reid.inference.metadata.ExportMetadata`, except
TorchScript, whose archive gets it here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

import torch

from strongsort_reid.inference.compat import import_optional, quiet_torchscript
from strongsort_reid.inference.formats import FORMATS
from strongsort_reid.inference.metadata import METADATA_KEY, ExportMetadata
from strongsort_reid.utils.atomic import atomic_path, publish

PathLike = Union[str, os.PathLike]


def _write_onnx(artifact: bytes, temp: Path, metadata: ExportMetadata) -> None:
    temp.write_bytes(artifact)


def _write_torchscript(artifact, temp: Path, metadata: ExportMetadata) -> None:
    with quiet_torchscript():
        torch.jit.save(artifact, str(temp), _extra_files={METADATA_KEY: metadata.to_json()})


def _write_openvino(artifact, temp: Path, metadata: ExportMetadata) -> None:
    ov = import_optional("openvino", "OpenVINO export")
    ov.save_model(artifact, str(temp), compress_to_fp16=metadata.half)


_WRITERS = {"onnx": _write_onnx, "openvino": _write_openvino, "torchscript": _write_torchscript}


def write_export(artifact, fmt: str, path: PathLike, metadata: ExportMetadata) -> Path:
    """Write an in-memory export to ``path`` atomically.

    Args:
        artifact: ONNX bytes, an ``openvino.Model`` or a TorchScript module.
        fmt: One of :data:`~strongsort_reid.inference.formats.FORMATS`.
        path: Destination; for OpenVINO the ``.xml`` file (the ``.bin`` goes next to it).
        metadata: Written into TorchScript archives (the other formats already hold it).

    Returns:
        The written path.
    """
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    path = Path(path)
    with atomic_path(path) as temp:
        temp_bin = temp.with_suffix(".bin")
        try:
            _WRITERS[fmt](artifact, temp, metadata)
            if fmt == "openvino":
                # The IR finds its weights by file stem: move the .bin first, then the .xml.
                publish(temp_bin, path.with_suffix(".bin"))
        finally:
            temp_bin.unlink(missing_ok=True)
    return path
