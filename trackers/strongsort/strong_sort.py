"""The StrongSORT facade: input checking, embeddings, camera motion, per-class routing, output.

>>> tracker = StrongSORT(embedder=extractor)            # doctest: +SKIP
>>> tracks = tracker.update(dets, frame)                # (M, 8) [x1, y1, x2, y2, id, conf, cls, i]
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional, Union

import numpy as np

from ..cmc import ECC
from .boost import boost_confidence
from .config import ConfigLike, StrongSORTConfig, resolve_config
from .embedding import embed_boxes
from .inputs import (
    cap_detections,
    check_dets,
    check_frame,
    check_warp,
    float32_embeddings,
    normalize_embeddings,
    valid_rows,
    warn_detection_limit,
)
from .low_conf import low_detections
from .tracker import IdCounter, Tracker

# The counters of StrongSORT.stats (see the class).
STATS = (
    "frames detections dropped_invalid dropped_low_conf cmc_failures cmc_resets embedded reused "
    "reuse_misses low_conf_matched"
).split()


class StrongSORT:
    """StrongSORT multi-object tracker (DeepSORT + BoT features, ECC, NSA, EMA, MC, woC).

    Args:
        embedder: Any object with ``from_frame(frame, boxes_xyxy) -> (N, D) float32`` (for
            example :class:`strongsort_reid.inference.FeatureExtractor`). Not
            needed when embeddings are passed to :meth:`update` as ``embs``.
        config: A :class:`StrongSORTConfig`, a mapping of parameters, or a YAML file path.
        reid_weights: Instead of ``embedder``: a registry weight name or a checkpoint path; a
            FeatureExtractor is built on first use (torch is imported only then).
        reid_model: Architecture of ``reid_weights``; by default inferred from its name (see
            :func:`strongsort_reid.models.weights.infer_arch`: ``osnet_x0_25_mine.pth`` ->
            ``osnet_x0_25``).
        device: Device of that FeatureExtractor.
        **params: Parameters overriding ``config`` (see :class:`StrongSORTConfig`).

    Attributes:
        config: The effective :class:`StrongSORTConfig`.
        stats: Counters: ``frames``, ``detections`` (rows received), ``dropped_invalid``
            (non-finite values, non-positive size, absurd coordinates or non-finite
            embeddings), ``dropped_low_conf`` (below ``min_conf``), ``cmc_failures`` (ECC did not
            converge), ``cmc_resets`` (frame size changed), ``embedded`` (tracked detections
            whose own embedding was used: computed, or read from ``embs``), ``reused``
            (tracked detections that reused their track's embedding, ``config.embed_skip``),
            ``reuse_misses`` (of those, the ones not associated with that track) and
            ``low_conf_matched`` (detections below ``min_conf`` that updated a track in the
            low-confidence stage, ``config.low_conf``; also counted in ``dropped_low_conf``).
    """

    def __init__(
        self,
        embedder: Any = None,
        *,
        config: ConfigLike = None,
        reid_weights: Union[str, Path, None] = None,
        reid_model: Optional[str] = None,
        device: str = "cpu",
        **params: Any,
    ):
        self.config = resolve_config(config, params)
        if embedder is not None and not callable(getattr(embedder, "from_frame", None)):
            raise ValueError(
                f"embedder must have a from_frame(frame, boxes_xyxy) method, got {type(embedder)}"
            )
        if embedder is not None and reid_weights is not None:
            raise ValueError("pass either embedder or reid_weights, not both")
        self._embedder = embedder
        self._reid_weights = reid_weights
        self._reid_model = reid_model
        self._device = device
        self.reset()

    @classmethod
    def from_yaml(cls, path: Union[str, Path], embedder: Any = None, **kwargs: Any) -> StrongSORT:
        """Build from a YAML parameter file; ``kwargs`` as in the constructor."""
        return cls(embedder, config=StrongSORTConfig.from_yaml(path), **kwargs)

    def reset(self) -> None:
        """Forget all tracks, identities (next one is 1 again), CMC state, trails and stats."""
        self._ids = IdCounter()
        self._trackers: Dict[Any, Tracker] = {}
        self._ecc = (
            ECC(self.config.ecc_scale, self.config.ecc_max_iter, self.config.ecc_eps)
            if self.config.cmc == "ecc"
            else None
        )
        self._embedding_dim: Optional[int] = None
        self._plotter = None  # a TrackPlotter, created by the first plot()
        self._last_output = np.empty((0, 8))
        self._steps = 0  # updates that changed the state (the key of the cached plan)
        self._started = False  # an update has tracked a detection (confirm_first_frame)
        self._cached_plan = None  # (steps, dets, plan, capped) of the last select(), see _plan()
        self.stats = dict.fromkeys(STATS, 0)

    @property
    def embedder(self) -> Any:
        """The appearance embedder (built from ``reid_weights`` on first access)."""
        if self._embedder is None and self._reid_weights is not None:
            # Imported here: building a ReID model is the only reason the tracker needs torch.
            from strongsort_reid.inference import build_extractor
            from strongsort_reid.models.weights import infer_arch

            weights, arch = str(self._reid_weights), self._reid_model
            if arch is None:
                try:
                    arch = infer_arch(weights)
                except ValueError as exc:
                    raise ValueError(f"{exc}; pass reid_model=") from None
            self._embedder = build_extractor(weights, arch=arch, device=self._device)
        return self._embedder

    @property
    def num_tracks(self) -> int:
        """Live tracks (tentative and confirmed) over all classes."""
        return sum(len(t) for t in self._trackers.values())

    def select(self, dets: Any) -> np.ndarray:
        """Which detections :meth:`update` tracks, so that callers embed only those.

        Args:
            dets: ``(N, 6)`` ``[x1, y1, x2, y2, conf, cls]`` as for :meth:`update`.

        Returns:
            ``(N,)`` bool: rows with finite values, sane coordinates, positive size and
            ``conf >= config.min_conf``, less those that reuse their track's embedding with
            ``config.embed_skip`` (:mod:`.embed_plan`). Embeddings passed to :meth:`update` as
            ``embs`` are read only on these rows (the others may hold anything, e.g. zeros).
        """
        _, tracked, det_index, reuse = self._plan(check_dets(dets))
        chosen = tracked.copy()
        chosen[det_index[reuse >= 0]] = False
        return chosen

    def update(
        self,
        dets: Any,
        frame: Optional[np.ndarray] = None,
        embs: Optional[Any] = None,
        camera_warp: Optional[Any] = None,
    ) -> np.ndarray:
        """Track one frame.

        Args:
            dets: ``(N, 6)`` ``[x1, y1, x2, y2, conf, cls]`` in pixels; ``(0, 6)`` or ``(0,)``
                when there is nothing. Invalid rows are dropped and counted in ``stats``.
            frame: ``uint8 HxWx3`` BGR image, needed by the embedder and by ECC (CMC is skipped
                without it).
            embs: ``(N, D)`` embeddings row-aligned with ``dets`` (L2-normalised here), read
                only on the rows of :meth:`select`; if ``None`` those rows are embedded by
                ``embedder.from_frame(frame, boxes)``.
            camera_warp: ``(2, 3)`` camera motion ``[R | t]`` from the previous frame to this
                one (full-resolution pixels, as :meth:`trackers.cmc.ECC.estimate` returns),
                used instead of running ECC on ``frame`` when ``config.cmc`` is set: for
                cached or external motion estimates (a replay, a gyroscope). ``None``: ECC.

        Returns:
            ``(M, 8)`` float64 ``[x1, y1, x2, y2, id, conf, cls, det_index]`` of confirmed
            tracks; ``det_index`` is the row in ``dets`` (-1 for predicted-only rows).
        """
        dets = check_dets(dets)
        if frame is not None:
            check_frame(frame)
        keep, tracked, det_index, reuse = self._plan(dets)
        own = reuse < 0
        features = self._own_embeddings(dets, det_index[own], frame, embs)  # may raise: first
        self._cached_plan = None
        self._steps += 1
        stats = self.stats
        stats["frames"] += 1
        stats["detections"] += dets.shape[0]
        stats["dropped_invalid"] += int(dets.shape[0] - keep.sum())
        stats["dropped_low_conf"] += int(keep.sum() - det_index.size)
        features, det_index, reuse = self._tracked_features(dets, features, det_index, reuse)
        chosen = dets[det_index]
        low = low_detections(dets, keep & ~tracked, self.config.low_conf)
        confirm_births = self.config.confirm_first_frame and not self._started
        self._started = self._started or det_index.size > 0

        if self._ecc is not None and camera_warp is not None:
            self._apply_camera_motion(check_warp(camera_warp))
        elif self._ecc is not None and frame is not None:
            self._compensate_camera(frame)
        self._step(chosen, features, det_index, reuse, low, confirm_births)
        outputs = [t.outputs() for t in self._trackers.values()]
        output = outputs[0] if len(outputs) == 1 else np.concatenate(outputs or [np.empty((0, 8))])
        self._last_output = output
        return output

    def plot(self, frame: np.ndarray, tracks: Optional[np.ndarray] = None) -> np.ndarray:
        """Draw boxes, identities and trails over the last ``trail_length`` plotted frames.

        A convenience for scripts that call ``update`` then ``plot`` every frame; drawing lives
        in :class:`trackers.plotting.TrackPlotter` (imported on first use).

        Args:
            frame: ``uint8 HxWx3`` BGR image (a copy is drawn on).
            tracks: ``(M, 8)`` output of :meth:`update`; defaults to the last one.
        """
        if self._plotter is None:
            from ..plotting import TrackPlotter

            self._plotter = TrackPlotter(self.config.trail_length)
        return self._plotter.draw(frame, self._last_output if tracks is None else tracks)

    # -- helpers ------------------------------------------------------------------------------

    def _selection(self, dets: np.ndarray):
        """``(valid, tracked)`` ``(N,)`` masks of checked ``dets``: sane rows, and those of them
        confident enough to track (:meth:`select`), after the boost of ``config.conf_boost``.
        The tracker receives the detector's confidences: it tells a boosted detection by its
        confidence below ``min_conf``."""
        valid = valid_rows(dets)
        conf = dets[:, 4]
        if self.config.conf_boost is not None and valid.any():
            predicted = [t.predicted_confirmed_boxes() for t in self._trackers.values()]
            conf = boost_confidence(
                dets[:, :4],
                np.where(valid, conf, -np.inf),
                np.concatenate(predicted or [np.empty((0, 4))]),
                self.config.conf_boost,
                self.config.boost_min_conf,
            )
        return valid, valid & (conf >= self.config.min_conf)

    def _plan(self, dets: np.ndarray):
        """``(valid, tracked, det_index, reuse)`` of checked ``(N, 6)`` ``dets`` for the next
        update: ``(N,)`` bool :meth:`_selection` masks (``tracked`` after the detection cap),
        the ``(K,)`` tracked rows and their ``(K,)`` :meth:`_plan_reuse`, computed before
        camera motion.

        :meth:`select` and :meth:`update` of one frame receive the same detections and see the
        same tracks, so the plan ``select`` computes is kept and reused by ``update`` when no
        update happened in between and the detections are equal (else it is recomputed).
        """
        cached = self._cached_plan
        if cached is not None and cached[0] == self._steps and np.array_equal(cached[1], dets):
            plan, capped = cached[2:]
            if capped:  # each call over the limit warns, as when the plan is computed
                warn_detection_limit()
            return plan
        valid, confident = self._selection(dets)
        tracked = cap_detections(dets[:, 4], confident)  # ``confident`` itself unless capped
        det_index = np.flatnonzero(tracked)
        plan = (valid, tracked, det_index, self._plan_reuse(dets[det_index]))
        self._cached_plan = (self._steps, dets.copy(), plan, tracked is not confident)
        return plan

    def _plan_reuse(self, dets: np.ndarray) -> np.ndarray:
        """``(K,)`` int64 :meth:`Tracker.plan_reuse` of ``(K, 6)`` tracked ``dets``: the row,
        in the tracker of the detection's class, of the track whose embedding it reuses, or -1."""
        reuse = np.full(dets.shape[0], -1, dtype=np.int64)
        if not self.config.embed_skip:
            return reuse
        for value, tracker in self._trackers.items():
            rows = slice(None) if value is None else dets[:, 5] == value
            reuse[rows] = tracker.plan_reuse(dets[rows, :4])
        return reuse

    def _tracked_features(self, dets, features, det_index, reuse):
        """``(features (K, D), det_index (K,), reuse (K,))`` of the tracked detections: the
        rows whose own embedding (``features``, one per ``reuse < 0`` row) is not finite are
        dropped (``stats["dropped_invalid"]``), the own ones normalised, and the others take
        the current embedding of track ``reuse`` of their class."""
        own, stats = reuse < 0, self.stats
        # One sum is much cheaper than a per-row check, and NaN/inf anywhere makes it
        # non-finite (a float32 overflow of finite rows only takes the exact path). Reused rows
        # are tracks' unit embeddings: only the own ones are checked and normalised.
        if not np.isfinite(features.sum()):
            finite = np.isfinite(features).all(axis=1)
            stats["dropped_invalid"] += int((~finite).sum())
            kept = np.ones(det_index.size, dtype=bool)
            kept[own] = finite
            det_index, reuse, own, features = (
                det_index[kept],
                reuse[kept],
                own[kept],
                features[finite],
            )
        stats["embedded"] += features.shape[0]
        stats["reused"] += det_index.size - features.shape[0]
        features = normalize_embeddings(features)
        if features.shape[0] == det_index.size:
            return features, det_index, reuse
        combined = np.empty((det_index.size, self._embedding_dim), dtype=np.float32)
        combined[own] = features
        classes = dets[det_index, 5]
        for value, tracker in self._trackers.items():
            rows = (reuse >= 0) & (True if value is None else classes == value)
            combined[rows] = tracker.current_features(reuse[rows])
        return combined, det_index, reuse

    def _own_embeddings(self, dets, det_index, frame, embs) -> np.ndarray:
        """``(len(det_index), D)`` float32 embeddings of detections ``det_index``, read from
        ``embs`` or computed by the embedder."""
        if embs is not None:
            embs = float32_embeddings(embs)
            if embs.ndim != 2 or embs.shape[0] != dets.shape[0] or embs.shape[1] == 0:
                raise ValueError(
                    f"embs must have shape (N, D) with N = len(dets) = {dets.shape[0]} and D > 0, "
                    f"got {embs.shape}"
                )
            features = embs[det_index]
        elif det_index.size == 0:
            return np.empty((0, self._embedding_dim or 0), dtype=np.float32)
        else:
            embedder = self.embedder
            if embedder is None:
                raise ValueError(
                    "embs is None and the tracker has no embedder: pass embs=(N, D) or build "
                    "StrongSORT with embedder= or reid_weights="
                )
            if frame is None:
                raise ValueError("frame is required to compute embeddings with the embedder")
            features = embed_boxes(embedder, frame, dets[det_index, :4].astype(np.float32))
        if features.shape[0] or embs is not None:
            self._check_dim(features.shape[1])
        return features

    def _check_dim(self, dim: int) -> None:
        if self._embedding_dim is None:
            self._embedding_dim = dim
        elif dim != self._embedding_dim:
            raise ValueError(
                f"embedding dimension changed from {self._embedding_dim} to {dim} mid-stream"
            )

    def _compensate_camera(self, frame: np.ndarray) -> None:
        warp = self._ecc.estimate(frame, skip=self.num_tracks == 0)
        status = self._ecc.last_status
        if status == "failed":
            self.stats["cmc_failures"] += 1
        elif status == "reset":
            self.stats["cmc_resets"] += 1
        elif status == "ok":
            self._apply_camera_motion(warp)

    def _apply_camera_motion(self, warp: np.ndarray) -> None:
        for tracker in self._trackers.values():
            tracker.apply_camera_motion(warp)

    def _step(self, chosen, features, det_index, reuse, low, confirm_births) -> None:
        """:meth:`Tracker.step` of the one tracker, or of each class's (``per_class``)."""
        per_class = self.config.per_class
        classes = chosen[:, 5]
        groups = set(self._trackers) | set(np.unique(classes).tolist()) if per_class else [None]
        for value in groups:
            tracker = self._trackers.get(value)
            if tracker is None:
                tracker = self._trackers[value] = Tracker(self.config, self._ids)
            rows = classes == value if per_class else slice(None)
            misses, low_matched = tracker.step(
                chosen[rows, :4],
                chosen[rows, 4],
                chosen[rows, 5],
                features[rows],
                det_index[rows],
                reuse[rows],
                low if low is None or not per_class else low.of_class(value),
                confirm_births,
            )
            self.stats["reuse_misses"] += misses
            self.stats["low_conf_matched"] += low_matched
        # Classes without live tracks (nor re-entry gallery) are dropped: their number stays
        # bounded.
        if per_class:
            for value in [v for v, t in self._trackers.items() if t.idle]:
                del self._trackers[value]
