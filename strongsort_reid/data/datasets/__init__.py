"""Image ReID datasets and their name registry (torchreid's ``init_image_dataset`` API)."""

from __future__ import annotations

import inspect
from typing import Any, Dict, List, Optional, Set, Type

from .base import SHARED_OPTIONS, ImageDataset
from .cuhk01 import CUHK01
from .cuhk03 import CUHK03
from .dukemtmcreid import DukeMTMCreID
from .folder import FolderDataset
from .market1501 import Market1501
from .mot import MOTReID
from .msmt17 import MSMT17

_IMAGE_DATASETS: Dict[str, Type[ImageDataset]] = {
    "market1501": Market1501,
    "dukemtmcreid": DukeMTMCreID,
    "msmt17": MSMT17,
    "cuhk01": CUHK01,
    "cuhk03": CUHK03,
    "folder": FolderDataset,
    "mot": MOTReID,
}


def available_image_datasets() -> List[str]:
    """Registered dataset names, sorted."""
    return sorted(_IMAGE_DATASETS)


def register_image_dataset(name: str, dataset: Type[ImageDataset]) -> None:
    """Make ``dataset`` available to ``init_image_dataset`` and ``ImageDataManager`` as ``name``.

    ``dataset`` is constructed as ``dataset(root=..., transform=..., mode=..., combineall=...,
    verbose=..., split_id=..., cuhk03_labeled=..., cuhk03_classic_split=...,
    market1501_500k=..., **dataset_kwargs)``; subclass :class:`ImageDataset`, take ``root`` and
    pass ``**kwargs`` on to ``super().__init__(train, query, gallery, **kwargs)``.

    Raises:
        ValueError: ``name`` is already registered.
        TypeError: ``dataset`` is not an ImageDataset subclass.
    """
    if name in _IMAGE_DATASETS:
        raise ValueError(f"dataset name {name!r} already exists: {available_image_datasets()}")
    if not (isinstance(dataset, type) and issubclass(dataset, ImageDataset)):
        raise TypeError(f"dataset must be an ImageDataset subclass, got {dataset!r}")
    _IMAGE_DATASETS[name] = dataset


def dataset_options(dataset: Type[ImageDataset]) -> Optional[Set[str]]:
    """Keyword options ``dataset(...)`` accepts: its own parameters, and those of the classes
    its ``**kwargs`` reach along the MRO (ImageDataset's and the shared options last).

    Returns:
        The option names, or ``None`` when they cannot be told (a ``**kwargs`` that never
        reaches ImageDataset).
    """
    names: Set[str] = set()
    for klass in dataset.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {
            p.name
            for p in params
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self"
        }
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names
        if klass is ImageDataset:
            # train/query/gallery are filled in by the subclass, not given by users.
            return (names - {"train", "query", "gallery"}) | SHARED_OPTIONS
    return None


def init_image_dataset(name: str, **kwargs: Any) -> ImageDataset:
    """Construct the registered dataset ``name`` with ``kwargs``.

    Raises:
        ValueError: ``name`` is not registered (the message lists the registered names), or
            an option that the dataset does not take (the message lists those it takes).
    """
    if name not in _IMAGE_DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {available_image_datasets()}")
    dataset = _IMAGE_DATASETS[name]
    accepted = dataset_options(dataset)
    unknown = sorted(set(kwargs) - accepted) if accepted is not None else []
    if unknown:
        raise ValueError(
            f"unknown option(s) {unknown} for dataset {name!r}; valid options: "
            f"{', '.join(sorted(accepted))}"
        )
    return dataset(**kwargs)


__all__ = [
    "CUHK01",
    "CUHK03",
    "DukeMTMCreID",
    "FolderDataset",
    "ImageDataset",
    "MOTReID",
    "MSMT17",
    "Market1501",
    "available_image_datasets",
    "dataset_options",
    "init_image_dataset",
    "register_image_dataset",
]
