"""An appearance-aware offline tracklet linker (training-free).

Tracklet ``j`` may continue tracklet ``i`` when

* time: ``j`` starts after ``i`` ends, at most ``max_gap_s`` seconds later;
* space: ``j``'s first box centre lies within ``h * (0.5 + max_speed * gap_s)`` pixels of
  ``i``'s last box centre (``h``: the larger of the two box heights, ``max_speed`` in box
  heights per second) and the heights differ by at most a factor ``max_scale_change``;
* appearance: the cosine distance between the tracklets' mean embeddings is at most
  ``max_appearance``.

Among the feasible pairs, a global assignment minimises
``appearance distance + motion_weight * motion term``, where the motion term is the distance
of ``j``'s first centre from ``i``'s constant-velocity prediction, divided by the space
gate's radius (so it lies in ``[0, 1]`` for plausible motion). Linked chains take the first
tracklet's id.

Embeddings come from a :class:`DetectionFeatures` source: each result row gets the embedding of
the detection it overlaps most in its frame (the tracker reports Kalman-filtered boxes, not
the detections themselves); rows with no such detection (interpolated ones) have none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from .tracklets import Tracklets, assign_links, check_rows, merge_links


@dataclass
class DetectionFeatures:
    """Detections of a sequence with one embedding each, to look up result rows' appearance.

    Attributes:
        frames: ``(N,)`` int frame number of each detection.
        boxes: ``(N, >=4)`` ``x1, y1, x2, y2`` pixels (more columns are ignored).
        embeddings: ``(N, D)`` float32 embeddings (normalised here).
    """

    frames: np.ndarray
    boxes: np.ndarray
    embeddings: np.ndarray

    def __post_init__(self):
        self.frames = np.asarray(self.frames, dtype=np.int64).reshape(-1)
        self.boxes = np.asarray(self.boxes, dtype=np.float64)
        self.embeddings = np.asarray(self.embeddings, dtype=np.float32)
        count = self.frames.size
        if self.boxes.shape[:1] != (count,) or self.embeddings.shape[:1] != (count,):
            raise ValueError(
                f"frames {self.frames.shape}, boxes {self.boxes.shape} and embeddings "
                f"{self.embeddings.shape} must have the same number of rows"
            )
        order = np.argsort(self.frames, kind="stable")
        self.frames, self.boxes = self.frames[order], self.boxes[order, :4]
        norms = np.linalg.norm(self.embeddings[order], axis=1, keepdims=True)
        self.embeddings = self.embeddings[order] / np.maximum(norms, 1e-12)

    def for_rows(self, rows: np.ndarray, min_iou: float = 0.5) -> np.ndarray:
        """``(R, D)`` embedding of each result row (``NaN`` rows where no detection of its
        frame overlaps it with IoU ``>= min_iou``; one detection serves at most one row)."""
        rows = check_rows(rows)
        out = np.full((rows.shape[0], self.embeddings.shape[1]), np.nan, dtype=np.float32)
        boxes = np.concatenate([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], axis=1)
        for frame in np.unique(rows[:, 0]).astype(np.int64):
            start, stop = np.searchsorted(self.frames, [frame, frame + 1])
            if start == stop:
                continue
            mine = np.flatnonzero(rows[:, 0] == frame)
            iou = _iou(boxes[mine], self.boxes[start:stop])
            chosen, dets = linear_sum_assignment(-iou)
            keep = iou[chosen, dets] >= min_iou
            out[mine[chosen[keep]]] = self.embeddings[start + dets[keep]]
        return out


def _iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``(A, B)`` IoU of ``x1, y1, x2, y2`` boxes."""
    low = np.maximum(a[:, None, :2], b[None, :, :2])
    high = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(high - low, 0, None), axis=2)
    area = lambda x: np.prod(x[:, 2:] - x[:, :2], axis=1)  # noqa: E731
    return inter / np.maximum(area(a)[:, None] + area(b)[None, :] - inter, 1e-12)


def tracklet_appearance(tracklets: Tracklets, embeddings: np.ndarray) -> np.ndarray:
    """``(T, D)`` L2-normalised mean embedding of each tracklet (``NaN`` rows when none of its
    rows has an embedding); ``embeddings`` is ``(R, D)``, row-aligned with the rows."""
    means = np.full((len(tracklets), embeddings.shape[1]), np.nan)
    for t, members in enumerate(tracklets.members):
        known = embeddings[members]
        known = known[np.isfinite(known).all(axis=1)]
        if len(known):
            mean = known.mean(axis=0)
            means[t] = mean / max(np.linalg.norm(mean), 1e-12)
    return means


