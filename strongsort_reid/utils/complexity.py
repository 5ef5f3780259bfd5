"""Model size and cost: parameter count and multiply-adds of the feature path.

The FLOP convention is the one torchreid's model zoo reports: multiply-accumulate operations of
convolution and linear layers only (normalisation, activation and pooling are ignored), counted on
one forward pass in eval mode, i.e. the feature-extraction path without the identity classifier.
"""

from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
from torch import nn


def _conv_macs(module: nn.modules.conv._ConvNd, output: torch.Tensor) -> int:
    kernel = 1
    for size in module.kernel_size:
        kernel *= size
    per_output = kernel * (module.in_channels // module.groups)
    return per_output * output.numel()


def _linear_macs(module: nn.Linear, output: torch.Tensor) -> int:
    return module.in_features * output.numel()


def compute_model_complexity(
    model: nn.Module,
    input_size: Sequence[int] = (1, 3, 256, 128),
) -> Tuple[int, int]:
    """Count parameters and multiply-adds of ``model`` for one input of ``input_size``.

    Args:
        model: Any ``nn.Module`` taking an image batch; it is run once in eval mode on zeros
            (its train/eval state is restored afterwards).
        input_size: ``(B, C, H, W)`` of the dummy input; torchreid reports ``(1, 3, 256, 128)``.

    Returns:
        ``(num_params, macs)``: all parameters of the model (classifier included, as torchreid
        counts them), and the multiply-adds of the conv/linear layers that the eval forward pass
        runs (the classifier is not run in eval mode and so not counted).
    """
    if len(input_size) != 4:
        raise ValueError(f"input_size must be (B, C, H, W), got {tuple(input_size)}")
    total = [0]

    def hook(module: nn.Module, _inputs, output: torch.Tensor) -> None:
        if isinstance(module, nn.modules.conv._ConvNd):
            total[0] += _conv_macs(module, output)
        else:
            total[0] += _linear_macs(module, output)

    handles: List[torch.utils.hooks.RemovableHandle] = [
        module.register_forward_hook(hook)
        for module in model.modules()
        if isinstance(module, (nn.modules.conv._ConvNd, nn.Linear))
    ]
    was_training = model.training
    try:
        model.eval()
        device = next(model.parameters()).device
        with torch.inference_mode():
            model(torch.zeros(*input_size, device=device))
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    num_params = sum(parameter.numel() for parameter in model.parameters())
    return num_params, total[0]
