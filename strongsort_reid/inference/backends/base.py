"""The interface every inference runtime implements.

Every backend takes a normalised ``(N, 3, H, W)`` float tensor (RGB, the output of
:func:`strongsort_reid.inference.preprocess.normalize_batch`) and returns the raw, not yet
L2-normalised ``(N, D)`` float32 features as a torch tensor. Exports with a fixed batch size
are fed in padded chunks of that size, so callers never see the difference.
"""

from __future__ import annotations

from typing import Optional, Tuple

import torch

from strongsort_reid.inference.metadata import ExportMetadata

# The runtimes a network can run on (the ``name`` of each backend class).
RUNTIMES = ("torch", "torchscript", "onnx", "openvino")


class InferenceBackend:
    """Runs a feature network on normalised batches.

    Attributes:
        name: Backend name, one of :data:`RUNTIMES`.
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
