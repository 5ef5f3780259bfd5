"""Inference backends: one interface over eager PyTorch, TorchScript, ONNX Runtime and OpenVINO.

Every backend takes a normalised ``(N, 3, H, W)`` float tensor (RGB, the output of
:func:`strongsort_reid.utils.preprocess.normalize_batch`) and returns the raw, not yet
L2-normalised ``(N, D)`` float32 features as a torch tensor. Exports with a fixed batch size
are fed in padded chunks of that size, so callers never see the difference.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
import zipfile
from pathlib import Path
from typing import Optional, Tuple, Union

import numpy as np
import torch
from torch import nn

from strongsort_reid.export.compat import import_optional, openvino_core, quiet_torchscript
from strongsort_reid.export.fusion import fold_batchnorm
from strongsort_reid.export.metadata import METADATA_KEY, ExportMetadata
from strongsort_reid.export.optimize import cpu_graph, flush_subnormals

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

BACKENDS = ("torch", "torchscript", "onnx", "openvino")
# PyTorch allocates every activation afresh. On a CPU, large activations spill out of the
# caches and past glibc's mmap threshold (fresh pages, page faults on every layer), so the
# torch backend cuts a CPU batch into micro-batches whose largest activation stays under
# this budget. Measured end to end on 2 cores at batch 32 (subnormals flushed): OSNet x0.25
# (0.5 MiB per image) ran fastest unsplit (1.08x micro-batches of 16), x1.0 (2 MiB per
# image) at 4-16 images per forward (1.2x unsplit).
CPU_ACTIVATION_BUDGET = 16 * 2**20
# The torch backend runs chunks whose largest activation reaches this size on the oneDNN
# graph, smaller ones on the matmul graph (see strongsort_reid.export.optimize): the crossover
# follows the work per forward, not the image count. Measured on 2 cores, model alone,
# interleaved, matmul speed / oneDNN speed at batch 1/2/4/6/8: OSNet x0.25 (0.5 MiB per
# image) 1.6/1.4/1.45/1.35/0.83, x1.0 (2 MiB per image) 1.15/0.98/0.76/0.71/0.70.
ONEDNN_MIN_ACTIVATION = 4 * 2**20
# The same switch for TorchScript files, whose activations cannot be measured with hooks: the
# image count at which a light ReID network (OSNet x0.25) crosses over.
ONEDNN_MIN_BATCH = 8
TORCHSCRIPT_SUFFIXES = (".torchscript", ".ts", ".jit")


def is_torchscript_archive(path: PathLike) -> bool:
    """True for a TorchScript file (a zip archive holding compiled ``code/``)."""
    path = Path(path)
    if path.suffix.lower() in TORCHSCRIPT_SUFFIXES:
        return True
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any("/code/" in name for name in archive.namelist())


class InferenceBackend:
    """Runs a feature network on normalised batches.

    Attributes:
        name: Backend name, one of :data:`BACKENDS`.
        device: Device the input batch must be on.
        input_dtype: dtype of the input batch.
        channels_last: Whether the backend prefers NHWC memory layout for its input.
        input_size: ``(H, W)`` the network is fixed to, or ``None`` if any size works.
        fixed_batch: Batch size of a static-batch export, ``None`` when dynamic.
        metadata: The export's :class:`ExportMetadata`, ``None`` if it has none.
    """

    name = ""

    def __init__(
        self,
        device: torch.device,
        input_dtype: torch.dtype = torch.float32,
        channels_last: bool = False,
        input_size: Optional[Tuple[int, int]] = None,
        fixed_batch: Optional[int] = None,
        metadata: Optional[ExportMetadata] = None,
    ) -> None:
        self.device = device
        self.input_dtype = input_dtype
        self.channels_last = channels_last
        self.input_size = input_size
        self.fixed_batch = fixed_batch
        self.metadata = metadata

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        """Features ``(N, D)`` float32 (on :attr:`device`) for a ``(N, 3, H, W)`` batch."""
        if self.fixed_batch is None or batch.shape[0] == self.fixed_batch:
            return self.forward(batch)
        outputs = []
        for chunk in batch.split(self.fixed_batch):
            count = chunk.shape[0]
            if count < self.fixed_batch:
                padding = chunk.new_zeros((self.fixed_batch - count, *chunk.shape[1:]))
                chunk = torch.cat([chunk, padding])
            outputs.append(self.forward(chunk)[:count])
        return torch.cat(outputs)

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        """Run the network on a batch it accepts as is."""
        raise NotImplementedError


def half_dtype(device: torch.device, half: Union[bool, str]) -> torch.dtype:
    """Compute dtype for ``half``: float16 (``True``/``'fp16'``) or bfloat16 (``'bf16'``) on
    GPU; float32 otherwise (CPU half precision is slower than float32 and is ignored)."""
    if not half:
        return torch.float32
    if half not in (True, "fp16", "bf16"):
        raise ValueError(f"half must be False, True, 'fp16' or 'bf16', got {half!r}")
    if device.type != "cuda":
        warnings.warn(
            f"half={half!r} is only used on CUDA devices; running in float32 on {device}",
            stacklevel=3,
        )
        return torch.float32
    return torch.bfloat16 if half == "bf16" else torch.float16


class TorchBackend(InferenceBackend):
    """PyTorch, tuned for inference.

    BatchNorms are folded into their convolutions, subnormal weights are set to zero (see
    :func:`~strongsort_reid.export.optimize.flush_subnormals`: on a CPU they made the
    trained OSNet ~3x slower), weights and inputs use channels_last layout, and the forward
    runs under ``torch.inference_mode`` in ``dtype`` (float16 or bfloat16 only make sense on
    CUDA, see :func:`half_dtype`). On the CPU the network is also frozen into two TorchScript
    graphs (:func:`~strongsort_reid.export.optimize.cpu_graph`), each kept only if it
    reproduces the eager output: 1x1 convolutions as matrix products for small chunks,
    oneDNN-optimised for chunks whose largest activation reaches
    :data:`ONEDNN_MIN_ACTIVATION`; and batches run in micro-batches sized by
    :data:`CPU_ACTIVATION_BUDGET`. The caller's ``model`` is not
    modified.

    Args:
        model: The network.
        device: Where it runs.
        dtype: Compute dtype.
        image_size: ``(H, W)`` of the inputs, for the example batch used by the checks.
        optimize: Allow the TorchScript graphs on the CPU (``False``: eager only).

    Attributes:
        model: What runs small chunks: the folded eager network or its matmul graph.
        large_model: What runs chunks of :attr:`onednn_min_batch` images or more: on the
            CPU the oneDNN graph, built on first use (about 2 s for OSNet); else :attr:`model`.
        micro_batch: Images per forward on the CPU (``None``: the whole batch).
        onednn_min_batch: Smallest chunk that runs on :attr:`large_model` (8 for OSNet
            x0.25, 2 for x1.0).
    """

    name = "torch"

    def __init__(
        self,
        model: nn.Module,
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        image_size: Tuple[int, int] = (256, 128),
        optimize: bool = True,
    ) -> None:
        super().__init__(device, dtype, channels_last=True)
        generator = torch.Generator().manual_seed(0)
        example = torch.randn(2, 3, *image_size, generator=generator).to(
            memory_format=torch.channels_last
        )
        folded, count = fold_batchnorm(model, example[:1])
        flushed = flush_subnormals(folded)
        logger.debug(
            "%s: folded %d BatchNorm layers, zeroed %d subnormal weights",
            type(model).__name__,
            count,
            flushed,
        )
        self.model = folded.to(device=device, dtype=dtype, memory_format=torch.channels_last)
        self.micro_batch: Optional[int] = None
        self.onednn_min_batch = 1
        # Built on the first large chunk (tracing OSNet takes ~2 s; many callers never need it).
        self._large_model: Optional[nn.Module] = self.model
        self._eager: Optional[nn.Module] = None
        self._example: Optional[torch.Tensor] = example
        if device.type == "cpu":
            per_image = largest_activation_bytes(self.model, example[:1])
            self.micro_batch = 2 ** max(0, int(math.log2(CPU_ACTIVATION_BUDGET / per_image)))
            self.onednn_min_batch = max(1, math.ceil(ONEDNN_MIN_ACTIVATION / per_image))
            if optimize and dtype == torch.float32:
                self._eager = self.model
                self.model = cpu_graph(self._eager, example) or self._eager
                self._large_model = None

    @property
    def large_model(self) -> nn.Module:
        """The network for chunks of :attr:`onednn_min_batch` or more images (lazily built)."""
        if self._large_model is None:
            with torch.inference_mode(False):  # tracing needs ordinary tensors
                graph = cpu_graph(self._eager, self._example, onednn=True)
            self._large_model = graph or self.model
            self._eager = self._example = None
        return self._large_model

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            if self.micro_batch is None or batch.shape[0] <= self.micro_batch:
                return self._forward_chunk(batch).float()
            parts = [self._forward_chunk(part) for part in batch.split(self.micro_batch)]
            return torch.cat(parts).float()

    def _forward_chunk(self, chunk: torch.Tensor) -> torch.Tensor:
        model = self.large_model if chunk.shape[0] >= self.onednn_min_batch else self.model
        return model(chunk)


def largest_activation_bytes(model: nn.Module, example: torch.Tensor) -> int:
    """Bytes of the largest module output when ``model`` runs on ``example``, per image."""
    largest = 0

    def record(_module, _inputs, output):
        nonlocal largest
        if torch.is_tensor(output):
            largest = max(largest, output.numel() * output.element_size())

    handles = [module.register_forward_hook(record) for module in model.modules()]
    try:
        with torch.inference_mode():
            model(example.to(memory_format=torch.channels_last))
    finally:
        for handle in handles:
            handle.remove()
    return max(largest // example.shape[0], 1)


class TorchScriptBackend(InferenceBackend):
    """A TorchScript module; on the CPU frozen, plus an oneDNN-optimised copy for large chunks.

    As in :class:`TorchBackend`, chunks of fewer than :data:`ONEDNN_MIN_BATCH` images run on
    the frozen module with channels_last input (1.6x the oneDNN graph at batch 1 for OSNet
    x0.25), larger ones on ``torch.jit.optimize_for_inference``'s graph (1.3x the frozen
    module at batch 32).
    """

    name = "torchscript"

    def __init__(
        self,
        source: Union[PathLike, torch.jit.ScriptModule],
        device: torch.device,
        metadata: Optional[ExportMetadata] = None,
    ) -> None:
        if isinstance(source, torch.jit.ScriptModule):
            module = source
        else:
            extra_files = {METADATA_KEY: ""}
            with quiet_torchscript():
                module = torch.jit.load(str(source), map_location=device, _extra_files=extra_files)
            metadata = ExportMetadata.from_json(extra_files[METADATA_KEY]) or metadata
        half = bool(metadata and metadata.half) and device.type == "cuda"
        module = module.to(device).eval()
        module = module.half() if half else module.float()
        large_module = module
        if device.type == "cpu":
            with quiet_torchscript():
                # Two frozen copies: optimize_for_inference rewrites a frozen module in place.
                large_module = torch.jit.freeze(module)
                module = torch.jit.freeze(module)
                try:
                    large_module = torch.jit.optimize_for_inference(large_module)
                except RuntimeError as exc:
                    logger.info("TorchScript module left unoptimised for oneDNN: %s", exc)
        super().__init__(
            device,
            torch.float16 if half else torch.float32,
            channels_last=device.type == "cpu",
            input_size=tuple(metadata.image_size) if metadata else None,
            metadata=metadata,
        )
        self.module = module
        self.large_module = large_module

    def forward(self, batch: torch.Tensor) -> torch.Tensor:
        module = self.large_module if batch.shape[0] >= ONEDNN_MIN_BATCH else self.module
        with torch.no_grad():
            return module(batch).float()


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


def _describe(source) -> str:
    return "<in-memory>" if isinstance(source, bytes) else str(source)


def open_backend(
    path: PathLike,
    device: Union[str, torch.device] = "cpu",
    num_threads: Optional[int] = None,
) -> InferenceBackend:
    """Open an exported model by its file type: ``.onnx``, OpenVINO ``.xml`` or TorchScript.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file type is not an export format.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"exported model not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        return OnnxBackend(path, torch.device(device), num_threads)
    if suffix == ".xml":
        ov_device = "CPU" if str(device) in ("cpu", "auto") else str(device)
        return OpenVinoBackend(path, ov_device, num_threads)
    if is_torchscript_archive(path):
        return TorchScriptBackend(path, torch.device(device))
    raise ValueError(
        f"{path} is not an exported model (.onnx, OpenVINO .xml or TorchScript archive)"
    )


__all__ = [
    "BACKENDS",
    "InferenceBackend",
    "OnnxBackend",
    "OpenVinoBackend",
    "TorchBackend",
    "TorchScriptBackend",
    "half_dtype",
    "import_optional",
    "is_torchscript_archive",
    "open_backend",
]
