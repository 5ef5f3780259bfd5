"""``build_optimizer``: torchreid's optimizer builder, with RAdam and AdamW added."""

from __future__ import annotations

import logging
import warnings
from typing import List, Optional, Sequence, Union

import torch
from torch import nn

__all__ = ["AVAILABLE_OPTIMIZERS", "build_optimizer"]

logger = logging.getLogger(__name__)

AVAILABLE_OPTIMIZERS = ("adam", "amsgrad", "sgd", "rmsprop", "radam", "adamw")


def build_optimizer(
    model: nn.Module,
    optim: str = "adam",
    lr: float = 0.0003,
    weight_decay: float = 5e-04,
    momentum: float = 0.9,
    sgd_dampening: float = 0,
    sgd_nesterov: bool = False,
    rmsprop_alpha: float = 0.99,
    adam_beta1: float = 0.9,
    adam_beta2: float = 0.99,
    staged_lr: bool = False,
    new_layers: Union[str, Sequence[str]] = "",
    base_lr_mult: float = 0.1,
    fused: Optional[bool] = None,
) -> torch.optim.Optimizer:
    """Build an optimizer over a model's parameters.

    Args:
        model: the network (``DataParallel``/``DistributedDataParallel`` wrappers are unwrapped
            when ``staged_lr`` needs the layer names).
        optim: one of ``adam``, ``amsgrad``, ``sgd``, ``rmsprop``, ``radam``, ``adamw``.
        lr: learning rate (of the new layers when ``staged_lr``).
        weight_decay: L2 penalty (decoupled for ``adamw``).
        momentum: momentum of ``sgd`` and ``rmsprop``.
        sgd_dampening: dampening for ``sgd`` momentum.
        sgd_nesterov: Nesterov momentum for ``sgd``.
        rmsprop_alpha: smoothing constant of ``rmsprop``.
        adam_beta1: first-moment decay of the Adam family (``adam``, ``amsgrad``, ``radam``,
            ``adamw``).
        adam_beta2: second-moment decay of the Adam family.
        staged_lr: train pretrained "base" layers with ``lr * base_lr_mult`` and the layers
            named in ``new_layers`` (e.g. the freshly initialised ``classifier``) with ``lr``.
        new_layers: attribute name(s) of the model's top-level children that are new.
        base_lr_mult: learning-rate multiplier of the base layers.
        fused: one fused kernel for all parameters (``adam``, ``amsgrad``, ``adamw``; ``sgd``
            only when ``True``) instead of a Python loop: the same arithmetic, several times
            faster. ``None`` (default): fused where the installed torch has the kernel for the
            parameters' device (CPU: torch >= 2.4), else the loop; ``True`` insists.

    Returns:
        The optimizer. With ``staged_lr`` it has two parameter groups, in torchreid's order:
        ``[base (lr * base_lr_mult), new (lr)]``.

    Raises:
        ValueError: unknown ``optim`` (the message lists the valid names) or a name in
            ``new_layers`` that is not a child of the model.
        TypeError: ``model`` is not an ``nn.Module``.
    """
    if optim not in AVAILABLE_OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optim!r}; valid optimizers: {list(AVAILABLE_OPTIMIZERS)}"
        )
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}")

    if staged_lr:
        param_groups = _staged_param_groups(model, new_layers, lr, base_lr_mult)
    else:
        param_groups = list(model.parameters())
    logger.info("initialising optimizer %s (lr=%g, weight_decay=%g)", optim, lr, weight_decay)

    betas = (adam_beta1, adam_beta2)
    sgd = dict(momentum=momentum, dampening=sgd_dampening, nesterov=sgd_nesterov)
    cls, options = {
        "adam": (torch.optim.Adam, dict(betas=betas)),
        "amsgrad": (torch.optim.Adam, dict(betas=betas, amsgrad=True)),
        "adamw": (torch.optim.AdamW, dict(betas=betas)),
        "sgd": (torch.optim.SGD, sgd),
        "rmsprop": (torch.optim.RMSprop, dict(momentum=momentum, alpha=rmsprop_alpha)),
        "radam": (torch.optim.RAdam, dict(betas=betas)),
    }[optim]
    if optim in ("rmsprop", "radam"):  # no fused kernel
        return cls(param_groups, lr=lr, weight_decay=weight_decay, **options)
    if optim == "sgd":
        # torch's fused SGD fails on a step where some parameters have momentum buffers and
        # others none yet: what the first step after fixbase epochs is. Opt-in only.
        fused = bool(fused)
    return _build_maybe_fused(cls, param_groups, fused, lr=lr, weight_decay=weight_decay, **options)


def _build_maybe_fused(
    cls: type, param_groups: list, fused: Optional[bool], **options
) -> torch.optim.Optimizer:
    """``cls(param_groups, fused=..., **options)``; with ``fused=None`` the fused kernel when
    this torch has it for the parameters (it raises ``RuntimeError`` otherwise), else the loop.
    """
    if fused is not None:
        return cls(param_groups, fused=fused, **options)
    try:
        return cls(param_groups, fused=True, **options)
    except RuntimeError as exc:
        logger.info("fused %s unavailable here (%s); using the per-parameter loop",
                    cls.__name__, exc)
        return cls(param_groups, **options)


def _staged_param_groups(
    model: nn.Module, new_layers: Union[str, Sequence[str]], lr: float, base_lr_mult: float
) -> List[dict]:
    """``[{base params, lr * base_lr_mult}, {new params}]`` split by top-level attribute name."""
    if isinstance(model, (nn.DataParallel, nn.parallel.DistributedDataParallel)):
        model = model.module
    names = [new_layers] if isinstance(new_layers, str) else list(new_layers)
    names = [name for name in names if name]
    if not names:
        warnings.warn(
            "staged_lr is enabled but new_layers is empty: every layer gets the base lr",
            stacklevel=3,
        )
    children = [name for name, _ in model.named_children()]
    unknown = [name for name in names if name not in children]
    if unknown:
        raise ValueError(
            f"new_layers {unknown} are not children of the model; children: {children}"
        )

    base_params, new_params, base_layers = [], [], []
    # named_parameters (not named_children) so parameters held directly by the model count too.
    for name, param in model.named_parameters():
        top = name.split(".", 1)[0]
        if top in names:
            new_params.append(param)
        else:
            base_params.append(param)
            if top not in base_layers:
                base_layers.append(top)
    logger.info(
        "staged lr: base layers (lr*%g): %s; new layers (lr): %s", base_lr_mult, base_layers, names
    )
    return [{"params": base_params, "lr": lr * base_lr_mult}, {"params": new_params}]
