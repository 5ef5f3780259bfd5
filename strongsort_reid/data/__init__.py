"""ReID training data: datasets, transforms, samplers and ImageDataManager (torchreid API)."""

from .datamanager import ImageDataManager
from .datasets import (
    ImageDataset,
    available_image_datasets,
    init_image_dataset,
    register_image_dataset,
)
from .samplers import RandomIdentitySampler, RandomSampler, build_train_sampler
from .transforms import build_transforms

__all__ = [
    "ImageDataManager",
    "ImageDataset",
    "RandomIdentitySampler",
    "RandomSampler",
    "available_image_datasets",
    "build_train_sampler",
    "build_transforms",
    "init_image_dataset",
    "register_image_dataset",
]
