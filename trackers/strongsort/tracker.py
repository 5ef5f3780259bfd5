"""Association and track management for one group of tracks, batched over all tracks.

One :meth:`Tracker.step` per frame (after :meth:`Tracker.apply_camera_motion` when CMC is on):

1. Kalman prediction of every state;
2. appearance stage: confirmed tracks against all detections with the cost
   ``lambda * cosine + (1 - lambda) * Mahalanobis`` (MC), pairs outside the chi-square gate
   forbidden, solved by one global assignment (woC) or DeepSORT's matching cascade;
3. IoU stage: tentative tracks and confirmed tracks updated in the previous frame but unmatched
   now, against the remaining detections, cost ``1 - IoU``;
3b. low-confidence stage (BYTE, ``low_conf``): confirmed tracks updated in the previous frame and
   still unmatched, against the detections below ``min_conf`` (cost ``1 - IoU``); these update
   the track's state only: no embedding, no appearance update, no birth;
4. Kalman update (NSA) and appearance update (EMA, optionally confidence-adaptive, or
   gallery) of matched tracks (not from a reused embedding, :mod:`.embed_plan`), deletion of
   lost tracks, birth of tentative tracks from unmatched detections (never from those kept only
   by the confidence boost, :mod:`.boost`, nor from those with a reused embedding);
5. re-entry (``reentry_max_age > 0``): tracks confirmed in this frame are matched against the
   gallery of deleted tracks and take back a matching identity (:mod:`.reentry`); tracks
   deleted in this frame join the gallery.
"""

from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from ..cmc import warp_tracks
from .appearance import (
    adaptive_alpha,
    cosine_distance,
    ema_update,
    gallery_push,
    latest_features,
)
from .boost import predicted_boxes
from .config import StrongSORTConfig
from .embed_plan import plan_reuse
from .iou_matching import iou_cost
from .kalman_filter import KalmanFilterXYAH
from .linear_assignment import INFTY_COST, matching_cascade, min_cost_matching
from .low_conf import LowDetections, match_low
from .reentry import ReentryGallery
from .track import IdCounter, TrackSet, TrackState, xyah_to_xyxy, xyxy_to_xyah

_EMPTY = np.empty(0, dtype=np.int64)
# Plain ints: comparing arrays with IntEnum members goes through slow enum attribute lookups.
_TENTATIVE = int(TrackState.TENTATIVE)
_CONFIRMED = int(TrackState.CONFIRMED)


