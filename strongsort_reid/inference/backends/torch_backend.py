"""The PyTorch backend: the eager network, folded, flushed and (on the CPU) frozen into graphs."""

from __future__ import annotations

import logging
import math
import warnings
from typing import Optional, Tuple, Union

import torch
from torch import nn

from strongsort_reid.inference.backends.base import InferenceBackend
from strongsort_reid.inference.fusion import fold_batchnorm
from strongsort_reid.inference.optimize import cpu_graph, flush_subnormals

logger = logging.getLogger(__name__)

# PyTorch allocates every activation afresh. On a CPU, large activations spill out of the
# caches and past glibc's mmap threshold (fresh pages, page faults on every layer), so the
# torch backend cuts a CPU batch into micro-batches whose largest activation stays under
# this budget. Measured end to end on 2 cores at batch 32 (subnormals flushed): OSNet x0.25
# (0.5 MiB per image) ran fastest unsplit (1.08x micro-batches of 16), x1.0 (2 MiB per
# image) at 4-16 images per forward (1.2x unsplit).
CPU_ACTIVATION_BUDGET = 16 * 2**20
# The torch backend runs chunks whose largest activation reaches this size on the oneDNN
# graph, smaller ones on the matmul graph (see strongsort_reid.inference.optimize): the crossover
# follows the work per forward, not the image count. Measured on 2 cores, model alone,
# interleaved, matmul speed / oneDNN speed at batch 1/2/4/6/8: OSNet x0.25 (0.5 MiB per
# image) 1.6/1.4/1.45/1.35/0.83, x1.0 (2 MiB per image) 1.15/0.98/0.76/0.71/0.70.
ONEDNN_MIN_ACTIVATION = 4 * 2**20


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
    :func:`~strongsort_reid.inference.optimize.flush_subnormals`: on a CPU they made the
    trained OSNet ~3x slower), weights and inputs use channels_last layout, and the forward
    runs under ``torch.inference_mode`` in ``dtype`` (float16 or bfloat16 only make sense on
    CUDA, see :func:`half_dtype`). On the CPU the network is also frozen into two TorchScript
    graphs (:func:`~strongsort_reid.inference.optimize.cpu_graph`), each kept only if it
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
