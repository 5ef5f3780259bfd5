"""Draw tracker output on a frame: boxes, identities and short trails.

Used by the video application and by :meth:`trackers.StrongSORT.plot`; it sits beside the
tracker core rather than inside it because the core does no drawing (and needs no OpenCV
window code), and beside the application rather than inside it because the facade's ``plot``
convenience must not depend on the application.
"""

from __future__ import annotations

from collections import deque
from typing import Deque, Dict

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


class TrackPlotter:
    """Draw tracks with trails: the centre path of each identity over the frames drawn.

    Args:
        trail_length: Frames of history kept: the trail of an identity spans at most this many
            of the last drawn frames, the current one included.
    """

    def __init__(self, trail_length: int):
        # The frames before the current one; the current frame completes the trail.
        self._history: Deque[np.ndarray] = deque(maxlen=max(trail_length - 1, 0))

    def reset(self) -> None:
        """Forget the trails."""
        self._history.clear()

    def draw(self, frame: np.ndarray, tracks: np.ndarray) -> np.ndarray:
        """Remember ``tracks`` and return a copy of ``frame`` with them and their trails drawn.

        Args:
            frame: ``uint8 HxWx3`` BGR image (not modified).
            tracks: ``(M, 8)`` ``[x1, y1, x2, y2, id, conf, cls, det_index]`` of this frame.
        """
        tracks = np.asarray(tracks, dtype=np.float64)
        if tracks.ndim != 2 or tracks.shape[1] != 8:
            raise ValueError(f"tracks must have shape (M, 8), got {tracks.shape}")
        wanted = tracks[:, 4].astype(np.int64)
        past = np.concatenate([np.empty((0, 8)), *self._history, tracks])  # oldest frame first
        past = past[np.isin(past[:, 4].astype(np.int64), wanted)]
        centres = (past[:, 0:2] + past[:, 2:4]) / 2
        trails = {int(i): centres[past[:, 4] == i] for i in wanted}
        canvas = draw_tracks(frame, tracks, trails)
        self._history.append(tracks)  # only once drawn: a rejected frame leaves no trail point
        return canvas


def _describe(value) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape} and dtype {value.dtype}"
    return type(value).__name__
