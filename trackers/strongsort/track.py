"""Track states and the struct-of-arrays store of all live tracks.

A track is born *tentative*, becomes *confirmed* once it has ``n_init`` hits (its birth counts
as the first), and is *deleted* when a tentative track misses a frame or a confirmed track has
not been updated for more than ``max_age`` frames. Row ``i`` of every array of a
:class:`TrackSet` describes the same track.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class TrackState(IntEnum):
    """Life-cycle state of a track."""

    TENTATIVE = 1
    CONFIRMED = 2
    DELETED = 3


class TrackSet:
    """All live tracks of one tracker as parallel arrays.

    Attributes:
        mean: ``(T, 8)`` float64 Kalman means ``(x, y, a, h, vx, vy, va, vh)``.
        covariance: ``(T, 8, 8)`` float64 Kalman covariances.
        track_id: ``(T,)`` int64 identities (unique per tracker instance, from 1).
        state: ``(T,)`` int8 :class:`TrackState` values.
        hits: ``(T,)`` int64 number of detections associated so far (birth included).
        age: ``(T,)`` int64 frames since birth.
        time_since_update: ``(T,)`` int64 frames since the last associated detection.
        conf: ``(T,)`` float64 confidence of the last associated detection.
        cls: ``(T,)`` float64 class of the last associated detection.
        det_index: ``(T,)`` int64 row of the detection associated in the current frame, -1 if
            none.
        features: ``(T, B, D)`` float32 appearance bank (see :mod:`.appearance`).
        feature_count: ``(T,)`` int64 embeddings stored so far.
        observed: ``(T, 4)`` float64 last associated detection as ``x, y, a, h``.
        reuses: ``(T,)`` int64 consecutive associations with a reused embedding (see
            :mod:`.embed_plan`) since the last new one.
    """

    def __init__(self, budget: int, dim: int):
        self.budget = int(budget)
        self.dim = int(dim)
        self.mean = np.empty((0, 8))
        self.covariance = np.empty((0, 8, 8))
        self.track_id = np.empty(0, dtype=np.int64)
        self.state = np.empty(0, dtype=np.int8)
        self.hits = np.empty(0, dtype=np.int64)
        self.age = np.empty(0, dtype=np.int64)
        self.time_since_update = np.empty(0, dtype=np.int64)
        self.conf = np.empty(0)
        self.cls = np.empty(0)
        self.det_index = np.empty(0, dtype=np.int64)
        self.features = np.empty((0, self.budget, self.dim), dtype=np.float32)
        self.feature_count = np.empty(0, dtype=np.int64)
        self.observed = np.empty((0, 4))
        self.reuses = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return self.track_id.shape[0]

    def append(
        self,
        mean: np.ndarray,
        covariance: np.ndarray,
        track_id: np.ndarray,
        state: np.ndarray,
        conf: np.ndarray,
        cls: np.ndarray,
        det_index: np.ndarray,
        features: np.ndarray,
    ) -> None:
        """Add ``K`` new tracks with one hit each.

        Args:
            mean: ``(K, 8)``; covariance: ``(K, 8, 8)``; track_id, state, conf, cls,
                det_index: ``(K,)``; features: ``(K, D)`` unit embeddings (first bank slot).
        """
        k = track_id.shape[0]
        ones = np.ones(k, dtype=np.int64)
        bank = np.zeros((k, self.budget, self.dim), dtype=np.float32)
        bank[:, 0, :] = features
        self.mean = np.concatenate([self.mean, mean])
        self.covariance = np.concatenate([self.covariance, covariance])
        self.track_id = np.concatenate([self.track_id, track_id])
        self.state = np.concatenate([self.state, state.astype(np.int8)])
        self.hits = np.concatenate([self.hits, ones])
        self.age = np.concatenate([self.age, ones])
        self.time_since_update = np.concatenate([self.time_since_update, ones - 1])
        self.conf = np.concatenate([self.conf, conf])
        self.cls = np.concatenate([self.cls, cls])
        self.det_index = np.concatenate([self.det_index, det_index])
        self.features = np.concatenate([self.features, bank])
        self.feature_count = np.concatenate([self.feature_count, ones])
        self.observed = np.concatenate([self.observed, mean[:, :4]])
        self.reuses = np.concatenate([self.reuses, ones - 1])

    def keep(self, mask: np.ndarray) -> None:
        """Keep only the tracks where the ``(T,)`` boolean ``mask`` is true."""
        for name in (
            "mean",
            "covariance",
            "track_id",
            "state",
            "hits",
            "age",
            "time_since_update",
            "conf",
            "cls",
            "det_index",
            "features",
            "feature_count",
            "observed",
            "reuses",
        ):
            setattr(self, name, getattr(self, name)[mask])

    def boxes_xyxy(self) -> np.ndarray:
        """``(T, 4)`` float64 boxes ``x1, y1, x2, y2`` of the current means."""
        return xyah_to_xyxy(self.mean[:, :4])


def xyxy_to_xyah(boxes: np.ndarray) -> np.ndarray:
    """``(N, 4)`` ``x1, y1, x2, y2`` -> ``(N, 4)`` centre ``x, y``, aspect ``w / h``, height."""
    out = np.empty((boxes.shape[0], 4))
    size = boxes[:, 2:4] - boxes[:, 0:2]
    out[:, 0:2] = boxes[:, 0:2] + size / 2
    out[:, 2] = size[:, 0] / size[:, 1]
    out[:, 3] = size[:, 1]
    return out


def xyah_to_xyxy(boxes: np.ndarray) -> np.ndarray:
    """``(N, 4)`` centre ``x, y``, aspect, height -> ``(N, 4)`` ``x1, y1, x2, y2``."""
    out = np.empty((boxes.shape[0], 4))
    half = np.empty((boxes.shape[0], 2))
    half[:, 1] = boxes[:, 3] / 2
    half[:, 0] = boxes[:, 2] * half[:, 1]
    out[:, 0:2] = boxes[:, 0:2] - half
    out[:, 2:4] = boxes[:, 0:2] + half
    return out


class IdCounter:
    """Hands out track identities 1, 2, 3, ... (shared by the per-class trackers)."""

    def __init__(self) -> None:
        self.next_id = 1

    def take(self, count: int) -> np.ndarray:
        """``(count,)`` int64 fresh identities."""
        ids = np.arange(self.next_id, self.next_id + count, dtype=np.int64)
        self.next_id += count
        return ids
