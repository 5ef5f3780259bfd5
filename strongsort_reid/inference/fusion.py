"""Fold eval-mode BatchNorm layers into the convolution (or linear layer) that feeds them.

In eval mode ``bn(conv(x)) = conv'(x)`` with ``W' = W * g / sqrt(v + eps)`` and
``b' = (b - m) * g / sqrt(v + eps) + beta``: one memory pass less per layer, which is a large
part of the CPU time of small ReID networks. The pairs are found by running the network once
and matching each BatchNorm's input tensor with the output of a preceding layer, so no
architecture-specific code is needed; the folded network is checked against the original
and discarded if it does not reproduce it.
"""

from __future__ import annotations

import copy
import logging
from typing import Dict, List, Tuple

import torch
from torch import nn

logger = logging.getLogger(__name__)

_FOLDABLE = {nn.BatchNorm2d: nn.Conv2d, nn.BatchNorm1d: nn.Linear}


def _find_pairs(
    model: nn.Module, example: torch.Tensor
) -> Tuple[List[Tuple[nn.Module, nn.Module]], torch.Tensor]:
    """``(layer, batchnorm)`` pairs where the BatchNorm consumes exactly the layer's output,
    and the model's output on ``example`` (the reference for the folded model)."""
    # Outputs are kept alive in the dict so that no tensor id is reused during the run.
    producers: Dict[int, Tuple[nn.Module, torch.Tensor]] = {}
    pairs: List[Tuple[nn.Module, nn.Module]] = []

    def record_output(module, _inputs, output):
        producers[id(output)] = (module, output)

    def match_input(module, inputs, _output):
        producer = producers.get(id(inputs[0]))
        if producer is not None and isinstance(producer[0], _FOLDABLE[type(module)]):
            pairs.append((producer[0], module))

    handles = []
    for module in model.modules():
        if type(module) in _FOLDABLE.values():
            handles.append(module.register_forward_hook(record_output))
        elif type(module) in _FOLDABLE and module.track_running_stats:
            handles.append(module.register_forward_hook(match_input))
    try:
        with torch.inference_mode():
            output = model(example)
    finally:
        for handle in handles:
            handle.remove()
    # A layer or BatchNorm used twice (shared weights) cannot be folded safely.
    layers = [layer for layer, _ in pairs]
    norms = [norm for _, norm in pairs]
    unique = [
        (layer, norm)
        for layer, norm in pairs
        if layers.count(layer) == 1 and norms.count(norm) == 1
    ]
    return unique, output


@torch.no_grad()
def _fold(layer: nn.Module, norm: nn.Module) -> None:
    inv_std = torch.rsqrt(norm.running_var + norm.eps)
    scale = inv_std * norm.weight if norm.affine else inv_std
    shift = -norm.running_mean * scale
    if norm.affine:
        shift = shift + norm.bias
    bias = layer.bias if layer.bias is not None else torch.zeros_like(norm.running_mean)
    layer.weight.mul_(scale.view(-1, *([1] * (layer.weight.dim() - 1))))
    layer.bias = nn.Parameter(bias * scale + shift)


def fold_batchnorm(
    model: nn.Module, example: torch.Tensor, rtol: float = 1e-3
) -> Tuple[nn.Module, int]:
    """Return an eval-mode copy of ``model`` with BatchNorms folded into their producers.

    Args:
        model: The network (not modified).
        example: A representative input batch, e.g. ``(2, 3, 256, 128)``.
        rtol: Largest allowed ``max|folded - original| / max|original|`` on ``example``.

    Returns:
        ``(folded_model, number_of_folded_batchnorms)``; when the check fails the unfolded
        eval-mode copy is returned with 0.
    """
    original = copy.deepcopy(model).eval()
    folded = copy.deepcopy(original)
    pairs, expected = _find_pairs(folded, example)
    if not pairs:
        return original, 0
    parents = {
        child: (parent, name)
        for parent in folded.modules()
        for name, child in parent.named_children()
    }
    for layer, norm in pairs:
        _fold(layer, norm)
        parent, name = parents[norm]
        setattr(parent, name, nn.Identity())
    with torch.inference_mode():
        try:
            actual = folded(example)
        except (RuntimeError, AttributeError, TypeError):
            # A forward that uses a BatchNorm's attributes cannot run without it.
            actual = torch.full_like(expected, float("nan"))
        error = (actual - expected).abs().max() / expected.abs().max().clamp_min(1e-12)
    if not error <= rtol:
        logger.warning(
            "BatchNorm folding changed the output of %s (relative error %.2e); running it unfolded",
            type(model).__name__,
            float(error),
        )
        return original, 0
    return folded, len(pairs)