class Tracker:
    """Multi-target tracker core (one class, or all classes together).

    Args:
        config: Tracker parameters.
        ids: Identity source; trackers that share one never reuse an identity.
    """

    def __init__(self, config: StrongSORTConfig, ids: IdCounter):
        self.config = config
        self.ids = ids
        self.kf = KalmanFilterXYAH(config.std_weight_position, config.std_weight_velocity)
        self.tracks: Optional[TrackSet] = None
        self.gallery: Optional[ReentryGallery] = None
        self.frame = 0  # frames stepped so far (the re-entry gallery's clock)

    def __len__(self) -> int:
        return 0 if self.tracks is None else len(self.tracks)

    @property
    def idle(self) -> bool:
        """No live track and nothing in the re-entry gallery: the tracker holds no state."""
        return len(self) == 0 and not (self.gallery is not None and len(self.gallery))

    def apply_camera_motion(self, warp: np.ndarray) -> None:
        """Warp all track states by a ``(2, 3)`` previous-to-current camera motion."""
        if len(self):
            warp_tracks(self.tracks.mean, self.tracks.covariance, warp)

    def step(
        self,
        boxes: np.ndarray,
        conf: np.ndarray,
        cls: np.ndarray,
        features: np.ndarray,
        det_index: np.ndarray,
        reuse: Optional[np.ndarray] = None,
        low: Optional[LowDetections] = None,
        confirm_births: bool = False,
    ) -> Tuple[int, int]:
        """Advance one frame with this frame's detections.

        Args:
            boxes: ``(N, 4)`` float64 ``x1, y1, x2, y2`` with positive width and height.
            conf: ``(N,)`` float64 detector confidences; rows below ``config.min_conf`` (kept by
                the confidence boost) may update tracks but never start one.
            cls: ``(N,)`` float64 classes.
            features: ``(N, D)`` float32 unit embeddings.
            det_index: ``(N,)`` int64 rows of the caller's detection array (reported back).
            reuse: ``(N,)`` int64 :meth:`plan_reuse` of these boxes before this step: rows
                ``>= 0`` hold that track's :meth:`current_features`, which neither update its
                appearance nor start a track. ``None``: every row was embedded.
            low: Detections for the low-confidence stage (``config.low_conf``), or ``None``.
            confirm_births: Tracks born in this step are confirmed at once (the stream's first
                frame with ``config.confirm_first_frame``); always so when ``n_init <= 1``.

        Returns:
            ``(misses, low_matched)``: detections with a reused embedding not associated with
            the track they reused, and low-confidence detections that updated a track.
        """
        if reuse is None:
            reuse = np.full(boxes.shape[0], -1, dtype=np.int64)
        self.frame += 1
        if self.gallery is not None:
            self.gallery.expire(self.frame, self.config.reentry_max_age)
        if self.tracks is None:
            if boxes.shape[0] == 0:
                return 0, 0
            self.tracks = TrackSet(self.config.feature_budget, features.shape[1])
            if self.config.reentry_max_age > 0:
                self.gallery = ReentryGallery(
                    self.config.reentry_gallery_size, self.config.feature_budget, features.shape[1]
                )
        tracks = self.tracks
        if len(tracks):
            tracks.mean, tracks.covariance = self.kf.predict(tracks.mean, tracks.covariance)
            tracks.age += 1
            tracks.time_since_update += 1
            tracks.det_index.fill(-1)
        measurements = xyxy_to_xyah(boxes)
        rows, dets, unmatched_dets = self._associate(boxes, measurements, features)
        misses = int((reuse >= 0).sum() - (reuse[dets] == rows).sum())
        if rows.size:
            self._reidentify(
                self._update_matched(
                    rows, dets, measurements, conf, cls, features, det_index, reuse[dets] < 0
                )
            )
        low_matched = self._associate_low(low) if low is not None and low.det_index.size else 0
        self._delete_lost()
        # Detections kept only thanks to the confidence boost follow tracks, never start one;
        # nor do those holding another track's embedding (they are embedded next frame).
        born = (conf[unmatched_dets] >= self.config.min_conf) & (reuse[unmatched_dets] < 0)
        unmatched_dets = unmatched_dets[born]
        if unmatched_dets.size:
            confirmed = confirm_births or self.config.n_init <= 1
            self._start_tracks(
                unmatched_dets, measurements, conf, cls, features, det_index, confirmed
            )
            if confirmed:  # born confirmed: re-identified at birth
                self._reidentify(np.arange(len(tracks) - unmatched_dets.size, len(tracks)))
        return misses, low_matched

    def plan_reuse(self, boxes: np.ndarray) -> np.ndarray:
        """``(N,)`` int64 track row whose embedding each of ``(N, 4)`` boxes of the next frame
        may reuse, -1 where it must be embedded (:mod:`.embed_plan`; all -1 unless
        ``config.embed_skip``). Reads the tracks, changes nothing."""
        tracks, cfg = self.tracks, self.config
        if not cfg.embed_skip or tracks is None or not len(tracks):
            return np.full(boxes.shape[0], -1, dtype=np.int64)
        eligible = (
            (tracks.state == _CONFIRMED)
            & (tracks.time_since_update == 0)
            & (tracks.reuses + 1 < cfg.embed_skip_refresh)
        )
        return plan_reuse(
            boxes,
            predicted_boxes(tracks.mean),
            eligible,
            cfg.embed_skip_iou,
            cfg.embed_skip_rival_iou,
        )

    def current_features(self, rows: np.ndarray) -> np.ndarray:
        """``(K, D)`` float32 current embedding of track ``rows`` (EMA, or latest of gallery)."""
        return latest_features(self.tracks.features[rows], self.tracks.feature_count[rows])

    def predicted_confirmed_boxes(self) -> np.ndarray:
        """``(C, 4)`` boxes the confirmed tracks predict for the next frame (no camera motion)."""
        tracks = self.tracks
        if tracks is None or not len(tracks):
            return np.empty((0, 4))
        return predicted_boxes(tracks.mean[tracks.state == _CONFIRMED])

    def outputs(self) -> np.ndarray:
        """``(M, 8)`` float64 rows ``[x1, y1, x2, y2, id, conf, cls, det_index]``.

        Confirmed tracks associated in this frame, plus those missed for at most
        ``config.output_predicted`` frames (predicted box, ``det_index = -1``); boxes with a
        non-positive predicted height or aspect ratio are left out.
        """
        tracks = self.tracks
        if tracks is None or not len(tracks):
            return np.empty((0, 8))
        # A long prediction of a shrinking box can reach a non-positive height: not a box.
        selected = (
            (tracks.state == _CONFIRMED)
            & (tracks.time_since_update <= self.config.output_predicted)
            & (tracks.mean[:, 2] > 0)
            & (tracks.mean[:, 3] > 0)
        )
        out = np.empty((int(selected.sum()), 8))
        out[:, :4] = xyah_to_xyxy(tracks.mean[selected, :4])
        out[:, 4] = tracks.track_id[selected]
        out[:, 5] = tracks.conf[selected]
        out[:, 6] = tracks.cls[selected]
        out[:, 7] = tracks.det_index[selected]
        return out

    # -- association --------------------------------------------------------------------------

    def _associate(self, boxes: np.ndarray, measurements: np.ndarray, features: np.ndarray):
        """Return ``(track_rows (K,), det_rows (K,), unmatched_dets (U,))``."""
        tracks, cfg = self.tracks, self.config
        n_dets = boxes.shape[0]
        free_dets = np.arange(n_dets, dtype=np.int64)
        if not len(tracks) or n_dets == 0:
            return _EMPTY, _EMPTY, free_dets
        confirmed = tracks.state == _CONFIRMED
        confirmed_rows = confirmed.nonzero()[0]
        track_rows = det_rows = _EMPTY
        lost_rows = confirmed_rows
        if confirmed_rows.size:
            cost = self._appearance_cost(confirmed_rows, measurements, features)
            if cfg.matching == "cascade":
                rows, det_rows, unmatched, free_dets = matching_cascade(
                    cost,
                    cfg.max_cos_dist,
                    tracks.time_since_update[confirmed_rows],
                    cfg.max_age,
                    cfg.assignment_solver,
                )
            else:
                rows, det_rows, unmatched, free_dets = min_cost_matching(
                    cost, cfg.max_cos_dist, cfg.assignment_solver
                )
            track_rows = confirmed_rows[rows]
            lost_rows = confirmed_rows[unmatched]
        # Tracks seen in the previous frame get a second chance by overlap alone.
        just_missed = lost_rows[tracks.time_since_update[lost_rows] == 1]
        iou_rows = np.concatenate([(~confirmed).nonzero()[0], just_missed])
        if iou_rows.size == 0 or free_dets.size == 0:
            return track_rows, det_rows, free_dets
        cost = iou_cost(
            xyah_to_xyxy(tracks.mean[iou_rows, :4]), boxes[free_dets], cfg.iou_height_modulated
        )
        rows, cols, _, unmatched_dets = min_cost_matching(
            cost, cfg.max_iou_dist, cfg.assignment_solver
        )
        return (
            np.concatenate([track_rows, iou_rows[rows]]),
            np.concatenate([det_rows, free_dets[cols]]),
            free_dets[unmatched_dets],
        )

    def _associate_low(self, low: LowDetections) -> int:
        """BYTE (:mod:`.low_conf`): confirmed tracks associated in the previous frame and still
        unmatched take low-confidence detections; returns how many did."""
        tracks, cfg = self.tracks, self.config
        rows = ((tracks.state == _CONFIRMED) & (tracks.time_since_update == 1)).nonzero()[0]
        if rows.size == 0:
            return 0
        boxes = xyah_to_xyxy(tracks.mean[rows, :4])
        matched, dets = match_low(
            boxes, low, cfg.low_max_iou_dist, cfg.iou_height_modulated, cfg.assignment_solver
        )
        if matched.size:
            measurements = xyxy_to_xyah(low.boxes)
            self._update_state(rows[matched], dets, measurements, low.conf, low.cls, low.det_index)
        return int(matched.size)

    def _appearance_cost(
        self, rows: np.ndarray, measurements: np.ndarray, features: np.ndarray
    ) -> np.ndarray:
        """Gated (and MC-fused) cost ``(len(rows), N)`` of the appearance stage."""
        tracks, cfg = self.tracks, self.config
        cost = cosine_distance(tracks.features[rows], tracks.feature_count[rows], features)
        maha = self.kf.gating_distance(tracks.mean[rows], tracks.covariance[rows], measurements)
        if cfg.mc_lambda is not None:
            cost = cfg.mc_lambda * cost + (1.0 - cfg.mc_lambda) * maha
        cost[maha > cfg.gating_threshold] = INFTY_COST
        return cost

    # -- track management ---------------------------------------------------------------------

    def _update_matched(
        self, rows, dets, measurements, conf, cls, features, det_index, embedded
    ) -> np.ndarray:
        """Update matched tracks; return the ``(P,)`` rows confirmed by this update.

        ``embedded``: ``(K,)`` bool, pairs whose detection has its own embedding; the others
        leave the track's appearance as it is.
        """
        tracks = self.tracks
        self._update_state(rows, dets, measurements, conf, cls, det_index)
        self._update_appearance(rows[embedded], dets[embedded], conf, features)
        tracks.reuses[rows[~embedded]] += 1
        promote = rows[
            (tracks.hits[rows] >= self.config.n_init) & (tracks.state[rows] == _TENTATIVE)
        ]
        tracks.state[promote] = _CONFIRMED
        return promote

    def _update_state(self, rows, dets, measurements, conf, cls, det_index) -> None:
        """Kalman update (NSA) and bookkeeping of tracks ``rows`` with detections ``dets``."""
        tracks = self.tracks
        mean, cov = self.kf.update(
            tracks.mean[rows],
            tracks.covariance[rows],
            measurements[dets],
            conf[dets] if self.config.nsa else None,
        )
        tracks.mean[rows] = mean
        tracks.covariance[rows] = cov
        tracks.hits[rows] += 1
        tracks.time_since_update[rows] = 0
        tracks.conf[rows] = conf[dets]
        tracks.cls[rows] = cls[dets]
        tracks.det_index[rows] = det_index[dets]
        tracks.observed[rows] = measurements[dets]

    def _update_appearance(self, rows, dets, conf, features) -> None:
        """Blend the embeddings of detections ``dets`` into the matched tracks ``rows``.

        After ``r`` associations with a reused embedding, the EMA weight of the previous
        embedding is ``alpha ** (r + 1)``: the new embedding stands in for the frames that were
        not embedded, so the appearance follows a person as fast as when every frame is.
        """
        tracks, cfg = self.tracks, self.config
        if cfg.ema_alpha is not None:
            alpha = cfg.ema_alpha
            if cfg.ema_adaptive:
                alpha = adaptive_alpha(conf[dets], cfg.ema_alpha, cfg.min_conf)
            skipped = tracks.reuses[rows]
            if skipped.any():
                alpha = np.asarray(alpha, dtype=np.float64) ** (1 + skipped)
            ema_update(tracks.features, rows, features[dets], alpha)
        else:
            gallery_push(tracks.features, tracks.feature_count, rows, features[dets])
        tracks.reuses[rows] = 0

    def _reidentify(self, rows: np.ndarray) -> None:
        """Give newly confirmed tracks (``(P,)`` rows) the identity and appearance of the
        re-entry gallery tracks they match (:mod:`.reentry`)."""
        gallery, tracks, cfg = self.gallery, self.tracks, self.config
        if gallery is None or not len(gallery) or rows.size == 0:
            return
        query = latest_features(tracks.features[rows], tracks.feature_count[rows])
        found, entries = gallery.match(
            query, tracks.observed[rows], tracks.cls[rows], self.frame, cfg
        )
        if found.size == 0:
            return
        target = rows[found]
        tracks.track_id[target], tracks.features[target], tracks.feature_count[target] = (
            gallery.pop(entries)
        )
        if cfg.ema_alpha is not None:
            ema_update(tracks.features, target, query[found], cfg.ema_alpha)
        else:
            gallery_push(tracks.features, tracks.feature_count, target, query[found])

    def _delete_lost(self) -> None:
        tracks = self.tracks
        missed = tracks.time_since_update > 0
        expired = tracks.time_since_update > self.config.max_age
        lost = (missed & (tracks.state == _TENTATIVE)) | expired
        if lost.any():
            if self.gallery is not None:
                kept = (expired & (tracks.state == _CONFIRMED)).nonzero()[0]
                if kept.size:
                    self.gallery.add(tracks, kept, self.frame)
            tracks.keep(~lost)

    def _start_tracks(
        self, dets, measurements, conf, cls, features, det_index, confirmed: bool
    ) -> None:
        mean, cov = self.kf.initiate(measurements[dets])
        state = np.full(
            dets.size,
            _CONFIRMED if confirmed else _TENTATIVE,
            dtype=np.int8,
        )
        self.tracks.append(
            mean,
            cov,
            self.ids.take(dets.size),
            state,
            conf[dets],
            cls[dets],
            det_index[dets],
            features[dets],
        )
