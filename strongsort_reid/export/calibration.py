"""Real person crops for INT8 calibration and for checking a quantised model, cut from MOT
ground truth.

Static quantisation fixes the int8 range of every activation from the values the network
produces on calibration images, so those images must look like what the tracker will feed it:
person crops from real video, not random noise. The crops come from MOTChallenge-layout
sequences (``<root>/<sequence>/gt/gt.txt`` + ``img1/``) through
:class:`~strongsort_reid.data.datasets.mot.MOTReID` (the project's one MOT crop reader, which
caches the crops as JPEG files under ``$STRONGSORT_REID_HOME/mot_reid_crops``).

Identities are split in two with a fixed seed: the crops of one half calibrate, the crops of
the other half are held out to measure how far the int8 features are from the float32 ones, so
the check never sees an image the ranges were fitted on.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from strongsort_reid.data.datasets.mot import MOTReID
from strongsort_reid.inference.preprocess import normalize_batch, read_image, resize_to_rgb

PathLike = Union[str, os.PathLike]


@dataclass(frozen=True)
class CropSplit:
    """Crop files of a calibration source, split by identity.

    Attributes:
        calibration: Crops of the identities used to fit the int8 ranges.
        held_out: Crops of the other identities, for the accuracy check.
    """

    calibration: Tuple[str, ...]
    held_out: Tuple[str, ...]


def mot_crop_split(
    roots: Sequence[PathLike],
    cache_dir: Optional[PathLike] = None,
    seed: int = 0,
) -> CropSplit:
    """Person crops of every sequence under ``roots``, split by identity (half and half).

    Args:
        roots: MOTChallenge folders of sequence folders (e.g. ``.../MOT17/train``); each
            sequence needs ``gt/gt.txt`` and the frames it annotates in ``img1/``.
        cache_dir: Where the crop files are kept (default
            ``$STRONGSORT_REID_HOME/mot_reid_crops``).
        seed: Seed of the identity split.

    Raises:
        ValueError: ``roots`` is empty.
        FileNotFoundError: a root holds no usable sequence (the message shows the layout).
    """
    if isinstance(roots, (str, os.PathLike)):
        roots = [roots]
    if not roots:
        raise ValueError("calib_source needs at least one MOT folder of sequences")
    calibration: List[str] = []
    held_out: List[str] = []
    for root in roots:
        dataset = MOTReID(
            root=str(root),
            cache_dir=None if cache_dir is None else str(cache_dir),
            test_ratio=0.5,
            split_seed=seed,
            verbose=False,
        )
        calibration += [item[0] for item in dataset.train]
        held_out += [item[0] for item in dataset.query + dataset.gallery]
    return CropSplit(tuple(calibration), tuple(held_out))


def sample(paths: Sequence[str], count: int, seed: int = 0) -> List[str]:
    """``count`` of ``paths`` drawn without replacement with ``seed`` (all of them if fewer),
    in a reproducible order."""
    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if len(paths) <= count:
        return list(paths)
    chosen = np.random.default_rng(seed).choice(len(paths), count, replace=False)
    return [paths[i] for i in sorted(chosen)]


def load_crops(
    paths: Sequence[PathLike],
    image_size: Tuple[int, int],
    mean: Sequence[float],
    std: Sequence[float],
) -> np.ndarray:
    """Network input for image files, prepared exactly as the FeatureExtractor prepares crops.

    Returns:
        ``float32 (N, 3, H, W)`` C-contiguous RGB batch ``(pixel / 255 - mean) / std``.
    """
    height, width = image_size
    pixels = np.empty((len(paths), height, width, 3), dtype=np.uint8)
    for slot, path in zip(pixels, paths):
        resize_to_rgb(read_image(path), slot, "bgr")
    batch = normalize_batch(pixels, mean, std, torch.device("cpu"), channels_last=False)
    return np.ascontiguousarray(batch.numpy(), dtype=np.float32)
