"""Train/test transforms: shapes, dtypes, normalisation and the ReID-specific augmentations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from strongsort_reid.data.transforms import (
    AVAILABLE_TRANSFORMS,
    IMAGENET_MEAN,
    IMAGENET_STD,
    Random2DTranslation,
    RandomErasing,
    build_transforms,
)


def _image(height=40, width=20, seed=0):
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def test_output_shapes_and_dtypes_with_every_transform():
    train, test = build_transforms(32, 16, transforms=AVAILABLE_TRANSFORMS)
    torch.manual_seed(0)
    for seed in range(10):
        out = train(_image(seed=seed))
        assert out.shape == (3, 32, 16) and out.dtype == torch.float32
    out = test(_image())
    assert out.shape == (3, 32, 16) and out.dtype == torch.float32


def test_test_transform_is_deterministic_normalisation():
    _, test = build_transforms(8, 4, transforms=None)
    image = Image.new("RGB", (4, 8), (255, 0, 128))
    out = test(image)
    expected = (torch.tensor([255, 0, 128]) / 255.0 - torch.tensor(IMAGENET_MEAN)) / torch.tensor(
        IMAGENET_STD
    )
    assert torch.allclose(out[:, 3, 2], expected, atol=1e-3)
    assert torch.equal(test(image), out)


def test_custom_mean_std_and_string_transform():
    train, test = build_transforms(8, 4, "random_flip", norm_mean=[0.5] * 3, norm_std=[0.5] * 3)
    out = test(Image.new("RGB", (4, 8), (255, 255, 255)))
    assert torch.allclose(out, torch.ones(3, 8, 4))


def test_random_flip_flips_about_half():
    train, _ = build_transforms(4, 4, "random_flip", norm_mean=[0] * 3, norm_std=[1] * 3)
    image = Image.fromarray(np.tile(np.arange(4, dtype=np.uint8)[None, :, None] * 60, (4, 1, 3)))
    torch.manual_seed(1)
    outputs = [train(image) for _ in range(200)]
    flipped = sum(bool(out[0, 0, 0] > out[0, 0, 3]) for out in outputs)
    assert 60 < flipped < 140


def test_random2d_translation_enlarges_then_crops():
    torch.manual_seed(0)
    crop = Random2DTranslation(32, 16, p=1.0)
    image = _image(32, 16)
    outputs = {np.asarray(crop(image)).tobytes() for _ in range(20)}
    assert all(crop(image).size == (16, 32) for _ in range(5))
    assert len(outputs) > 1  # different windows
    assert Random2DTranslation(32, 16, p=0.0)(_image(50, 30)).size == (16, 32)


def test_random_erasing_fills_a_rectangle_with_the_mean():
    torch.manual_seed(0)
    erase = RandomErasing(probability=1.0, mean=(0.25, 0.5, 0.75))
    image = torch.full((3, 64, 32), 9.0)
    out = erase(image.clone())
    erased = out[0] != 9.0
    rows, cols = erased.any(1).nonzero(), erased.any(0).nonzero()
    box = erased[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
    assert box.all()  # one solid rectangle
    area = erased.sum().item() / (64 * 32)
    assert 0.02 * 0.8 <= area <= 0.4 * 1.2
    assert torch.all(out[:, erased] == torch.tensor([0.25, 0.5, 0.75])[:, None])
    assert torch.equal(RandomErasing(probability=0.0)(image.clone()), image)


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown transforms"):
        build_transforms(8, 4, ["random_flip", "random_rotate"])
    with pytest.raises(ValueError, match="height and width"):
        build_transforms(0, 4)
    with pytest.raises(ValueError, match="norm_mean"):
        build_transforms(8, 4, norm_mean=[0.5, 0.5])
    with pytest.raises(ValueError, match="sl"):
        RandomErasing(sl=0.5, sh=0.1)
