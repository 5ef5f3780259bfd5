"""Intersection over union between two sets of ``x1, y1, x2, y2`` boxes."""

from __future__ import annotations

import numpy as np


def iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise IoU.

    Args:
        boxes_a: ``(T, 4)`` boxes ``x1, y1, x2, y2`` in pixels.
        boxes_b: ``(N, 4)`` boxes in the same format.

    Returns:
        ``(T, N)`` float64 IoU in ``[0, 1]``; 0 for pairs whose union is empty.
    """
    inter_w = np.minimum.outer(boxes_a[:, 2], boxes_b[:, 2])
    inter_w -= np.maximum.outer(boxes_a[:, 0], boxes_b[:, 0])
    inter_h = np.minimum.outer(boxes_a[:, 3], boxes_b[:, 3])
    inter_h -= np.maximum.outer(boxes_a[:, 1], boxes_b[:, 1])
    np.maximum(inter_w, 0.0, out=inter_w)
    np.maximum(inter_h, 0.0, out=inter_h)
    inter = inter_w * inter_h
    area_a = (boxes_a[:, 2] - boxes_a[:, 0]) * (boxes_a[:, 3] - boxes_a[:, 1])
    area_b = (boxes_b[:, 2] - boxes_b[:, 0]) * (boxes_b[:, 3] - boxes_b[:, 1])
    union = np.add.outer(area_a, area_b) - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def height_iou_matrix(boxes_a: np.ndarray, boxes_b: np.ndarray) -> np.ndarray:
    """Pairwise overlap of the vertical extents (Hybrid-SORT's height IoU).

    Args:
        boxes_a: ``(T, 4)`` boxes ``x1, y1, x2, y2``; boxes_b: ``(N, 4)``.

    Returns:
        ``(T, N)`` float64 ``(min(y2) - max(y1)) / (max(y2) - min(y1))`` clipped to ``[0, 1]``.
    """
    inter = np.minimum.outer(boxes_a[:, 3], boxes_b[:, 3])
    inter -= np.maximum.outer(boxes_a[:, 1], boxes_b[:, 1])
    union = np.maximum.outer(boxes_a[:, 3], boxes_b[:, 3])
    union -= np.minimum.outer(boxes_a[:, 1], boxes_b[:, 1])
    np.maximum(inter, 0.0, out=inter)
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def iou_cost(
    boxes_a: np.ndarray, boxes_b: np.ndarray, height_modulated: bool = False
) -> np.ndarray:
    """``1 - IoU``, ``(T, N)``: the cost of DeepSORT's IoU association stage.

    With ``height_modulated``, ``1 - IoU * height IoU`` (Hybrid-SORT's HMIoU).
    """
    iou = iou_matrix(boxes_a, boxes_b)
    if height_modulated:
        iou *= height_iou_matrix(boxes_a, boxes_b)
    return 1.0 - iou
