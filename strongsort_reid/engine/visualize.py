"""Visual checks of a ReID model: ranked-retrieval grids and activation-map overlays.

* :func:`visualize_ranked_results`: one image per query, the query then its top-k gallery
  matches, each match framed green (same identity) or red (another identity).
* :func:`compute_activation_maps` / :func:`overlay_activation_map` /
  :func:`save_activation_maps`: where the network looks. The map of an image is the channel
  sum of squares of the last feature maps (Zagoruyko & Komodakis, "Paying More Attention to
  Attention", ICLR 2017), upsampled to the input and scaled to ``[0, 1]``.

Images are written as BGR JPEGs with OpenCV.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Iterable, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from strongsort_reid.models.registry import IMAGENET_MEAN, IMAGENET_STD

__all__ = [
    "compute_activation_maps",
    "overlay_activation_map",
    "save_activation_maps",
    "visualize_ranked_results",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

GREEN = (0, 255, 0)  # BGR
RED = (0, 0, 255)
BLACK = (0, 0, 0)
BORDER = 10  # frame width around every tile, in pixels
GAP = 10  # space between gallery tiles
QUERY_GAP = 90  # extra space between the query and its matches
ALPHA = 0.7  # weight of the heat map in an overlay (0.3 for the image)


def _load_tile(path: str, width: int, height: int, colour: Tuple[int, int, int]) -> np.ndarray:
    """``path`` resized to ``height x width`` inside a ``BORDER``-wide frame of ``colour``."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        logger.warning("cannot read %s: drawn as a grey tile", path)
        image = np.full((height, width, 3), 128, np.uint8)
    image = cv2.resize(image, (width, height))
    return cv2.copyMakeBorder(image, *([BORDER] * 4), cv2.BORDER_CONSTANT, value=colour)


def visualize_ranked_results(
    distmat: Union[np.ndarray, torch.Tensor],
    dataset: Tuple[Sequence[Sequence], Sequence[Sequence]],
    data_type: str = "image",
    width: int = 128,
    height: int = 256,
    save_dir: PathLike = "",
    topk: int = 10,
) -> List[Path]:
    """Write one grid per query: the query (black frame) and its ``topk`` best matches.

    Gallery images of the query's identity *and* camera are skipped, as the evaluation
    protocol does (they are trivial matches).

    Args:
        distmat: ``(num_query, num_gallery)`` distances, smaller = more similar.
        dataset: ``(query, gallery)``, each a sequence of ``(img_path, pid, camid, ...)``.
        data_type: Only ``"image"`` is supported.
        width: Tile width in pixels.
        height: Tile height in pixels.
        save_dir: Output folder (created).
        topk: Matches shown per query.

    Returns:
        The written files, ``<save_dir>/<query index>_<query file stem>.jpg`` in query order.

    Raises:
        ValueError: unsupported ``data_type``, ``topk < 1``, or sizes that do not match.
    """
    if data_type != "image":
        raise ValueError(f"data_type must be 'image', got {data_type!r}")
    if topk < 1:
        raise ValueError(f"topk must be >= 1, got {topk}")
    distmat = distmat.cpu().numpy() if isinstance(distmat, torch.Tensor) else np.asarray(distmat)
    query, gallery = dataset
    if distmat.shape != (len(query), len(gallery)):
        raise ValueError(
            f"distmat has shape {distmat.shape} but there are {len(query)} queries and "
            f"{len(gallery)} gallery images"
        )
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    q_pids = np.array([item[1] for item in query])
    q_camids = np.array([item[2] for item in query])
    g_pids = np.array([item[1] for item in gallery])
    g_camids = np.array([item[2] for item in gallery])

    order = np.argsort(distmat, axis=1, kind="stable")
    junk = (g_pids[order] == q_pids[:, None]) & (g_camids[order] == q_camids[:, None])
    tile_w, tile_h = width + 2 * BORDER, height + 2 * BORDER
    canvas_w = tile_w * (topk + 1) + GAP * (topk - 1) + QUERY_GAP
    written = []
    for q_idx, (q_item, q_order, q_junk) in enumerate(zip(query, order, junk)):
        ranked = q_order[~q_junk][:topk]
        canvas = np.full((tile_h, canvas_w, 3), 255, np.uint8)
        canvas[:, :tile_w] = _load_tile(q_item[0], width, height, BLACK)
        for rank, g_idx in enumerate(ranked):
            colour = GREEN if g_pids[g_idx] == q_pids[q_idx] else RED
            left = tile_w + QUERY_GAP + rank * (tile_w + GAP)
            canvas[:, left : left + tile_w] = _load_tile(gallery[g_idx][0], width, height, colour)
        path = save_dir / f"{q_idx:05d}_{Path(str(q_item[0])).stem}.jpg"
        if not cv2.imwrite(str(path), canvas):
            raise OSError(f"cannot write {path}")
        written.append(path)
    logger.info("Ranked results of %d queries written to %s", len(written), save_dir)
    return written


