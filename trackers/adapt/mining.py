"""Pseudo-identities mined from a tracker's output, without labels.

A track of a tracker is one person as long as the tracker did not switch identities. Switches
happen where people occlude each other and where a track is re-associated after being lost, so
the mining keeps only what is safe:

1. *clean* boxes: tall enough, confident enough, and covered by no other box of the same frame
   beyond ``max_coverage`` of their area (occluded crops show two people);
2. *tracklets*: a track is cut wherever it has no clean box for more than ``max_gap_s`` seconds
   (a re-association after a long gap is not trusted, and an occlusion counts as a gap);
3. tracklets with at least ``min_frames`` clean boxes become pseudo-identities, each sampled at
   ``samples`` boxes spread evenly over its time span (consecutive frames are near duplicates);
4. two pseudo-identities with clean boxes in the same frame are different people (the tracker
   never outputs one person twice in a frame): a guaranteed negative pair. Pairs that never
   co-occur may be the same person (a track lost and found again) and are not used as negatives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict

import numpy as np

# Track rows: (R, 7) [frame, track_id, x1, y1, x2, y2, conf], boxes in pixels.
ROW_COLUMNS = ("frame", "track_id", "x1", "y1", "x2", "y2", "conf")


@dataclass(frozen=True)
class MiningConfig:
    """What makes a tracklet a pseudo-identity (defaults suit 7-30 FPS pedestrian video).

    Attributes:
        min_height: Smallest box height in pixels that is cropped.
        min_conf: Smallest detection confidence of a clean box.
        max_coverage: Largest fraction of a box's area covered by one other box of the frame.
        max_gap_s: Longest time in seconds without a clean box inside one tracklet.
        min_frames: Clean boxes a tracklet needs to become a pseudo-identity.
        samples: Boxes sampled per pseudo-identity, evenly spread over its span.
    """

    min_height: float = 48.0
    min_conf: float = 0.6
    max_coverage: float = 0.25
    max_gap_s: float = 0.5
    min_frames: int = 8
    samples: int = 12

    def __post_init__(self):
        if self.min_frames < 2 or self.samples < 2:
            raise ValueError(
                f"min_frames and samples must be >= 2, got {self.min_frames}, {self.samples}"
            )
        if not 0.0 <= self.max_coverage <= 1.0:
            raise ValueError(f"max_coverage must be in [0, 1], got {self.max_coverage}")
        if self.max_gap_s < 0 or self.min_height < 0:
            raise ValueError("max_gap_s and min_height must be >= 0")


@dataclass
class PseudoIdentities:
    """Sampled boxes of ``P`` pseudo-identities and their guaranteed negatives.

    Attributes:
        frames: ``(S,)`` int64 frame number of each sampled box.
        boxes: ``(S, 4)`` float32 ``x1, y1, x2, y2`` pixels.
        labels: ``(S,)`` int64 pseudo-identity ``0 .. P-1`` of each box, sorted by label.
        track_ids: ``(P,)`` int64 tracker identity each pseudo-identity was cut from.
        spans: ``(P, 2)`` int64 first and last frame of each pseudo-identity.
        cooccur: ``(P, P)`` bool: both have clean boxes in a common frame (diagonal False).
        stats: Counts of the mining steps (JSON-able).
    """

    frames: np.ndarray
    boxes: np.ndarray
    labels: np.ndarray
    track_ids: np.ndarray
    spans: np.ndarray
    cooccur: np.ndarray
    stats: Dict[str, float] = field(default_factory=dict)

    @property
    def num_identities(self) -> int:
        return len(self.track_ids)


def box_coverage(boxes: np.ndarray) -> np.ndarray:
    """``(N,)`` largest fraction of each box's area covered by one other box of ``(N, 4)``."""
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    if len(boxes) < 2:
        return np.zeros(len(boxes))
    top_left = np.maximum(boxes[:, None, :2], boxes[None, :, :2])
    bottom_right = np.minimum(boxes[:, None, 2:], boxes[None, :, 2:])
    inter = np.prod(np.clip(bottom_right - top_left, 0.0, None), axis=2)
    area = np.prod(np.clip(boxes[:, 2:] - boxes[:, :2], 1e-9, None), axis=1)
    np.fill_diagonal(inter, 0.0)
    return (inter / area[:, None]).max(axis=1)


