"""The OpenVINO backend (one process-wide ``openvino.Core``, see
:func:`~strongsort_reid.inference.compat.openvino_core`)."""

from __future__ import annotations

import os
from typing import Optional

import numpy as np
import torch

from strongsort_reid.inference.backends.base import InferenceBackend
from strongsort_reid.inference.compat import openvino_core
from strongsort_reid.inference.metadata import METADATA_KEY, ExportMetadata, read_onnx_metadata

# What ``precision`` accepts: OpenVINO's CPU compute precision for the float operations.
PRECISIONS = ("f32", "bf16")


class OpenVinoBackend(InferenceBackend):
    """OpenVINO runtime (Intel CPUs, iGPUs and NPUs; fast on any x86 CPU).

    Args:
        source: An IR ``.xml`` or ``.onnx`` file (OpenVINO reads ONNX itself), or an
            ``openvino.Model``.
        device: OpenVINO device name.
        num_threads: CPU threads (default: torch's setting).
        precision: Compute precision of the float operations on the CPU: ``"f32"``, or
            ``"bf16"`` (AMX / AVX-512 BF16 CPUs; elsewhere OpenVINO stays in f32). Default
            ``None``: f32 for float32 networks; bf16 for int8 networks, whose error is
            dominated by the int8 operations (OSNet x0.25: cosine to float32 0.9934 vs 0.9938
            in f32, ~1.6x the speed); OpenVINO's own choice for half networks.
    """

    name = "openvino"

    def __init__(
        self,
        source,
        device: str = "CPU",
        num_threads: Optional[int] = None,
        precision: Optional[str] = None,
    ) -> None:
        if precision not in (None, *PRECISIONS):
            raise ValueError(f"precision must be one of {PRECISIONS} or None, got {precision!r}")
        core = openvino_core()  # one Core per process, see openvino_core
        if isinstance(source, (str, os.PathLike)):
            try:
                model = core.read_model(str(source))
            except RuntimeError as exc:
                raise ValueError(f"cannot load OpenVINO model {source}: {exc}") from exc
        else:
            model = source
        metadata = None
        if model.has_rt_info([METADATA_KEY]):
            metadata = ExportMetadata.from_json(model.get_rt_info([METADATA_KEY]).astype(str))
        elif isinstance(source, (str, os.PathLike)) and str(source).lower().endswith(".onnx"):
            metadata = read_onnx_metadata(source)  # OpenVINO does not expose ONNX metadata
        shape = model.inputs[0].get_partial_shape()
        dims = [dim.get_length() if dim.is_static else None for dim in shape]
        if len(dims) != 4 or dims[1] not in (3, None):
            raise ValueError(f"OpenVINO model must take (N, 3, H, W) images, its input is {shape}")
        config = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": num_threads or torch.get_num_threads(),
        }
        if precision is None and metadata is not None and metadata.int8:
            precision = "bf16"
        elif precision is None and not (metadata and metadata.half):
            precision = "f32"  # newer CPUs would otherwise silently compute in bf16
        if device.upper() == "CPU" and precision is not None:
            config["INFERENCE_PRECISION_HINT"] = precision
        self.compiled = core.compile_model(model, device.upper(), config)
        self.request = self.compiled.create_infer_request()
        self.precision = self.compiled.get_property("INFERENCE_PRECISION_HINT").to_string()
        self.output = self.compiled.output(0)
        super().__init__(
            torch.device("cpu"),
            torch.float32,
            input_size=(dims[2], dims[3]) if dims[2] and dims[3] else None,
            fixed_batch=dims[0],
            metadata=metadata,
        )

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        array = batch.detach().cpu().contiguous().numpy()
        result = self.request.infer({0: array})
        return torch.from_numpy(np.array(result[self.output], dtype=np.float32))
