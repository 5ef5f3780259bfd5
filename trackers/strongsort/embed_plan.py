"""Which detections need a new embedding, and which may reuse their track's (``embed_skip``).

Embedding a crop costs as much as detecting the frame, yet most detections of a frame are the
same person as a track of the previous frame, at the place the Kalman filter predicts, with
nobody near: appearance decides nothing there. Such a detection may take the matched track's
current embedding instead of a new one. A detection ``i`` reuses track ``k`` only when

* ``k`` is *eligible*: confirmed, associated in the previous frame, and last embedded fewer than
  ``embed_skip_refresh`` frames ago (so every track is embedded at least that often);
* ``IoU(i, k) >= embed_skip_iou`` with the box ``k`` predicts for this frame;
* no other track (of any state, eligible or not) overlaps ``i`` with an IoU above
  ``embed_skip_rival_iou``, and no other tracked detection overlaps ``k``'s predicted box above it.

New, tentative, re-appearing (missed last frame) and crowded detections are always embedded. The
plan is a pure function of this frame's boxes and the tracks before the frame, so
:meth:`StrongSORT.select <trackers.StrongSORT.select>` and
:meth:`StrongSORT.update <trackers.StrongSORT.update>` compute the same one.
"""

from __future__ import annotations

import numpy as np

from .iou_matching import iou_matrix


def plan_reuse(
    boxes: np.ndarray,
    track_boxes: np.ndarray,
    eligible: np.ndarray,
    min_iou: float,
    rival_iou: float,
) -> np.ndarray:
    """The track whose embedding each detection may reuse.

    Args:
        boxes: ``(N, 4)`` tracked detections ``x1, y1, x2, y2``.
        track_boxes: ``(T, 4)`` boxes every live track predicts for this frame.
        eligible: ``(T,)`` bool, tracks whose embedding may be reused (see the module).
        min_iou: Smallest IoU between a detection and the track it reuses.
        rival_iou: Any other overlap above this in the detection's row or the track's column
            makes the detection ambiguous (embedded).

    Returns:
        ``(N,)`` int64 track row reused by each detection, -1 where it must be embedded.
    """
    reuse = np.full(boxes.shape[0], -1, dtype=np.int64)
    if boxes.shape[0] == 0 or not eligible.any():
        return reuse
    iou = iou_matrix(boxes, track_boxes)  # (N, T)
    best = iou.argmax(axis=1)
    rows = np.arange(boxes.shape[0])
    best_iou = iou[rows, best]
    rivals = iou > rival_iou
    # Only the pair itself may overlap above rival_iou in its row and in its column.
    alone = (rivals.sum(axis=1) == 1) & (rivals[:, best].sum(axis=0) == 1)
    chosen = eligible[best] & (best_iou >= min_iou) & (best_iou > rival_iou) & alone
    reuse[chosen] = best[chosen]
    return reuse
