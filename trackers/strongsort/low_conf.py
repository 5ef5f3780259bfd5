"""ByteTrack's second association (BYTE, Zhang et al., ECCV 2022) for ``config.low_conf``.

A detector scores an occluded or blurred person low, and a tracker that drops every box below
``min_conf`` loses that person exactly where it is hardest to follow. BYTE keeps the boxes with
``low_conf <= conf < min_conf`` apart: after the appearance and IoU stages, the confirmed tracks
associated in the previous frame and still unmatched take them by IoU alone. Such a box updates
the track's Kalman state (NSA with its low confidence) but is never embedded, never changes the
track's appearance and never starts a track.
"""

from __future__ import annotations

from typing import NamedTuple, Optional, Tuple

import numpy as np

from .inputs import cap_detections
from .iou_matching import iou_cost
from .linear_assignment import min_cost_matching


class LowDetections(NamedTuple):
    """Detections of the low-confidence stage, ``L`` rows.

    Attributes:
        boxes: ``(L, 4)`` float64 ``x1, y1, x2, y2``.
        conf: ``(L,)`` float64 confidences (below ``config.min_conf``).
        cls: ``(L,)`` float64 classes.
        det_index: ``(L,)`` int64 rows of the caller's detection array.
    """

    boxes: np.ndarray
    conf: np.ndarray
    cls: np.ndarray
    det_index: np.ndarray

    def of_class(self, value: float) -> LowDetections:
        """The rows of class ``value``."""
        return LowDetections(*(array[self.cls == value] for array in self))


def low_detections(
    dets: np.ndarray, untracked: np.ndarray, low_conf: Optional[float]
) -> Optional[LowDetections]:
    """The rows of ``(N, 6)`` ``dets`` for the low-confidence stage.

    Args:
        dets: ``[x1, y1, x2, y2, conf, cls]`` rows of a frame.
        untracked: ``(N,)`` bool, valid rows that the main stages do not track.
        low_conf: Lowest confidence of the stage; ``None``: off.

    Returns:
        Those of the ``untracked`` rows with ``conf >= low_conf`` (at most
        ``MAX_DETECTIONS_PER_FRAME``, the most confident), or ``None`` when off.
    """
    if low_conf is None:
        return None
    rows = np.flatnonzero(cap_detections(dets[:, 4], untracked & (dets[:, 4] >= low_conf)))
    low = dets[rows]
    return LowDetections(low[:, :4], low[:, 4], low[:, 5], rows)


def match_low(
    track_boxes: np.ndarray,
    low: LowDetections,
    max_iou_dist: float,
    height_modulated: bool,
    solver: str,
) -> Tuple[np.ndarray, np.ndarray]:
    """``(track rows (K,), low rows (K,))``: optimal matching of ``(T, 4)`` predicted track
    boxes to the low-confidence boxes with cost ``1 - IoU`` (or HMIoU) up to ``max_iou_dist``."""
    cost = iou_cost(track_boxes, low.boxes, height_modulated)
    rows, dets, _, _ = min_cost_matching(cost, max_iou_dist, solver)
    return rows, dets
