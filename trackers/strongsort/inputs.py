"""Limits and normalisation of what :meth:`StrongSORT.update <trackers.StrongSORT.update>`
receives, so that no input makes it slow, huge or silently wrong.

* **Detections per frame.** Association builds ``(tracks, detections)`` cost matrices, and
  every unmatched detection starts a track: 10,000 boxes in one frame (a detector run with a
  threshold of 0, a broken model) took 8-44 s and 7.8 GB. At most
  :data:`MAX_DETECTIONS_PER_FRAME` detections per frame are tracked: those of highest
  confidence (ties: the earlier row). The others are left out like low-confidence rows (counted
  in ``stats["dropped_low_conf"]``), with a :class:`DetectionLimitWarning` the first time (the
  default warning filter shows it once).
* **Embeddings.** Rows are L2-normalised; a row whose float32 norm overflows (values beyond
  about 1e18: the row became a zero vector, i.e. "no appearance") or underflows is divided by
  its largest absolute value first, so every finite non-zero row keeps its direction. Float64
  rows beyond float32's range are scaled before the cast for the same reason. Rows holding NaN
  or inf are *missing* appearance: ``update`` drops those detections and counts them in
  ``stats["dropped_invalid"]``.
* **Boxes, frames, camera motion.** :func:`check_dets`, :func:`check_frame` and
  :func:`check_warp` reject malformed arrays with a ``ValueError``; :func:`valid_rows` marks the
  rows with non-finite values, coordinates beyond :data:`MAX_ABS_COORDINATE` or a non-positive
  size, which are dropped (``stats["dropped_invalid"]``).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

# Coordinates beyond this many pixels are treated like non-finite ones: such boxes only come
# from broken detectors, and squaring them would overflow the IoU and Kalman arithmetic.
MAX_ABS_COORDINATE = 1e6

# Most detections tracked in one frame (crowded MOT20 frames hold about 250 people).
MAX_DETECTIONS_PER_FRAME = 1000

# Rows whose float32 norm is below this (normalize_rows' floor) are rescaled, unless all zero.
_SMALL_NORM = 1e-12
_FLOAT32_MAX = float(np.finfo(np.float32).max)


class DetectionLimitWarning(UserWarning):
    """More than :data:`MAX_DETECTIONS_PER_FRAME` detections were given in one frame."""


def cap_detections(
    conf: np.ndarray,
    tracked: np.ndarray,
    limit: int = MAX_DETECTIONS_PER_FRAME,
    stacklevel: int = 4,
) -> np.ndarray:
    """Keep at most ``limit`` of the tracked detections, those of highest confidence.

    Args:
        conf: ``(N,)`` detection confidences.
        tracked: ``(N,)`` bool, the rows the tracker would track.
        limit: Most rows kept.
        stacklevel: Of the :class:`DetectionLimitWarning`, counted from this function (4: the
            caller of ``StrongSORT.update`` through its helper).

    Returns:
        ``(N,)`` bool: ``tracked`` itself when it has at most ``limit`` rows, else the
        ``limit`` most confident of them (ties: the earlier row).
    """
    rows = np.flatnonzero(tracked)
    if rows.size <= limit:
        return tracked
    warn_detection_limit(limit, stacklevel + 1)
    best = rows[np.argsort(-conf[rows], kind="stable")[:limit]]
    capped = np.zeros_like(tracked)
    capped[best] = True
    return capped


def warn_detection_limit(limit: int = MAX_DETECTIONS_PER_FRAME, stacklevel: int = 4) -> None:
    """Issue the :class:`DetectionLimitWarning` of :func:`cap_detections`; ``stacklevel``
    counted from this function (4: the caller of ``StrongSORT.select`` or ``update`` through
    its helper)."""
    warnings.warn(
        f"more than {limit} detections in one frame: only the {limit} most confident are "
        "tracked (trackers.strongsort.inputs.MAX_DETECTIONS_PER_FRAME)",
        DetectionLimitWarning,
        stacklevel=stacklevel,
    )


def float32_embeddings(embs: Any) -> np.ndarray:
    """``embs`` as a float32 array; rows of a wider float array beyond float32's range are
    divided by their largest absolute value first (a cast would make them inf)."""
    array = np.asarray(embs)
    if array.dtype.kind != "f" or array.dtype.itemsize <= 4 or array.ndim != 2 or not array.size:
        return np.asarray(array, dtype=np.float32)
    peak = _row_peaks(array)
    huge = np.isfinite(peak) & (peak > _FLOAT32_MAX)
    if huge.any():
        array = array.copy()
        array[huge] /= peak[huge, None]
    with np.errstate(over="ignore"):  # rows with NaN or inf may hold more huge values: inf
        return array.astype(np.float32)


def normalize_embeddings(features: np.ndarray) -> np.ndarray:
    """L2-normalise ``(N, D)`` finite rows to float32, robust to huge and tiny values.

    The arithmetic of :func:`~trackers.strongsort.appearance.normalize_rows` (so ordinary rows
    give exactly its result), except for rows whose float32 norm overflowed to inf or is below
    ``1e-12`` without the row being zero: those are divided by their largest absolute value
    first, so that they keep their direction. All-zero rows stay zero; rows with NaN stay NaN.
    """
    features = np.asarray(features, dtype=np.float32)
    norms = np.sqrt(np.einsum("ij,ij->i", features, features))  # einsum overflows silently
    small = norms < _SMALL_NORM
    if small.any():
        small[small] = features[small].any(axis=1)  # zero rows are fine as they are
    unsafe = np.isinf(norms) | small
    if unsafe.any():
        scaled = features[unsafe] / _row_peaks(features[unsafe])[:, None]
        features = features.copy()
        features[unsafe] = scaled
        norms[unsafe] = np.sqrt(np.einsum("ij,ij->i", scaled, scaled))
    return features / np.maximum(norms, np.float32(1e-12))[:, None]


def _row_peaks(array: np.ndarray) -> np.ndarray:
    """``(N,)`` largest absolute value of each row of ``(N, D)`` (NaN where a row has NaN)."""
    return np.abs(array).max(axis=1, initial=0.0)


def check_dets(dets: Any) -> np.ndarray:
    """``(N, 6)`` float64 copy of ``dets``; ``ValueError`` for any other shape."""
    try:
        array = np.asarray(dets, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"dets must be a numeric (N, 6) array: {error}") from None
    if array.size == 0 and array.ndim in (1, 2) and (array.ndim == 1 or array.shape[1] == 6):
        return np.empty((0, 6))
    if array.ndim != 2 or array.shape[1] != 6:
        raise ValueError(
            f"dets must have shape (N, 6) [x1, y1, x2, y2, conf, cls], got {array.shape}"
        )
    return array


def check_warp(warp: Any) -> np.ndarray:
    """``(2, 3)`` float64 finite camera warp; ``ValueError`` otherwise."""
    array = np.asarray(warp, dtype=np.float64)
    if array.shape != (2, 3) or not np.isfinite(array).all():
        raise ValueError(f"camera_warp must be a finite (2, 3) [R | t] matrix, got {array.shape}")
    return array


def check_frame(frame: Any) -> None:
    """``ValueError`` unless ``frame`` is a non-empty ``uint8`` HxWx3 or HxW image."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise ValueError(f"frame must be a uint8 numpy image, got {type(frame).__name__}")
    if not (frame.ndim == 2 or (frame.ndim == 3 and frame.shape[2] == 3)) or frame.size == 0:
        raise ValueError(f"frame must be HxWx3 (BGR) or HxW, got shape {frame.shape}")


def valid_rows(dets: np.ndarray) -> np.ndarray:
    """``(N,)`` mask of rows with finite values, sane coordinates and positive size."""
    finite = np.isfinite(dets).all(axis=1)
    sane = (np.abs(np.where(finite[:, None], dets[:, :4], 0.0)) <= MAX_ABS_COORDINATE).all(axis=1)
    return finite & sane & (dets[:, 2] > dets[:, 0]) & (dets[:, 3] > dets[:, 1])
