"""Image ReID datasets and their name registry (torchreid's ``init_image_dataset`` API)."""

from __future__ import annotations

from typing import Any, Dict, List, Type

from .base import ImageDataset
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


def init_image_dataset(name: str, **kwargs: Any) -> ImageDataset:
    """Construct the registered dataset ``name`` with ``kwargs``.

    Raises:
        ValueError: ``name`` is not registered (the message lists the registered names).
    """
    if name not in _IMAGE_DATASETS:
        raise ValueError(f"unknown dataset {name!r}; available: {available_image_datasets()}")
    return _IMAGE_DATASETS[name](**kwargs)


__all__ = [
    "CUHK03",
    "DukeMTMCreID",
    "FolderDataset",
    "ImageDataset",
    "MOTReID",
    "MSMT17",
    "Market1501",
    "available_image_datasets",
    "init_image_dataset",
    "register_image_dataset",
]