@torch.no_grad()
def compute_activation_maps(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    """Activation maps of a batch, upsampled to the input size.

    Args:
        model: A ReID model accepting ``return_featuremaps=True`` (put in eval mode here).
        images: ``(B, 3, H, W)`` normalised float images on the model's device.

    Returns:
        ``(B, H, W)`` float32 maps on the CPU, each scaled to ``[0, 1]``.
    """
    if images.dim() != 4 or images.shape[1] != 3:
        raise ValueError(f"images must be (B, 3, H, W), got shape {tuple(images.shape)}")
    model.eval()
    maps = model(images, return_featuremaps=True)
    if maps.dim() != 4:
        raise ValueError(f"the model returned {maps.dim()}-D feature maps, expected (B, C, h, w)")
    energy = maps.float().pow(2).sum(dim=1, keepdim=True)
    energy = F.interpolate(energy, size=images.shape[-2:], mode="bilinear", align_corners=False)
    energy = energy.squeeze(1)
    low = energy.flatten(1).min(dim=1).values[:, None, None]
    high = energy.flatten(1).max(dim=1).values[:, None, None]
    return ((energy - low) / (high - low).clamp(min=1e-12)).cpu()


def overlay_activation_map(
    image_bgr: np.ndarray, activation: np.ndarray, alpha: float = ALPHA
) -> np.ndarray:
    """Blend a JET-coloured activation map over an image.

    Args:
        image_bgr: ``(H, W, 3)`` uint8 BGR image.
        activation: ``(H, W)`` float map in ``[0, 1]``.
        alpha: Weight of the heat map (the image gets ``1 - alpha``).

    Returns:
        ``(H, W, 3)`` uint8 BGR overlay.
    """
    if image_bgr.dtype != np.uint8 or image_bgr.ndim != 3 or image_bgr.shape[2] != 3:
        raise ValueError(
            f"image_bgr must be (H, W, 3) uint8, got {image_bgr.shape} {image_bgr.dtype}"
        )
    if activation.shape != image_bgr.shape[:2]:
        raise ValueError(
            f"activation {activation.shape} must match the image size {image_bgr.shape[:2]}"
        )
    return cv2.addWeighted(image_bgr, 1.0 - alpha, _heat_map(activation), alpha, 0.0)


def _heat_map(activation: np.ndarray) -> np.ndarray:
    """``(H, W)`` map in ``[0, 1]`` -> ``(H, W, 3)`` uint8 BGR JET colours."""
    return cv2.applyColorMap(np.uint8(np.clip(activation, 0, 1) * 255), cv2.COLORMAP_JET)


def _denormalize(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """``(B, 3, H, W)`` normalised RGB tensor -> ``(B, H, W, 3)`` uint8 BGR arrays."""
    mean_t = torch.tensor(mean, dtype=images.dtype).view(1, 3, 1, 1)
    std_t = torch.tensor(std, dtype=images.dtype).view(1, 3, 1, 1)
    rgb = (images.cpu() * std_t + mean_t).clamp(0, 1).mul(255).round().byte()
    return rgb.permute(0, 2, 3, 1).numpy()[..., ::-1]


def save_activation_maps(
    model: nn.Module,
    loader: Iterable[dict],
    save_dir: PathLike,
    mean: Sequence[float] = IMAGENET_MEAN,
    std: Sequence[float] = IMAGENET_STD,
    max_images: Optional[int] = None,
) -> List[Path]:
    """Write ``image | heat map | overlay`` strips for the images of a test loader.

    Args:
        model: The ReID model (its parameters' device is used).
        loader: Batches as dicts with ``'img'`` ``(B, 3, H, W)`` (normalised with
            ``mean``/``std``) and optionally ``'impath'``.
        save_dir: Output folder (created).
        mean: Normalisation mean of the images (RGB).
        std: Normalisation std of the images (RGB).
        max_images: Stop after this many images (``None``: all).

    Returns:
        The written files, ``<save_dir>/<index>_<image stem>.jpg``.
    """
    save_dir = Path(save_dir)
    save_dir.mkdir(parents=True, exist_ok=True)
    device = next(model.parameters()).device
    written: List[Path] = []
    for data in loader:
        images = data["img"]
        maps = compute_activation_maps(model, images.to(device)).numpy()
        originals = _denormalize(images, mean, std)
        paths = data.get("impath", [""] * len(images))
        for original, activation, impath in zip(originals, maps, paths):
            if max_images is not None and len(written) >= max_images:
                return written
            original = np.ascontiguousarray(original)
            spacer = np.full((original.shape[0], GAP, 3), 255, np.uint8)
            overlay = overlay_activation_map(original, activation)
            strip = np.concatenate(
                [original, spacer, _heat_map(activation), spacer, overlay], axis=1
            )
            path = save_dir / f"{len(written):05d}_{Path(str(impath)).stem or 'image'}.jpg"
            if not cv2.imwrite(str(path), strip):
                raise OSError(f"cannot write {path}")
            written.append(path)
    return written
