"""Convert a feature network in memory to ONNX, OpenVINO or TorchScript.

``FeatureExtractor(backend=...)`` runs these conversions when it is given PyTorch weights, and
:mod:`strongsort_reid.export` writes their results to files. Every artifact carries
:class:`~strongsort_reid.inference.metadata.ExportMetadata` (TorchScript gets it when saved).
The batch axis is dynamic unless a fixed ``batch_size`` is asked for. Subnormal weights are set
to zero before conversion (they cost every CPU runtime dearly, see
:mod:`strongsort_reid.inference.optimize`).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import io
import warnings
from typing import Iterator

import torch
from torch import nn

from strongsort_reid.inference.compat import import_optional, quiet_torchscript
from strongsort_reid.inference.metadata import (
    INPUT_NAME,
    METADATA_KEY,
    OUTPUT_NAME,
    ExportMetadata,
)
from strongsort_reid.inference.optimize import flush_subnormals

DEFAULT_OPSET = 17


def _example_input(metadata: ExportMetadata, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    # Batch 2 when dynamic: tracing at batch 1 lets some exporters specialise on it.
    batch = metadata.batch_size if not metadata.dynamic_batch else 2
    generator = torch.Generator().manual_seed(0)
    return torch.randn(batch, 3, *metadata.image_size, generator=generator).to(dtype)


def _prepared(model: nn.Module, half: bool) -> nn.Module:
    """An eval-mode float copy of ``model`` with subnormal weights set to zero.

    Subnormal weights (common in trained checkpoints) slow every CPU runtime down, ONNX
    Runtime included; see :func:`~strongsort_reid.inference.optimize.flush_subnormals`.
    """
    model = copy.deepcopy(model).eval().cpu().float()
    flush_subnormals(model)
    return model.half() if half else model


def _export_onnx_graph(model: nn.Module, metadata: ExportMetadata, opset: int) -> bytes:
    """The bare ONNX graph of ``model`` (input ``images``, output ``features``)."""
    net = _prepared(model, metadata.half)
    example = _example_input(metadata, torch.float16 if metadata.half else torch.float32)
    axes = {INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}} if metadata.dynamic_batch else None
    buffer = io.BytesIO()
    with quiet_torchscript(), _quiet_legacy_onnx():
        torch.onnx.export(
            net,
            (example,),
            buffer,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes=axes,
            opset_version=opset,
            do_constant_folding=True,
            dynamo=False,
        )
    return buffer.getvalue()


def to_onnx_bytes(model: nn.Module, metadata: ExportMetadata, opset: int = DEFAULT_OPSET) -> bytes:
    """Serialise ``model`` as an ONNX model carrying ``metadata``.

    Uses PyTorch's TorchScript-based exporter: it needs no extra package and exports OSNet in
    about a second (the ``torch.export``-based one needs onnxscript and ~15 s).
    """
    onnx = import_optional("onnx", "ONNX export")
    graph = onnx.load_model_from_string(_export_onnx_graph(model, metadata, opset))
    entry = graph.metadata_props.add()
    entry.key, entry.value = METADATA_KEY, metadata.to_json()
    return graph.SerializeToString()


def to_openvino_model(model: nn.Module, metadata: ExportMetadata):
    """Convert ``model`` to an ``openvino.Model`` (input ``images``, output ``features``).

    The conversion goes through an in-memory ONNX graph: about 3x faster than OpenVINO's
    PyTorch frontend, and the same graph as the ONNX export. The network is converted in
    float32; ``metadata.half`` compresses the weights to float16 when saved (OpenVINO then
    picks the compute precision per device).
    """
    ov = import_optional("openvino", "OpenVINO export")
    onnx_graph = _export_onnx_graph(model, dataclasses.replace(metadata, half=False), DEFAULT_OPSET)
    converted = ov.convert_model(io.BytesIO(onnx_graph))
    converted.set_rt_info(metadata.to_json(), [METADATA_KEY])
    return converted


def to_torchscript(model: nn.Module, metadata: ExportMetadata) -> torch.jit.ScriptModule:
    """Trace ``model`` into a TorchScript module (batch size is free in a traced CNN)."""
    net = _prepared(model, metadata.half)
    example = _example_input(metadata, torch.float16 if metadata.half else torch.float32)
    with quiet_torchscript(), torch.no_grad():
        return torch.jit.trace(net, example)


@contextlib.contextmanager
def _quiet_legacy_onnx() -> Iterator[None]:
    """Silence the notice that the TorchScript-based ONNX exporter is the legacy one."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
        warnings.filterwarnings("ignore", message=r".*legacy TorchScript-based ONNX export")
        yield
