"""Camera motion compensation with OpenCV's ECC image alignment, online, frame to frame.

:class:`ECC` estimates the rigid (Euclidean: rotation + translation) warp that maps pixel
coordinates of the previous frame to the current frame, on downscaled grayscale copies (scale
0.1 as the authors). A failed or impossible estimate (first frame, a frame size change, no
convergence) gives the identity, so tracking never stops because of CMC. :func:`warp_tracks`
applies a warp to all Kalman states at once.

Speed (``scripts/bench_cmc.py``): ECC's cost is its iterations, about 0.3 ms each on a 192x108
image. The authors' criteria (100 iterations, eps 1e-5) rarely stop early: on a static or
slowly moving camera the correlation keeps changing by more than 1e-5 from image noise and
walking people, so a 1080p frame often cost 30 ms. The defaults here keep the accuracy (corner
displacement against a fine-scale reference within about 1.3 px at 1080p on MOT17's
moving-camera sequences, as the authors' criteria) at a small fraction of the cost:

* criteria of 30 iterations and eps 1e-3: from a good start ECC reaches a correlation within
  1e-3 of its optimum in a few iterations, and the iterations after that move the frame
  corners by a few tenths of a pixel;
* a less aliased downscale (a bilinear resize to twice the target, then a 2x2 area average)
  than a 10x bilinear resize, which gives ECC a smoother cost surface;
* a warm start from the previous frame's warp (camera motion is smooth);
* a check of each result by its correlation coefficient ``rho``: a result below the
  correlation of the unaligned frames (doing nothing would align better), far below the
  previous frame's ``rho`` or low (:data:`RHO_LOW`) is not trusted, and the alignment is
  retried from the identity, then coarse to fine (half the scale first, for jumps beyond ECC's
  reach at full scale); the best ``rho`` wins. A warm start from a sudden camera jump, which
  the loose criteria cannot walk back from, costs one retry instead of a wrong warp. On real
  videos (MOT17, the shared clips) no retry happens: the check costs one ``cv2.computeECC``.
"""

from __future__ import annotations

from typing import Iterator, Optional, Tuple

import cv2
import numpy as np

IDENTITY = np.eye(2, 3)

_MOTION_TYPES = {"euclidean": cv2.MOTION_EUCLIDEAN, "translation": cv2.MOTION_TRANSLATION}
# A result is trusted when its correlation is at least the unaligned frames' one less
# RHO_TOLERANCE (the loose eps stops up to ~1e-3 short of the optimum on a static camera), at
# most RHO_DROP below the previous frame's correlation and at least RHO_LOW (aligned frames of
# real videos reach 0.9 and more; wrong alignments after jumps stay below 0.4). An untrusted
# result only costs the retries.
RHO_TOLERANCE = 2e-3
RHO_DROP = 0.1
RHO_LOW = 0.7


