"""Re-entry gallery: deleted tracks that a returning person can take back by appearance.

A confirmed track that misses more than ``max_age`` frames leaves the active set, as in
StrongSORT, but with ``reentry_max_age > 0`` its identity, appearance bank, last observed box
and class stay in a :class:`ReentryGallery` for up to ``reentry_max_age`` frames after its last
detection. When a new track is confirmed, it is matched against the gallery by one global
assignment on the cosine distance (accepted up to ``reentry_max_cos_dist``), with pairs outside
a plausibility gate forbidden:

* space: the new box centre is at most ``(1 + reentry_max_speed * gap) * h`` pixels from the
  last observed centre, ``h`` the last observed height and ``gap`` the frames in between;
* size: the two heights differ by a factor of at most ``reentry_max_scale``;
* class: the same class.

A matched new track takes the old identity (and appearance), and the gallery entry is removed,
so an identity is never held by two tracks. The gallery holds at most ``reentry_gallery_size``
tracks (the longest unseen are evicted first), so memory stays bounded on endless streams:
``size * (budget * D * 4 + 64)`` bytes at most.
"""

from __future__ import annotations

import numpy as np

from .appearance import cosine_distance
from .linear_assignment import INFTY_COST, min_cost_matching

_EMPTY = np.empty(0, dtype=np.int64)


class ReentryGallery:
    """Bounded store of deleted confirmed tracks, as parallel arrays (row ``i`` = one track).

    Args:
        capacity: Most tracks kept.
        budget: Embeddings per track bank (``B``, as in :class:`~.track.TrackSet`).
        dim: Embedding dimension ``D``.

    Rows are kept in the order the tracks were deleted. A confirmed track is deleted exactly
    ``max_age + 1`` frames after its last detection, so ``last_frame`` never decreases along
    the rows: the first row is the longest unseen.

    Attributes:
        track_id: ``(G,)`` int64 identities.
        features: ``(G, B, D)`` float32 appearance banks; feature_count: ``(G,)`` int64.
        observed: ``(G, 4)`` float64 last observed ``x, y, a, h`` box.
        last_frame: ``(G,)`` int64 frame of the last detection.
        cls: ``(G,)`` float64 class.
    """

    def __init__(self, capacity: int, budget: int, dim: int):
        self.capacity = int(capacity)
        self.track_id = np.empty(0, dtype=np.int64)
        self.features = np.empty((0, budget, dim), dtype=np.float32)
        self.feature_count = np.empty(0, dtype=np.int64)
        self.observed = np.empty((0, 4))
        self.last_frame = np.empty(0, dtype=np.int64)
        self.cls = np.empty(0)

    def __len__(self) -> int:
        return self.track_id.shape[0]

    @property
    def nbytes(self) -> int:
        """Bytes held by the gallery's arrays."""
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))

    def add(self, tracks, rows: np.ndarray, frame: int) -> None:
        """Store rows ``(K,)`` of a :class:`~.track.TrackSet` that are being deleted at ``frame``
        (all missed for the same ``max_age + 1`` frames), evicting the longest-unseen entries
        beyond the capacity."""
        self.track_id = np.concatenate([self.track_id, tracks.track_id[rows]])
        self.features = np.concatenate([self.features, tracks.features[rows]])
        self.feature_count = np.concatenate([self.feature_count, tracks.feature_count[rows]])
        self.observed = np.concatenate([self.observed, tracks.observed[rows]])
        self.last_frame = np.concatenate([self.last_frame, frame - tracks.time_since_update[rows]])
        self.cls = np.concatenate([self.cls, tracks.cls[rows]])
        if len(self) > self.capacity:
            self._keep(slice(len(self) - self.capacity, None))

    def expire(self, frame: int, max_age: int) -> None:
        """Drop the entries last seen more than ``max_age`` frames before ``frame``."""
        if len(self) and frame - self.last_frame[0] > max_age:  # the first row is the oldest
            self._keep(slice(int(np.searchsorted(self.last_frame, frame - max_age)), None))

    def match(self, features, observed, cls, frame, config):
        """Re-identify new tracks against the gallery.

        Args:
            features: ``(K, D)`` float32 unit embeddings of the new tracks.
            observed: ``(K, 4)`` their observed ``x, y, a, h`` boxes.
            cls: ``(K,)`` their classes.
            frame: The current frame number.
            config: A :class:`~.config.StrongSORTConfig` (the ``reentry_*`` parameters).

        Returns:
            ``(query_rows (M,), gallery_rows (M,))`` int64 matched pairs.
        """
        cost = cosine_distance(self.features, self.feature_count, features).T  # (K, G)
        # The gate is evaluated only on the pairs that look alike: usually none or a few.
        query, entry = (cost <= config.reentry_max_cos_dist).nonzero()
        if query.size == 0:
            return _EMPTY, _EMPTY
        height = self.observed[entry, 3]
        reach = (1.0 + config.reentry_max_speed * (frame - self.last_frame[entry])) * height
        shift = observed[query, :2] - self.observed[entry, :2]
        far = np.einsum("pi,pi->p", shift, shift) > reach * reach
        scale = observed[query, 3] / height
        odd_size = np.maximum(scale, 1.0 / scale) > config.reentry_max_scale
        implausible = far | odd_size | (cls[query] != self.cls[entry])
        cost[query[implausible], entry[implausible]] = INFTY_COST
        rows, entries, _, _ = min_cost_matching(
            cost, config.reentry_max_cos_dist, config.assignment_solver
        )
        return rows, entries

    def pop(self, rows: np.ndarray):
        """Remove and return ``(track_id, features, feature_count)`` of gallery ``rows``."""
        taken = (self.track_id[rows], self.features[rows], self.feature_count[rows])
        keep = np.ones(len(self), dtype=bool)
        keep[rows] = False
        self._keep(keep)
        return taken

    def _keep(self, index) -> None:
        for name in ("track_id", "features", "feature_count", "observed", "last_frame", "cls"):
            setattr(self, name, getattr(self, name)[index])