def _centres(boxes: np.ndarray) -> np.ndarray:
    return boxes[:, :2] + boxes[:, 2:4] / 2


def _end_velocity(rows: np.ndarray, tracklets: Tracklets, frames: int = 10) -> np.ndarray:
    """``(T, 2)`` centre velocity (pixels per frame) over the last ``frames`` rows of each."""
    velocity = np.zeros((len(tracklets), 2))
    for t, members in enumerate(tracklets.members):
        tail = rows[members[-frames:]]
        span = tail[-1, 0] - tail[0, 0]
        if span > 0:
            velocity[t] = (_centres(tail[-1:, 2:6]) - _centres(tail[:1, 2:6]))[0] / span
    return velocity


def link_tracklets(
    rows: np.ndarray,
    embeddings: np.ndarray,
    frame_rate: float = 30.0,
    max_gap_s: float = 5.0,
    max_speed: float = 2.0,
    max_scale_change: float = 1.5,
    max_appearance: float = 0.25,
    motion_weight: float = 0.1,
) -> np.ndarray:
    """Link tracklets by appearance, time and space (see the module docstring).

    Args:
        rows: ``(R, 10)`` result rows.
        embeddings: ``(R, D)`` embedding of each row, ``NaN`` rows where unknown
            (:meth:`DetectionFeatures.for_rows`).
        frame_rate: Frames per second of the sequence.
        max_gap_s: Longest gap (seconds) between a tracklet's end and its successor's start.
        max_speed: Fastest plausible motion, in box heights per second.
        max_scale_change: Largest ratio of the two boxes' heights.
        max_appearance: Largest cosine distance of the mean embeddings.
        motion_weight: Weight of the motion term in the assignment cost.

    Returns:
        ``(R, 10)`` rows, ids merged, sorted by frame then id.
    """
    rows = check_rows(rows)
    embeddings = np.asarray(embeddings, dtype=np.float64)
    if embeddings.ndim != 2 or embeddings.shape[0] != rows.shape[0]:
        raise ValueError(
            f"embeddings must have shape ({rows.shape[0]}, D) to match the rows, "
            f"got {embeddings.shape}"
        )
    if frame_rate <= 0:
        raise ValueError(f"frame_rate must be positive, got {frame_rate}")
    tracklets = Tracklets.from_rows(rows)
    cost = _link_costs(
        rows,
        tracklets,
        embeddings,
        frame_rate,
        max_gap_s,
        max_speed,
        max_scale_change,
        max_appearance,
        motion_weight,
    )
    return merge_links(rows, tracklets, assign_links(cost, np.inf))


def _link_costs(
    rows,
    tracklets,
    embeddings,
    frame_rate,
    max_gap_s,
    max_speed,
    max_scale_change,
    max_appearance,
    motion_weight,
) -> np.ndarray:
    """``(T, T)`` assignment cost of each link, ``inf`` where it is not feasible."""
    gaps = tracklets.gaps()
    feasible = (gaps > 0) & (gaps <= max_gap_s * frame_rate)
    last_h, first_h = tracklets.last_boxes[:, 3], tracklets.first_boxes[:, 3]
    height = np.maximum(last_h[:, None], first_h[None, :])
    ratio = height / np.maximum(np.minimum(last_h[:, None], first_h[None, :]), 1e-6)
    radius = height * (0.5 + max_speed * np.clip(gaps, 0, None) / frame_rate)
    ends, starts = _centres(tracklets.last_boxes), _centres(tracklets.first_boxes)
    jump = np.linalg.norm(starts[None, :, :] - ends[:, None, :], axis=2)
    velocity = _end_velocity(rows, tracklets)
    predicted = ends[:, None, :] + velocity[:, None, :] * gaps[:, :, None]
    miss = np.linalg.norm(starts[None, :, :] - predicted, axis=2)
    appearance = tracklet_appearance(tracklets, embeddings)
    with np.errstate(invalid="ignore"):
        distance = 1.0 - appearance @ appearance.T  # NaN where a tracklet has no embedding
    feasible &= (jump <= radius) & (ratio <= max_scale_change)
    feasible &= np.nan_to_num(distance, nan=np.inf) <= max_appearance
    motion = np.minimum(np.minimum(miss, jump) / np.maximum(radius, 1e-6), 1.0)
    return np.where(feasible, np.nan_to_num(distance) + motion_weight * motion, np.inf)
