"""Image transforms for ReID training and testing, with torchreid's names and semantics.

Training pipeline, in this order (each step only when named in ``transforms``):

1. resize to ``(height, width)`` (always),
2. ``random_flip``: horizontal flip with p = 0.5,
3. ``random_crop``: with p = 0.5 enlarge by 1.125 and crop a random ``height x width`` window,
4. ``color_jitter``: brightness 0.2, contrast 0.15 (torchreid's values),
5. ``random_grayscale``: grayscale (3 equal channels) with p = 0.2,
6. to a float tensor in [0, 1] and normalise with ``norm_mean``/``norm_std`` (always),
7. ``random_erase``: random erasing (Zhong et al., AAAI 2020) with p = 0.5.

Test pipeline: resize, to tensor, normalise. All randomness comes from torch's generator, which
DataLoader seeds per worker, so seeded runs are reproducible.
"""

from __future__ import annotations

import math
from typing import Callable, Optional, Sequence, Tuple, Union

import torch
from PIL import Image
from torchvision import transforms as T

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
AVAILABLE_TRANSFORMS = (
    "random_flip",
    "random_crop",
    "color_jitter",
    "random_erase",
    "random_grayscale",
)


def _uniform(low: float, high: float) -> float:
    return low + (high - low) * torch.rand(()).item()


class Random2DTranslation:
    """With probability ``p``, resize a PIL image to 1.125 x (height, width) and crop a random
    ``height x width`` window; otherwise just resize to (height, width).

    Args:
        height, width: Output size in pixels.
        p: Probability of the enlarge-and-crop branch.
        interpolation: PIL resampling filter.
    """

    def __init__(
        self, height: int, width: int, p: float = 0.5, interpolation: int = Image.BILINEAR
    ):
        self.height = height
        self.width = width
        self.p = p
        self.interpolation = interpolation

    def __call__(self, image: Image.Image) -> Image.Image:
        if torch.rand(()).item() >= self.p:
            return image.resize((self.width, self.height), self.interpolation)
        big_width = int(round(self.width * 1.125))
        big_height = int(round(self.height * 1.125))
        enlarged = image.resize((big_width, big_height), self.interpolation)
        left = int(round(_uniform(0, big_width - self.width)))
        top = int(round(_uniform(0, big_height - self.height)))
        return enlarged.crop((left, top, left + self.width, top + self.height))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(height={self.height}, width={self.width}, p={self.p})"


class RandomErasing:
    """Random erasing (Zhong et al., "Random Erasing Data Augmentation", AAAI 2020).

    With probability ``probability``, pick a rectangle of area ``U(sl, sh)`` x image area and
    aspect ratio ``U(r1, 1/r1)`` that fits inside the image (up to 100 tries) and fill it with
    ``mean``. Applied to the normalised ``(C, H, W)`` tensor with ``mean`` = the normalisation
    mean, exactly as torchreid and the bag-of-tricks baseline do (so published recipes
    reproduce), even though the filled value is then not the mean pixel.

    Args:
        probability: Chance of erasing an image.
        sl, sh: Erased area range as fractions of the image area.
        r1: Smallest aspect ratio (height / width); the largest is ``1 / r1``.
        mean: Per-channel fill values, length C.
    """

    def __init__(
        self,
        probability: float = 0.5,
        sl: float = 0.02,
        sh: float = 0.4,
        r1: float = 0.3,
        mean: Sequence[float] = IMAGENET_MEAN,
    ):
        if not 0 < sl <= sh <= 1 or not 0 < r1 <= 1:
            raise ValueError(f"need 0 < sl <= sh <= 1 and 0 < r1 <= 1, got {sl}, {sh}, {r1}")
        self.probability = probability
        self.sl = sl
        self.sh = sh
        self.r1 = r1
        self.mean = torch.as_tensor(mean, dtype=torch.float32)

    def __call__(self, image: torch.Tensor) -> torch.Tensor:
        """Erase in place and return ``image`` (``(C, H, W)`` float tensor)."""
        if torch.rand(()).item() >= self.probability:
            return image
        _, height, width = image.shape
        for _ in range(100):
            area = _uniform(self.sl, self.sh) * height * width
            aspect = _uniform(self.r1, 1.0 / self.r1)
            box_height = int(round(math.sqrt(area * aspect)))
            box_width = int(round(math.sqrt(area / aspect)))
            if box_height < height and box_width < width:
                top = int(torch.randint(0, height - box_height + 1, ()).item())
                left = int(torch.randint(0, width - box_width + 1, ()).item())
                fill = self.mean.to(image.dtype)[:, None, None]
                image[:, top : top + box_height, left : left + box_width] = fill
                return image
        return image

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(probability={self.probability}, sl={self.sl}, sh={self.sh}, "
            f"r1={self.r1})"
        )


def _parse_names(transforms: Union[str, Sequence[str], None]) -> Tuple[str, ...]:
    if transforms is None:
        return ()
    names = (transforms,) if isinstance(transforms, str) else tuple(transforms)
    unknown = [name for name in names if name not in AVAILABLE_TRANSFORMS]
    if unknown:
        raise ValueError(f"unknown transforms {unknown}; available: {list(AVAILABLE_TRANSFORMS)}")
    return names


def build_transforms(
    height: int,
    width: int,
    transforms: Union[str, Sequence[str], None] = "random_flip",
    norm_mean: Optional[Sequence[float]] = None,
    norm_std: Optional[Sequence[float]] = None,
) -> Tuple[Callable, Callable]:
    """Build the train and test transforms (see the module docstring for the order).

    Args:
        height, width: Network input size in pixels.
        transforms: Augmentation name(s) from :data:`AVAILABLE_TRANSFORMS`, or None for none.
        norm_mean, norm_std: Per-channel RGB normalisation; ImageNet's by default.

    Returns:
        ``(transform_train, transform_test)``: callables mapping an RGB PIL image to a float32
        ``(3, height, width)`` tensor.

    Raises:
        ValueError: Non-positive size, an unknown transform name, or a bad mean/std length.
    """
    if height < 1 or width < 1:
        raise ValueError(f"height and width must be >= 1, got {height}x{width}")
    names = _parse_names(transforms)
    norm_mean = tuple(IMAGENET_MEAN if norm_mean is None else norm_mean)
    norm_std = tuple(IMAGENET_STD if norm_std is None else norm_std)
    if len(norm_mean) != 3 or len(norm_std) != 3 or min(norm_std) <= 0:
        raise ValueError(f"norm_mean/norm_std need 3 values, std > 0: {norm_mean}, {norm_std}")
    normalize = T.Normalize(mean=norm_mean, std=norm_std)

    train = [T.Resize((height, width))]
    if "random_flip" in names:
        train.append(T.RandomHorizontalFlip())
    if "random_crop" in names:
        train.append(Random2DTranslation(height, width))
    if "color_jitter" in names:
        train.append(T.ColorJitter(brightness=0.2, contrast=0.15, saturation=0, hue=0))
    if "random_grayscale" in names:
        train.append(T.RandomGrayscale(p=0.2))
    train += [T.ToTensor(), normalize]
    if "random_erase" in names:
        train.append(RandomErasing(mean=norm_mean))

    test = T.Compose([T.Resize((height, width)), T.ToTensor(), normalize])
    return T.Compose(train), test
