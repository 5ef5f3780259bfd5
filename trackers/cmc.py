"""Camera motion compensation with OpenCV's ECC image alignment, online, frame to frame.

:class:`ECC` estimates the rigid (Euclidean: rotation + translation) warp that maps pixel
coordinates of the previous frame to the current frame, on downscaled grayscale copies (the
authors' settings: scale 0.1, 100 iterations, eps 1e-5). A failed or impossible estimate
(first frame, a frame size change, no convergence) gives the identity, so tracking never stops
because of CMC. :func:`warp_tracks` applies a warp to all Kalman states at once.
"""

from __future__ import annotations

from typing import Optional, Tuple

import cv2
import numpy as np

IDENTITY = np.eye(2, 3)

_MOTION_TYPES = {"euclidean": cv2.MOTION_EUCLIDEAN, "translation": cv2.MOTION_TRANSLATION}


class ECC:
    """Online ECC motion estimation between consecutive frames.

    Args:
        scale: Downscale factor applied before alignment (0.1 turns 1080p into 192x108).
        max_iter: Iteration limit of ``cv2.findTransformECC``.
        eps: Convergence threshold on the correlation-coefficient increment.
        motion: ``"euclidean"`` (rotation + translation) or ``"translation"``.

    Attributes:
        last_status: Outcome of the last :meth:`estimate` call: ``"ok"``, ``"first"`` (no previous
            frame), ``"reset"`` (frame size changed), ``"skipped"`` or ``"failed"``.
    """

    def __init__(
        self, scale: float = 0.1, max_iter: int = 100, eps: float = 1e-5, motion: str = "euclidean"
    ):
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"scale must be in (0, 1], got {scale!r}")
        if motion not in _MOTION_TYPES:
            raise ValueError(f"motion must be one of {sorted(_MOTION_TYPES)}, got {motion!r}")
        self.scale = float(scale)
        self.motion = motion
        self.criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, int(max_iter), float(eps))
        self.last_status = "first"
        self._previous: Optional[np.ndarray] = None
        self._frame_shape: Optional[Tuple[int, ...]] = None

    def reset(self) -> None:
        """Forget the previous frame (the next estimate is the identity)."""
        self._previous = None
        self._frame_shape = None
        self.last_status = "first"

    def estimate(self, frame: np.ndarray, skip: bool = False) -> np.ndarray:
        """Warp from the previous frame to ``frame``; ``frame`` becomes the new reference.

        Args:
            frame: ``uint8`` image, ``HxWx3`` BGR or ``HxW`` grayscale.
            skip: Only store the frame and return the identity (used when no track exists).

        Returns:
            ``(2, 3)`` float64 matrix ``[R | t]`` in full-resolution pixels:
            ``p_current = R @ p_previous + t``.
        """
        small = self._preprocess(frame)
        previous, shape_changed = self._previous, self._frame_shape != frame.shape
        self._previous, self._frame_shape = small, frame.shape
        if previous is None or shape_changed:
            self.last_status = "first" if previous is None else "reset"
            return IDENTITY.copy()
        if skip:
            self.last_status = "skipped"
            return IDENTITY.copy()
        warp = np.eye(2, 3, dtype=np.float32)
        try:
            # template = previous, input = current: the warp maps previous-frame coordinates
            # into the current frame.
            _, warp = cv2.findTransformECC(
                previous, small, warp, _MOTION_TYPES[self.motion], self.criteria, None, 1
            )
        except cv2.error:
            self.last_status = "failed"
            return IDENTITY.copy()
        if not np.all(np.isfinite(warp)):
            self.last_status = "failed"
            return IDENTITY.copy()
        self.last_status = "ok"
        full = warp.astype(np.float64)
        full[0, 2] /= small.shape[1] / frame.shape[1]
        full[1, 2] /= small.shape[0] / frame.shape[0]
        return full

    def _preprocess(self, frame: np.ndarray) -> np.ndarray:
        """Downscale first (cheap on the full frame), then convert to gray."""
        height, width = frame.shape[:2]
        size = (max(8, round(width * self.scale)), max(8, round(height * self.scale)))
        small = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
        if small.ndim == 3:
            small = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
        return small


def warp_tracks(mean: np.ndarray, covariance: np.ndarray, warp: np.ndarray) -> None:
    """Move Kalman states into the current camera frame, in place.

    The centre is mapped by the full warp, the centre velocity and the corresponding covariance
    blocks are rotated by ``R``; aspect ratio and height are unchanged by a rigid motion.

    Args:
        mean: ``(T, 8)`` means ``(x, y, a, h, vx, vy, va, vh)``.
        covariance: ``(T, 8, 8)`` covariances.
        warp: ``(2, 3)`` matrix ``[R | t]`` from :meth:`ECC.estimate`.
    """
    rotation, translation = warp[:, :2], warp[:, 2]
    mean[:, 0:2] = mean[:, 0:2] @ rotation.T + translation
    mean[:, 4:6] = mean[:, 4:6] @ rotation.T
    transform = np.eye(8)
    transform[0:2, 0:2] = rotation
    transform[4:6, 4:6] = rotation
    covariance[:] = transform @ covariance @ transform.T
