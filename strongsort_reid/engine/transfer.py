"""Two-stepped transfer learning: train only some layers first, then the whole network.

Fine-tuning a pretrained backbone with a freshly initialised classifier is more stable when
the classifier is trained alone for a few epochs (``fixbase_epoch``): the random classifier's
large gradients would otherwise disturb the pretrained features.
"""

from __future__ import annotations

from typing import Collection, Optional, Sequence, Union

from torch import nn

__all__ = ["open_all_layers", "open_specified_layers", "trainable_parameter_names"]


def trainable_parameter_names(model: nn.Module) -> frozenset:
    """Names of the parameters of ``model`` that currently require gradients."""
    return frozenset(name for name, p in model.named_parameters() if p.requires_grad)


def open_all_layers(model: nn.Module, trainable: Optional[Collection[str]] = None) -> None:
    """Put every layer in train mode and let the ``trainable`` parameters learn again.

    Args:
        model: The network.
        trainable: Names of the parameters that may learn (default: all). Parameters that
            are frozen by design (e.g. the BNNeck bias) are left out of it so that opening
            the layers does not unfreeze them.
    """
    model.train()
    for name, param in model.named_parameters():
        param.requires_grad_(trainable is None or name in trainable)


def open_specified_layers(
    model: nn.Module,
    open_layers: Union[str, Sequence[str]],
    trainable: Optional[Collection[str]] = None,
) -> None:
    """Train only the named top-level layers; freeze the rest (weights and BN statistics).

    Args:
        model: The network.
        open_layers: Names of direct children of ``model`` (e.g. ``"classifier"``).
        trainable: As in :func:`open_all_layers`, applied inside the open layers.

    Raises:
        ValueError: a name is not a direct child of ``model``.
    """
    if isinstance(open_layers, str):
        open_layers = [open_layers]
    children = dict(model.named_children())
    unknown = [name for name in open_layers if name not in children]
    if unknown:
        raise ValueError(
            f"open_layers {unknown} are not layers of {type(model).__name__}; "
            f"its layers are {sorted(children)}"
        )
    for child_name, child in children.items():
        is_open = child_name in open_layers
        child.train(is_open)
        for name, param in child.named_parameters(prefix=child_name):
            param.requires_grad_(is_open and (trainable is None or name in trainable))