class ECC:
    """Online ECC motion estimation between consecutive frames.

    Args:
        scale: Downscale factor applied before alignment (0.1 turns 1080p into 192x108).
        max_iter: Iteration limit of ``cv2.findTransformECC``.
        eps: Convergence threshold on the correlation-coefficient increment.
        motion: ``"euclidean"`` (rotation + translation) or ``"translation"``.
        warm_start: Start each alignment from the previous frame's warp instead of the
            identity.

    Attributes:
        last_status: Outcome of the last :meth:`estimate` call: ``"ok"``, ``"first"`` (no previous
            frame), ``"reset"`` (frame size changed), ``"skipped"`` or ``"failed"``.
        last_rho: ECC correlation coefficient of the last ``"ok"`` estimate (1 = identical
            aligned images), ``None`` after any other outcome.
    """

    def __init__(
        self,
        scale: float = 0.1,
        max_iter: int = 30,
        eps: float = 1e-3,
        motion: str = "euclidean",
        warm_start: bool = True,
    ):
        if not 0.0 < scale <= 1.0:
            raise ValueError(f"scale must be in (0, 1], got {scale!r}")
        if motion not in _MOTION_TYPES:
            raise ValueError(f"motion must be one of {sorted(_MOTION_TYPES)}, got {motion!r}")
        self.scale = float(scale)
        self.motion = motion
        self.warm_start = bool(warm_start)
        self.criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, int(max_iter), float(eps))
        self.last_status = "first"
        self.last_rho: Optional[float] = None
        self._previous: Optional[np.ndarray] = None
        self._frame_shape: Optional[Tuple[int, ...]] = None
        self._last_warp: Optional[np.ndarray] = None  # float32 (2, 3), downscaled pixels

    def reset(self) -> None:
        """Forget the previous frame (the next estimate is the identity)."""
        self._previous = None
        self._frame_shape = None
        self._last_warp = None
        self.last_status = "first"
        self.last_rho = None

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
        start, self._last_warp = self._last_warp, None
        expected_rho, self.last_rho = self.last_rho, None
        if previous is None or shape_changed:
            self.last_status = "first" if previous is None else "reset"
            return IDENTITY.copy()
        if skip:
            self.last_status = "skipped"
            return IDENTITY.copy()
        found = self._align(previous, small, start if self.warm_start else None, expected_rho)
        if found is None:
            self.last_status = "failed"
            return IDENTITY.copy()
        self.last_status = "ok"
        self.last_rho, warp = found
        self._last_warp = warp
        full = warp.astype(np.float64)
        full[0, 2] /= small.shape[1] / frame.shape[1]
        full[1, 2] /= small.shape[0] / frame.shape[0]
        return full

    def _align(
        self,
        previous: np.ndarray,
        current: np.ndarray,
        start: Optional[np.ndarray],
        expected_rho: Optional[float],
    ) -> Optional[Tuple[float, np.ndarray]]:
        """``(rho, float32 (2, 3) warp in downscaled pixels)`` from ``previous`` to ``current``;
        ``None`` when every attempt failed.

        Attempts, until one is trusted (see :data:`RHO_LOW`): from ``start`` (when
        given), from the identity, coarse to fine from the identity. The best ``rho`` wins; the
        identity wins over results that align worse than the unaligned frames."""
        unaligned = float(np.nan_to_num(cv2.computeECC(previous, current), nan=-1.0))
        floor = max(unaligned - RHO_TOLERANCE, RHO_LOW)
        if expected_rho is not None:
            floor = max(floor, expected_rho - RHO_DROP)
        best = None
        for found in self._attempts(previous, current, start):
            if found is not None and (best is None or found[0] > best[0]):
                best = found
            if best is not None and best[0] >= floor:
                break
        if best is not None and best[0] < unaligned:
            return unaligned, np.eye(2, 3, dtype=np.float32)
        return best

    def _attempts(
        self, previous: np.ndarray, current: np.ndarray, start: Optional[np.ndarray]
    ) -> Iterator[Optional[Tuple[float, np.ndarray]]]:
        """The alignments to try, in order, each computed only when asked for."""
        if start is not None:
            yield self._run(previous, current, start)
        yield self._run(previous, current, np.eye(2, 3, dtype=np.float32))
        yield self._coarse_to_fine(previous, current)

    def _coarse_to_fine(
        self, previous: np.ndarray, current: np.ndarray
    ) -> Optional[Tuple[float, np.ndarray]]:
        """Align half-size copies from the identity, then refine at full size."""
        size = (max(8, previous.shape[1] // 2), max(8, previous.shape[0] // 2))
        coarse = [
            cv2.resize(image, size, interpolation=cv2.INTER_AREA) for image in (previous, current)
        ]
        found = self._run(*coarse, np.eye(2, 3, dtype=np.float32))
        if found is None:
            return None
        warp = found[1].copy()
        warp[0, 2] *= previous.shape[1] / size[0]
        warp[1, 2] *= previous.shape[0] / size[1]
        return self._run(previous, current, warp)

    def _run(
        self, previous: np.ndarray, current: np.ndarray, initial: np.ndarray
    ) -> Optional[Tuple[float, np.ndarray]]:
        """One ``cv2.findTransformECC`` call from ``initial``; ``None`` on failure."""
        try:
            # template = previous, input = current: the warp maps previous-frame
            # coordinates into the current frame.
            rho, warp = cv2.findTransformECC(
                previous,
                current,
                initial.copy(),
                _MOTION_TYPES[self.motion],
                self.criteria,
                None,
                1,
            )
        except cv2.error:
            return None
        if not (np.isfinite(rho) and np.all(np.isfinite(warp))):
            return None
        return float(rho), warp

    def _preprocess(self, frame: np.ndarray) -> np.ndarray:
        """Downscale to ``scale`` with little aliasing, then gray.

        A 10x bilinear resize samples one pixel per output pixel (aliasing, a rougher ECC cost
        surface); an area average of the full frame costs ~1.4 ms at 1080p. A bilinear resize
        to twice the target, then a 2x2 area average, averages 4 samples per output pixel for
        ~0.35 ms and aligns as accurately as the full area average on MOT17.
        """
        height, width = frame.shape[:2]
        size = (max(8, round(width * self.scale)), max(8, round(height * self.scale)))
        small = frame
        if 2 * size[0] < width and 2 * size[1] < height:
            small = cv2.resize(frame, (2 * size[0], 2 * size[1]), interpolation=cv2.INTER_LINEAR)
        if small.shape[1::-1] != size:
            small = cv2.resize(small, size, interpolation=cv2.INTER_AREA)
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
