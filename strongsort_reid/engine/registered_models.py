"""The networks an engine trains, with their optimizers, schedulers and DDP wrappers.

:class:`ModelRegistrationMixin` is the registration half of :class:`~.engine.Engine`
(torchreid's ``register_model`` / ``get_model_names`` / ``set_model_mode`` / ``update_lr``
API): every registered network is trained, saved and, when distributed, wrapped in
``DistributedDataParallel``. The main network is registered as ``"model"``.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence, Union

import torch
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from strongsort_reid.engine.progress import ENGINE_LOGGER
from strongsort_reid.engine.transfer import (
    open_all_layers,
    open_specified_layers,
    trainable_parameter_names,
)

__all__ = ["ModelRegistrationMixin"]

logger = logging.getLogger(ENGINE_LOGGER)


class ModelRegistrationMixin:
    """Registered networks and their optimisation state (a part of the engine).

    The engine sets :attr:`device`, :attr:`use_gpu`, :attr:`channels_last` and
    :attr:`distributed` and calls
    :meth:`_init_registry` in its constructor, before any :meth:`register_model`.
    """

    device: torch.device
    use_gpu: bool
    channels_last: bool
    distributed: bool

    def _init_registry(self) -> None:
        """Create the empty name -> network/optimizer/scheduler tables."""
        self._models: Dict[str, nn.Module] = OrderedDict()
        # What trains: the network itself, or its DDP wrapper when distributed.
        self._train_modules: Dict[str, nn.Module] = OrderedDict()
        self._optims: Dict[str, torch.optim.Optimizer] = OrderedDict()
        self._scheds: Dict[str, Any] = OrderedDict()
        # Parameters that required a gradient when registered (frozen ones stay frozen).
        self._trainable: Dict[str, frozenset] = {}
        # Parameters the current DDP wrapper was built for.
        self._ddp_params: Dict[str, frozenset] = {}

    def register_model(
        self,
        name: str,
        model: nn.Module,
        optim: Optional[torch.optim.Optimizer] = None,
        sched: Optional[Any] = None,
    ) -> None:
        """Give the engine a network (moved to :attr:`device`, and to the channels-last layout
        when :attr:`channels_last`) with its optimizer and scheduler.

        Every registered network is trained, saved under ``save_dir/<name>/`` and, when
        distributed, wrapped in ``DistributedDataParallel``. The main network is ``"model"``.
        """
        if name in self._models:
            raise ValueError(f"a model named {name!r} is already registered")
        model.to(self.device)
        if self.channels_last:
            model.to(memory_format=torch.channels_last)
        self._models[name] = model
        self._trainable[name] = trainable_parameter_names(model)
        self._train_modules[name] = model
        self._refresh_ddp(name)
        if optim is not None:
            self._optims[name] = optim
        if sched is not None:
            self._scheds[name] = sched

    @property
    def model(self) -> nn.Module:
        """The main network as it is trained (DDP-wrapped when distributed)."""
        return self._train_modules["model"]

    @property
    def optimizer(self) -> Optional[torch.optim.Optimizer]:
        """The main network's optimizer."""
        return self._optims.get("model")

    @property
    def scheduler(self) -> Optional[Any]:
        """The main network's learning-rate scheduler."""
        return self._scheds.get("model")

    def get_model(self, name: str = "model") -> nn.Module:
        """The registered network ``name`` itself (never a DDP wrapper)."""
        return self._models[self.get_model_names(name)[0]]

    def get_optimizer(self, name: str = "model") -> Optional[torch.optim.Optimizer]:
        """The optimizer registered with ``name`` (``None`` if it has none)."""
        return self._optims.get(self.get_model_names(name)[0])

    def get_model_names(self, names: Optional[Sequence[str]] = None) -> List[str]:
        """The registered names, or ``names`` after checking that each is registered."""
        if names is None:
            return list(self._models)
        names = [names] if isinstance(names, str) else list(names)
        unknown = [n for n in names if n not in self._models]
        if unknown:
            raise ValueError(f"unknown model names {unknown}; registered: {list(self._models)}")
        return names

    def set_model_mode(self, mode: str = "train", names: Optional[Sequence[str]] = None) -> None:
        """Put the registered networks in ``"train"`` or ``"eval"`` mode."""
        if mode not in ("train", "eval"):
            raise ValueError(f"mode must be 'train' or 'eval', got {mode!r}")
        for name in self.get_model_names(names):
            self._models[name].train(mode == "train")

    def get_current_lr(self, name: str = "model") -> float:
        """Learning rate of the first parameter group of ``name``'s optimizer."""
        return float(self._optims[name].param_groups[0]["lr"])

    def update_lr(self, names: Optional[Sequence[str]] = None) -> None:
        """Advance the learning-rate schedulers by one epoch."""
        for name in self.get_model_names(names):
            if name in self._scheds:
                self._scheds[name].step()

    def two_stepped_transfer_learning(
        self,
        epoch: int,
        fixbase_epoch: int,
        open_layers: Optional[Union[str, Sequence[str]]],
        name: str = "model",
    ) -> None:
        """Train only ``open_layers`` of ``name`` while ``epoch < fixbase_epoch``, then all."""
        model = self._models[name]
        if open_layers and epoch < fixbase_epoch:
            logger.info(
                "* Only train %s (epoch %d/%d of the fixed base)", open_layers, epoch + 1,
                fixbase_epoch,
            )
            open_specified_layers(model, open_layers, self._trainable[name])
        else:
            open_all_layers(model, self._trainable[name])
        self._refresh_ddp(name)

    def _refresh_ddp(self, name: str) -> None:
        """(Re)wrap ``name`` in DDP when its set of trainable parameters changed.

        DDP waits for a gradient of every parameter that required one when it was built, so
        freezing layers (``fixbase_epoch``) needs a wrapper built for the new set.
        """
        model = self._models[name]
        params = trainable_parameter_names(model)
        if not self.distributed or not params or self._ddp_params.get(name) == params:
            return
        device_ids = [self.device.index] if self.use_gpu else None
        self._train_modules[name] = DistributedDataParallel(model, device_ids=device_ids)
        self._ddp_params[name] = params
