"""Precomputed detections from a MOTChallenge ``det.txt``, looked up by frame number."""

from __future__ import annotations

import numpy as np

from strongsort_reid.utils.motchallenge import MOTDetections

from ..sources import Frame


class DetFileDetector:
    """Serve the rows of ``det.txt`` for each frame (``frame, -1, x, y, w, h, conf, ...``).

    Args:
        path: The ``det.txt`` file.
        min_conf: Rows below this confidence are left out.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: The file is not a detection file.
    """

    def __init__(self, path, min_conf: float = 0.0):
        self.detections = MOTDetections(path)
        self.min_conf = float(min_conf)
        self.name = f"detections from {path}"

    def detect(self, frame: Frame) -> np.ndarray:
        """``(N, 6)`` float32 ``[x1, y1, x2, y2, conf, 0]`` of ``frame.number``."""
        dets, _ = self.detections.frame(frame.number)
        return dets[dets[:, 4] >= self.min_conf].astype(np.float32)
