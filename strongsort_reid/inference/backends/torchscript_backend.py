"""The TorchScript backend: a traced module, frozen on the CPU (see :class:`TorchScriptBackend`)."""

from __future__ import annotations

import logging
import os
from typing import Optional, Union

import torch

from strongsort_reid.inference.backends.base import InferenceBackend
from strongsort_reid.inference.compat import quiet_torchscript
from strongsort_reid.inference.metadata import METADATA_KEY, ExportMetadata

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

# The same switch for TorchScript files, whose activations cannot be measured with hooks: the
# image count at which a light ReID network (OSNet x0.25) crosses over.
ONEDNN_MIN_BATCH = 8


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
