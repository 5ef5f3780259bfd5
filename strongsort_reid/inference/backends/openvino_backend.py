"""The OpenVINO backend (one process-wide ``openvino.Core``, see
:func:`~strongsort_reid.inference.compat.openvino_core`)."""

from __future__ import annotations

import os
from typing import Optional

import numpy as np
import torch

from strongsort_reid.inference.backends.base import InferenceBackend
from strongsort_reid.inference.compat import openvino_core
from strongsort_reid.inference.metadata import METADATA_KEY, ExportMetadata


class OpenVinoBackend(InferenceBackend):
    """OpenVINO runtime (Intel CPUs, iGPUs and NPUs; fast on any x86 CPU)."""

    name = "openvino"

    def __init__(
        self,
        source,
        device: str = "CPU",
        num_threads: Optional[int] = None,
    ) -> None:
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
        shape = model.inputs[0].get_partial_shape()
        dims = [dim.get_length() if dim.is_static else None for dim in shape]
        if len(dims) != 4 or dims[1] not in (3, None):
            raise ValueError(f"OpenVINO model must take (N, 3, H, W) images, its input is {shape}")
        config = {
            "PERFORMANCE_HINT": "LATENCY",
            "INFERENCE_NUM_THREADS": num_threads or torch.get_num_threads(),
        }
        if device.upper() == "CPU" and not (metadata and metadata.half):
            # Newer CPUs would otherwise silently compute in bf16.
            config["INFERENCE_PRECISION_HINT"] = "f32"
        self.compiled = core.compile_model(model, device.upper(), config)
        self.request = self.compiled.create_infer_request()
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
