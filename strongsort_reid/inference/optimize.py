"""Rewrites that make a feature network fast on a CPU without changing its output.

Measured on OSNet x0.25 (2 cores, AVX-512; ``scripts/bench_extractor.py``), each on top of
BatchNorm folding (:mod:`strongsort_reid.inference.fusion`) and channels_last:

* :func:`flush_subnormals` -- trained checkpoints hold weights below float32's normal range
  (about 600 in the MSMT17 OSNet: dead channels that weight decay pushed towards zero). x86
  CPUs compute with such *subnormal* numbers in microcode, 10-100x slower than normal
  floats, and they spread into the activations: the trained network ran about 3x slower
  than the same architecture with random weights. Setting them to zero changes every
  output by less than 1e-37 and needs no global floating-point mode (the alternative,
  ``torch.set_flush_denormal``, would change the numerics of the whole process).
* :func:`pointwise_convs_as_linear` -- oneDNN's 1x1 convolution has a large fixed cost on
  the tiny channel counts of light ReID networks (16-32 channels); on a channels_last
  tensor the same operation is one matrix multiplication over ``N*H*W`` rows. About 1.2x
  over oneDNN for the whole OSNet x0.25 at batch 1.
* :func:`cpu_graph` -- tracing and freezing removes the Python overhead of ~400 module
  calls per forward (about 1.3x at batch 1). Its ``onednn=True`` flavour
  (``torch.jit.optimize_for_inference``: prepacked oneDNN convolutions fused with ReLU and
  additions) wins on large chunks (model alone, x0.25 batch 32: 1.2x the matmul graph;
  x1.0 batch 8: 1.2x) but loses on small ones (x0.25 batch 1: 0.5x) because of the layout
  conversions around every non-convolution op; the torch backend therefore holds both.
  Not used: the oneDNN Graph fuser (``torch.jit.enable_onednn_fusion``), another 1.1-1.5x
  at a fixed batch size but it compiles for every new input shape (0.5-1 s each), and a
  tracker's batch size changes every frame.
"""

from __future__ import annotations

import copy
import logging
from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

from strongsort_reid.inference.compat import quiet_torchscript

logger = logging.getLogger(__name__)


@torch.no_grad()
def flush_subnormals(module: nn.Module) -> int:
    """Set the subnormal values of ``module``'s floating-point parameters and buffers to 0.

    A value is subnormal when it is non-zero with magnitude below ``torch.finfo(dtype).tiny``
    (``1.18e-38`` for float32). The module is modified in place.

    Returns:
        The number of values set to zero.
    """
    count = 0
    for tensor in [*module.parameters(), *module.buffers()]:
        if not tensor.is_floating_point():
            continue
        subnormal = (tensor != 0) & (tensor.abs() < torch.finfo(tensor.dtype).tiny)
        found = int(subnormal.sum())
        if found:
            tensor.masked_fill_(subnormal, 0.0)
            count += found
    return count


class PointwiseLinear(nn.Module):
    """A stride-1, ungrouped 1x1 convolution computed as a matrix multiplication.

    ``(N, C_in, H, W) -> (N, C_out, H, W)``; fastest (and the output is channels_last) when
    the input is channels_last, where the permuted view is a plain ``(N, H, W, C_in)``
    row-major matrix.

    Args:
        conv: The ``nn.Conv2d`` to replace (its weight and bias are copied).
    """

    def __init__(self, conv: nn.Conv2d) -> None:
        super().__init__()
        self.in_channels = conv.in_channels
        self.out_channels = conv.out_channels
        self.weight = nn.Parameter(conv.weight.detach().flatten(1).clone())
        bias = conv.bias.detach().clone() if conv.bias is not None else None
        self.bias = nn.Parameter(bias) if bias is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.linear(x.permute(0, 2, 3, 1), self.weight, self.bias).permute(0, 3, 1, 2)


def _is_pointwise(module: nn.Module) -> bool:
    return (
        type(module) is nn.Conv2d
        and module.kernel_size == (1, 1)
        and module.stride == (1, 1)
        and module.padding == (0, 0)
        and module.dilation == (1, 1)
        and module.groups == 1
    )


def pointwise_convs_as_linear(module: nn.Module) -> int:
    """Replace, in place, every stride-1 ungrouped 1x1 ``nn.Conv2d`` by :class:`PointwiseLinear`.

    Returns:
        The number of replaced convolutions.
    """
    count = 0
    for parent in list(module.modules()):
        for name, child in list(parent.named_children()):
            if _is_pointwise(child):
                setattr(parent, name, PointwiseLinear(child))
                count += 1
    return count


def _relative_error(actual: torch.Tensor, expected: torch.Tensor) -> float:
    scale = expected.abs().max().clamp_min(1e-12)
    return float((actual.float() - expected.float()).abs().max() / scale)


def cpu_graph(
    model: nn.Module, example: torch.Tensor, onednn: bool = False, rtol: float = 1e-3
) -> Optional[torch.jit.ScriptModule]:
    """A frozen TorchScript graph of ``model`` for CPU inference on channels_last input.

    Two flavours (see the module notes for when each is faster):

    * ``onednn=False``: 1x1 convolutions become matrix products
      (:func:`pointwise_convs_as_linear`), the rest runs as in eager mode.
    * ``onednn=True``: ``torch.jit.optimize_for_inference``: convolutions with prepacked
      oneDNN weights, fused with the following ReLU / addition.

    ``model`` (eval mode, float32, on the CPU) is not modified. It is traced on
    ``example[:1]`` and frozen; the graph must reproduce ``model`` on the whole ``example``
    (so another batch size than the traced one is part of the check) with relative error
    at most ``rtol``.

    Args:
        model: The network, typically BatchNorm-folded and with subnormals flushed.
        example: ``(B, 3, H, W)`` float input, ``B >= 2`` recommended.
        onednn: Which flavour.
        rtol: Largest allowed ``max|graph - model| / max|model|``.

    Returns:
        The graph, or ``None`` (keep running eagerly) when tracing fails or the graph does
        not reproduce the model.
    """
    example = example.contiguous(memory_format=torch.channels_last)
    rewritten = copy.deepcopy(model).eval()
    if not onednn:
        pointwise_convs_as_linear(rewritten)
    rewritten = rewritten.to(memory_format=torch.channels_last)
    name = type(model).__name__
    try:
        with quiet_torchscript(), torch.no_grad():
            graph = torch.jit.freeze(torch.jit.trace(rewritten, example[:1], check_trace=False))
            if onednn:
                graph = torch.jit.optimize_for_inference(graph)
            expected = model(example)
            # The profiling executor specialises the graph during the first calls.
            for _ in range(2):
                actual = graph(example)
    except (AttributeError, RuntimeError, TypeError) as exc:
        logger.info("no CPU graph (onednn=%s) for %s: %s", onednn, name, exc)
        return None
    error = _relative_error(actual, expected)
    if not error <= rtol:
        logger.info("no CPU graph (onednn=%s) for %s: differs by %.2e", onednn, name, error)
        return None
    return graph
