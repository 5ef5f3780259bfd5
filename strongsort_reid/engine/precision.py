"""Numeric precision and memory layout of training steps (CPU and CUDA speed options).

``resolve_precision(precision, device)`` turns the engine's ``precision`` option into the
autocast dtype: ``"auto"`` is float16 on CUDA (with gradient scaling), bfloat16 on a CPU with
native bfloat16 dot products (AVX512-BF16 or AMX; oneDNN then runs convolutions about twice
as fast, accumulating in float32) and float32 elsewhere, where emulated bfloat16 is slower.
"""

from __future__ import annotations

from typing import Optional

import torch

__all__ = ["PRECISIONS", "cpu_has_native_bf16", "resolve_precision"]

PRECISIONS = ("auto", "fp32", "bf16", "fp16")

_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 dot products in hardware (AVX512-BF16 or AMX-BF16)."""
    get_capabilities = getattr(torch.cpu, "get_capabilities", None)
    if get_capabilities is None or not torch.backends.mkldnn.is_available():
        return False
    capabilities = get_capabilities()
    return bool(capabilities.get("avx512_bf16") or capabilities.get("amx_bf16"))


def resolve_precision(precision: str, device: torch.device) -> Optional[torch.dtype]:
    """The autocast dtype of ``precision`` on ``device``; ``None`` for float32 (no autocast).

    Raises:
        ValueError: ``precision`` is not one of :data:`PRECISIONS`, or ``"fp16"`` on a CPU
            (float16 training needs CUDA's gradient scaling; use ``"bf16"``).
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
    if precision == "auto":
        if device.type == "cuda":
            precision = "fp16"
        else:
            precision = "bf16" if cpu_has_native_bf16() else "fp32"
    if precision == "fp16" and device.type != "cuda":
        raise ValueError("precision='fp16' needs CUDA; on the CPU use 'bf16' or 'fp32'")
    return _DTYPES.get(precision)
