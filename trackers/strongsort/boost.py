"""Detection-confidence boosting (BoostTrack's DLO boost) from the tracks' predicted boxes.

A detector scores an occluded or blurred person low, and a tracker that drops every box below
``min_conf`` loses that person exactly where it is hardest to follow. BoostTrack (Stanojevic
and Todorovic, 2024) raises the confidence of a detection that a track predicts well:

    c'_i = max(c_i, beta * max_j IoU(D_i, T_j))

where ``T_j`` are the boxes the confirmed tracks predict for this frame. With ``min_conf = 0.6``
and ``beta = 0.9`` a box needs an IoU of at least 0.67 with a predicted track box to be kept.
Boxes below ``boost_min_conf`` are never boosted.
"""

from __future__ import annotations

import numpy as np

from .iou_matching import iou_matrix
from .track import xyah_to_xyxy


def predicted_boxes(mean: np.ndarray) -> np.ndarray:
    """``(T, 4)`` ``x1, y1, x2, y2`` boxes one constant-velocity step ahead of ``(T, 8)`` means.

    The same box as :meth:`KalmanFilterXYAH.predict` gives (the mean's prediction does not
    depend on the covariance), before camera motion compensation.
    """
    return xyah_to_xyxy(mean[:, :4] + mean[:, 4:8])


def boost_confidence(
    boxes: np.ndarray,
    conf: np.ndarray,
    track_boxes: np.ndarray,
    beta: float,
    floor: float,
) -> np.ndarray:
    """BoostTrack's detection-confidence boost.

    Args:
        boxes: ``(N, 4)`` detections ``x1, y1, x2, y2``.
        conf: ``(N,)`` their confidences.
        track_boxes: ``(T, 4)`` boxes predicted by the confirmed tracks.
        beta: Boost coefficient.
        floor: Detections below this confidence keep it.

    Returns:
        ``(N,)`` float64 confidences ``max(conf, beta * max IoU)`` (``conf`` where ``< floor``
        or where there is no track).
    """
    conf = np.asarray(conf, dtype=np.float64)
    candidates = np.flatnonzero(conf >= floor)
    if candidates.size == 0 or track_boxes.shape[0] == 0:
        return conf
    boosted = conf.copy()
    best = iou_matrix(boxes[candidates], track_boxes).max(axis=1)
    boosted[candidates] = np.maximum(conf[candidates], beta * best)
    return boosted
