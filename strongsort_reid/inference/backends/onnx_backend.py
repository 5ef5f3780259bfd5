"""The ONNX Runtime backend."""

from __future__ import annotations

import os
from typing import Optional, Union

import numpy as np
import torch

from strongsort_reid.inference.backends.base import InferenceBackend
from strongsort_reid.inference.compat import import_optional
from strongsort_reid.inference.metadata import METADATA_KEY, ExportMetadata

PathLike = Union[str, os.PathLike]


def _fixed_dim(value) -> Optional[int]:
    """An ONNX/OpenVINO dimension as an int, or ``None`` when it is dynamic."""
    return value if isinstance(value, int) and value > 0 else None


class OnnxBackend(InferenceBackend):
    """ONNX Runtime with all graph optimisations; CUDA provider on CUDA devices."""

    name = "onnx"

    def __init__(
        self,
        source: Union[PathLike, bytes],
        device: torch.device,
        num_threads: Optional[int] = None,
    ) -> None:
        ort = import_optional("onnxruntime", "backend='onnx'")
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.intra_op_num_threads = num_threads or torch.get_num_threads()
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Idle worker threads must not spin: a tracker runs a detector and other PyTorch code
        # in the same process, and on few cores spinning threads starve them.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        providers = ["CPUExecutionProvider"]
        if device.type == "cuda":
            if "CUDAExecutionProvider" not in ort.get_available_providers():
                raise ValueError(
                    "device is CUDA but onnxruntime has no CUDAExecutionProvider; "
                    "install onnxruntime-gpu or use device='cpu'"
                )
            providers.insert(0, "CUDAExecutionProvider")
        if not isinstance(source, bytes):
            source = str(source)
        try:
            self.session = ort.InferenceSession(source, options, providers=providers)
        except Exception as exc:  # onnxruntime raises its own exception types
            raise ValueError(f"cannot load ONNX model {_describe(source)}: {exc}") from exc
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        shape = model_input.shape
        if len(shape) != 4 or _fixed_dim(shape[1]) not in (3, None):
            raise ValueError(
                f"ONNX model {_describe(source)} must take (N, 3, H, W) images, "
                f"its input is {shape}"
            )
        height, width = _fixed_dim(shape[2]), _fixed_dim(shape[3])
        is_half = model_input.type == "tensor(float16)"
        self.numpy_dtype = np.float16 if is_half else np.float32
        metadata = ExportMetadata.from_json(
            self.session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        )
        # Outputs come back to the host: run the CPU-side pipeline for them.
        super().__init__(
            torch.device("cpu"),
            torch.float32,
            input_size=(height, width) if height and width else None,
            fixed_batch=_fixed_dim(shape[0]),
            metadata=metadata,
        )

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        array = batch.detach().cpu().contiguous().numpy().astype(self.numpy_dtype, copy=False)
        (features,) = self.session.run(None, {self.input_name: array})[:1]
        return torch.from_numpy(np.asarray(features, dtype=np.float32))


def _describe(source) -> str:
    return "<in-memory>" if isinstance(source, bytes) else str(source)
