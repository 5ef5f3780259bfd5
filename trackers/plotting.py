"""Draw tracker output on a frame: boxes, identities and short trails."""

from __future__ import annotations

from typing import Dict

import cv2
import numpy as np


def id_color(track_id: int) -> tuple:
    """A stable, well-spread BGR colour for an identity (golden-ratio hue steps)."""
    hue = int((track_id * 0.618033988749895 % 1.0) * 179)
    hsv = np.uint8([[[hue, 220, 255]]])
    return tuple(int(c) for c in cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0])


def draw_tracks(
    frame: np.ndarray,
    tracks: np.ndarray,
    trails: Dict[int, np.ndarray],
    thickness: int = 2,
) -> np.ndarray:
    """Return a copy of ``frame`` with tracks drawn on it.

    Args:
        frame: ``uint8 HxWx3`` BGR image (not modified).
        tracks: ``(M, 8)`` rows ``[x1, y1, x2, y2, id, conf, cls, det_index]``; rows with
            ``det_index < 0`` (predicted, no detection) are drawn with thin lines.
        trails: ``{id: (L, 2) centres, oldest first}`` polylines to draw.
        thickness: Line thickness in pixels of associated boxes.
    """
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8 or frame.ndim != 3:
        raise ValueError(f"frame must be a uint8 HxWx3 BGR array, got {_describe(frame)}")
    canvas = frame.copy()
    for track_id, points in trails.items():
        if points.shape[0] > 1:
            cv2.polylines(
                canvas,
                [np.round(points).astype(np.int32)],
                False,
                id_color(track_id),
                1,
                cv2.LINE_AA,
            )
    for row in np.asarray(tracks, dtype=np.float64).reshape(-1, 8):
        x1, y1, x2, y2 = (int(round(v)) for v in row[:4])
        track_id = int(row[4])
        color = id_color(track_id)
        width = thickness if row[7] >= 0 else 1
        cv2.rectangle(canvas, (x1, y1), (x2, y2), color, width)
        label = str(track_id)
        (text_w, text_h), baseline = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.5, 1)
        top = max(y1 - text_h - baseline, 0)
        cv2.rectangle(canvas, (x1, top), (x1 + text_w, top + text_h + baseline), color, -1)
        cv2.putText(
            canvas,
            label,
            (x1, top + text_h),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.5,
            (0, 0, 0),
            1,
            cv2.LINE_AA,
        )
    return canvas


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__
