"""Helpers of the hostile ReID tests: a tiny folder dataset, fast recipe overrides, bad weights.

Nothing here downloads anything or writes outside the folders it is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import List

import cv2
import numpy as np
import torch

from strongsort_reid.weights import BUNDLED_DIR

BUNDLED_OSNET = BUNDLED_DIR / "osnet_x0_25_msmt17.pth"


def write_folder_dataset(root: Path, identities: int = 4, images: int = 4) -> Path:
    """``root/<person>/<image>.jpg``: ``identities`` folders of ``images`` 32x16 BGR crops,
    each identity a distinct grey level (the ``folder`` dataset layout); returns ``root``."""
    rng = np.random.default_rng(0)
    for pid in range(identities):
        folder = root / f"person{pid}"
        folder.mkdir(parents=True, exist_ok=True)
        for index in range(images):
            noise = rng.integers(0, 20, (32, 16, 3), dtype=np.uint8)
            cv2.imwrite(str(folder / f"{index:02d}.jpg"), noise + np.uint8(40 * pid + 20))
    return root


def fast_overrides(data_root: Path, save_dir: Path, test_ratio: float) -> List[str]:
    """Recipe overrides that train osnet_x0_25 for one epoch on the CPU in about a second."""
    return [
        "model.name=osnet_x0_25",
        "model.pretrained=false",
        f"data.root={data_root}",
        "data.sources=[folder]",
        f"data.dataset_kwargs.folder.test_ratio={test_ratio}",
        "data.height=32",
        "data.width=16",
        "data.workers=0",
        "train.max_epoch=1",
        "train.batch_size=4",
        "train.print_freq=1",
        "use_gpu=false",
        f"save_dir={save_dir}",
    ]


def poisoned_copy(path: Path, key: str, value: float) -> Path:
    """Write ``path``: the bundled osnet_x0_25_msmt17 weights with tensor ``key`` filled with
    ``value`` (NaN or inf), as a diverged training run leaves them."""
    state = torch.load(BUNDLED_OSNET, map_location="cpu", weights_only=True)
    state[key] = torch.full_like(state[key], value)
    torch.save(state, path)
    return path
