"""Engine-test helpers: a synthetic Market-1501-layout dataset and a tiny model.

The dataset draws each identity as a figure with an identity-specific combination of shirt
colour, trouser colour and shirt pattern, seen by several "cameras" that differ in
background, brightness and position, so appearance must be learned across cameras.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import cv2
import numpy as np
import torch
from torch import nn

from strongsort_reid.data import ImageDataManager
from strongsort_reid.models.common import ReIDModel, init_reid_weights

HEIGHT, WIDTH = 64, 32

# BGR colours distinct enough to stay apart under the cameras' brightness changes.
PALETTE = np.array(
    [
        (40, 40, 200),
        (40, 180, 40),
        (200, 60, 40),
        (40, 200, 220),
        (200, 40, 200),
        (230, 230, 230),
        (30, 30, 30),
        (0, 120, 255),
    ],
    dtype=np.float32,
)
PATTERNS = ("plain", "horizontal", "vertical")


def _identity_attributes(pid: int) -> tuple:
    """A distinct (shirt, trousers, pattern) triple for every pid in [1, 192)."""
    shirt = pid % len(PALETTE)
    trousers = (pid // len(PALETTE) + shirt + 1) % len(PALETTE)
    pattern = (pid // (len(PALETTE) ** 2) + pid) % len(PATTERNS)
    return shirt, trousers, pattern


def draw_person(pid: int, camid: int, rng: np.random.Generator) -> np.ndarray:
    """A ``HEIGHT x WIDTH`` BGR uint8 image of identity ``pid`` seen by camera ``camid``."""
    shirt, trousers, pattern = _identity_attributes(pid)
    background = 90 + 50 * (camid % 3)
    image = np.full((HEIGHT, WIDTH, 3), background, np.float32)
    image += rng.normal(0, 12, size=(1, 1, 3)).astype(np.float32)  # tinted light
    dx, dy = rng.integers(-3, 4, size=2)
    top, left = 4 + dy, 6 + dx
    cv2.circle(image, (int(left + 10), int(top + 5)), 5, (150, 170, 210), -1)  # head
    torso = image[top + 11 : top + 33, left : left + 20]
    torso[:] = PALETTE[shirt]
    if PATTERNS[pattern] == "horizontal":
        torso[::4] = 255 - PALETTE[shirt]
    elif PATTERNS[pattern] == "vertical":
        torso[:, ::4] = 255 - PALETTE[shirt]
    image[top + 33 : top + 56, left + 2 : left + 18] = PALETTE[trousers]
    image *= 0.75 + 0.15 * camid + rng.uniform(-0.05, 0.05)  # camera brightness
    image += rng.normal(0, 8, size=image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def write_market_dataset(
    root: Path,
    train_pids: Sequence[int] = range(1, 17),
    test_pids: Sequence[int] = range(17, 29),
    train_per_camera: int = 4,
    gallery_per_camera: int = 2,
    seed: int = 0,
) -> Path:
    """Write a Market-1501-layout dataset under ``root/market1501`` and return ``root``.

    Train identities are seen by cameras 1 and 2; each test identity has one query from
    camera 1 and ``gallery_per_camera`` gallery images from cameras 2 and 3.
    """
    rng = np.random.default_rng(seed)
    base = root / "market1501"
    frame = 0

    def save(folder: str, pid: int, camid: int) -> None:
        nonlocal frame
        frame += 1
        path = base / folder / f"{pid:04d}_c{camid + 1}s1_{frame:06d}_00.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(path), draw_person(pid, camid, rng))

    for pid in train_pids:
        for camid in (0, 1):
            for _ in range(train_per_camera):
                save("bounding_box_train", pid, camid)
    for pid in test_pids:
        save("query", pid, 0)
        for camid in (1, 2):
            for _ in range(gallery_per_camera):
                save("bounding_box_test", pid, camid)
    return root


class TinyReIDNet(ReIDModel):
    """Three stride-2 conv blocks, global pooling and a 64-d embedding (fast on a CPU)."""

    def __init__(self, num_classes: int, loss: str = "softmax") -> None:
        super().__init__(num_classes, loss)
        layers = []
        channels = 3
        for width in (16, 32, 64):
            layers += [
                nn.Conv2d(channels, width, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            channels = width
        self.backbone = nn.Sequential(*layers)
        self._build_head(channels, fc_dims=[64])
        init_reid_weights(self)

    def featuremaps(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W) -> (B, 64, H / 8, W / 8)``."""
        return self.backbone(x)


def make_datamanager(root: Path, **kwargs) -> ImageDataManager:
    """An ``ImageDataManager`` over the synthetic dataset at its native size, no workers."""
    options = dict(
        root=str(root),
        sources="market1501",
        height=HEIGHT,
        width=WIDTH,
        workers=0,
        batch_size_train=32,
        batch_size_test=64,
        train_sampler="RandomIdentitySampler",
        num_instances=4,
        seed=0,
        verbose=False,
    )
    options.update(kwargs)
    return ImageDataManager(**options)