def clean_mask(rows: np.ndarray, config: MiningConfig) -> np.ndarray:
    """``(R,)`` bool: the rows whose box may be cropped (size, confidence, no occlusion)."""
    height = rows[:, 5] - rows[:, 3]
    keep = (height >= config.min_height) & (rows[:, 6] >= config.min_conf)
    coverage = np.zeros(len(rows))
    frames = rows[:, 0]
    order = np.argsort(frames, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(frames[order]) != 0, True])
    for begin, end in zip(starts[:-1], starts[1:]):
        members = order[begin:end]
        coverage[members] = box_coverage(rows[members, 2:6])
    return keep & (coverage <= config.max_coverage)


def _check_rows(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float64)
    if rows.ndim != 2 or rows.shape[1] != len(ROW_COLUMNS):
        raise ValueError(f"rows must be (R, 7) {list(ROW_COLUMNS)}, got shape {rows.shape}")
    if not np.isfinite(rows).all():
        raise ValueError("rows contain NaN or inf")
    return rows


def mine_identities(rows: np.ndarray, fps: float, config: MiningConfig) -> PseudoIdentities:
    """Pseudo-identities from tracker output (see the module docstring).

    Args:
        rows: ``(R, 7)`` ``[frame, track_id, x1, y1, x2, y2, conf]`` of every tracked box.
        fps: Frame rate of the source (turns ``max_gap_s`` into frames).
        config: The thresholds.

    Raises:
        ValueError: ``rows`` has the wrong shape or non-finite values, or ``fps <= 0``.
    """
    rows = _check_rows(rows)
    if fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps}")
    clean = rows[clean_mask(rows, config)]
    clean = clean[np.lexsort((clean[:, 0], clean[:, 1]))]  # by track, then frame
    max_gap = max(1, int(round(config.max_gap_s * fps)))
    new_track = np.r_[True, np.diff(clean[:, 1]) != 0]
    new_segment = new_track | np.r_[True, np.diff(clean[:, 0]) > max_gap]
    segment = np.cumsum(new_segment) - 1
    counts = np.bincount(segment, minlength=int(segment.max()) + 1 if len(segment) else 0)
    kept = np.flatnonzero(counts >= config.min_frames)
    picks, labels = [], []
    for label, seg in enumerate(kept):
        members = np.flatnonzero(segment == seg)
        chosen = np.unique(np.linspace(0, len(members) - 1, config.samples).round().astype(int))
        picks.append(members[chosen])
        labels.append(np.full(len(chosen), label, dtype=np.int64))
    picked = clean[np.concatenate(picks)] if picks else np.empty((0, 7))
    firsts = np.flatnonzero(new_segment)
    spans = np.stack([clean[firsts[kept], 0], clean[firsts[kept] + counts[kept] - 1, 0]], axis=1)
    cooccur = _cooccurrence(clean[:, 0].astype(np.int64), segment, kept)
    stats = {
        "tracks": int(len(np.unique(rows[:, 1]))),
        "boxes": int(len(rows)),
        "clean_boxes": int(len(clean)),
        "tracklets": int(len(counts)),
        "identities": int(len(kept)),
        "crops": int(len(picked)),
        "negative_pairs": int(cooccur.sum() // 2),
        "max_gap_frames": max_gap,
    }
    return PseudoIdentities(
        frames=picked[:, 0].astype(np.int64),
        boxes=picked[:, 2:6].astype(np.float32),
        labels=np.concatenate(labels) if labels else np.empty(0, dtype=np.int64),
        track_ids=clean[firsts[kept], 1].astype(np.int64),
        spans=spans.astype(np.int64).reshape(-1, 2),
        cooccur=cooccur,
        stats=stats,
    )


def _cooccurrence(frames: np.ndarray, segment: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """``(P, P)`` bool: kept segments ``kept[i]`` and ``kept[j]`` share a frame."""
    if len(kept) == 0:
        return np.zeros((0, 0), dtype=bool)
    position = np.full(int(segment.max()) + 1, -1)
    position[kept] = np.arange(len(kept))
    mine = position[segment] >= 0
    _, frame_index = np.unique(frames[mine], return_inverse=True)
    presence = np.zeros((len(kept), int(frame_index.max()) + 1), dtype=np.float32)
    presence[position[segment[mine]], frame_index] = 1.0
    cooccur = (presence @ presence.T) > 0
    np.fill_diagonal(cooccur, False)
    return cooccur
