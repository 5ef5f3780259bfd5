"""Builders of tiny synthetic ReID datasets on disk (a few small JPEGs per layout).

Imported by the tests in this folder (pytest puts the folder on ``sys.path``).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Dict, Iterable

import numpy as np
from PIL import Image


def write_image(path: Path, seed: int = 0, size=(24, 12)) -> Path:
    """Write a small RGB JPEG whose colours depend on ``seed`` (height x width = ``size``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, size=(*size, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path, quality=90)
    return path


def write_images(folder: Path, names: Iterable[str]) -> None:
    """One image per name in ``folder``, seeded by a stable hash of the name."""
    for name in names:
        write_image(folder / name, seed=zlib.crc32(name.encode()))


MARKET_FILES: Dict[str, list] = {
    "bounding_box_train": [
        "0002_c1s1_000451_03.jpg",
        "0002_c2s1_000551_01.jpg",
        "0007_c3s1_000001_01.jpg",
        "0007_c6s2_000002_01.jpg",
        "-1_c1s1_000001_00.jpg",  # junk: always dropped
        "0000_c1s1_000002_00.jpg",  # distractor: gallery only
    ],
    "query": ["0001_c1s1_001051_00.jpg", "0003_c2s1_000301_00.jpg"],
    "bounding_box_test": [
        "0001_c4s1_000151_01.jpg",
        "0003_c5s1_000401_02.jpg",
        "0000_c1s1_000151_01.jpg",
        "-1_c2s1_000201_00.jpg",
    ],
}


def make_market(root: Path, files: Dict[str, list] = MARKET_FILES, subdir: str = "market1501"):
    """Write a Market-1501 layout under ``root / subdir``; returns that folder."""
    data_dir = root / subdir
    for folder, names in files.items():
        (data_dir / folder).mkdir(parents=True, exist_ok=True)
        write_images(data_dir / folder, names)
    return data_dir


def market_grid(num_pids: int, cams: int, per_cam: int, first_pid: int = 1) -> list:
    """Market-style names: ``num_pids`` ids x ``cams`` cameras x ``per_cam`` images."""
    return [
        f"{pid:04d}_c{cam}s1_{index:06d}_00.jpg"
        for pid in range(first_pid, first_pid + num_pids)
        for cam in range(1, cams + 1)
        for index in range(per_cam)
    ]
