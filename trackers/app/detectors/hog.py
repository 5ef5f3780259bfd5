"""OpenCV's built-in HOG + linear SVM people detector (Dalal & Triggs): the demo's fallback when
no neural detector can be loaded. Its model is compiled into OpenCV, so nothing is downloaded.

It only finds upright people at least about 100 pixels tall, so small frames are upscaled first;
it is much less accurate than a CNN detector and meant to keep the demo working offline.
"""

from __future__ import annotations

from typing import Tuple

import cv2
import numpy as np

from .base import ImageDetector

# HOG's 64x128 window needs people of roughly that height or more: frames are scaled so that
# their height is about this many pixels (between 0.5x and 2x).
TARGET_HEIGHT = 720


class HogPeopleDetector(ImageDetector):
    """Detect people with ``cv2.HOGDescriptor_getDefaultPeopleDetector``.

    Args:
        iou: Boxes overlapping more than this IoU are suppressed (NMS).
        min_conf: Detections below this confidence are dropped.
        win_stride: Sliding-window step in pixels (smaller: slower, more detections).
        scale: Image pyramid factor.

    Calling it on a ``uint8 HxWx3`` BGR image returns ``(N, 6)`` float32
    ``[x1, y1, x2, y2, conf, cls=0]`` in pixels of that image. ``conf`` is the logistic function
    of the SVM margin (margin 0 -> 0.5), so the tracker's ``min_conf`` of 0.6 keeps detections
    with a margin above 0.4.
    """

    name = "OpenCV HOG people detector"

    def __init__(
        self,
        iou: float = 0.45,
        min_conf: float = 0.5,
        win_stride: Tuple[int, int] = (8, 8),
        scale: float = 1.05,
    ):
        if not hasattr(cv2, "HOGDescriptor"):
            raise RuntimeError(
                f"this OpenCV build ({cv2.__version__}) has no HOGDescriptor; install "
                "opencv-python<5 (OpenCV 5 moved it to opencv-contrib-python)"
            )
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.iou = float(iou)
        self.min_conf = float(min_conf)
        self.win_stride = tuple(win_stride)
        self.scale = float(scale)

    def __call__(self, image: np.ndarray) -> np.ndarray:
        factor = float(np.clip(TARGET_HEIGHT / image.shape[0], 0.5, 2.0))
        if abs(factor - 1.0) > 1e-3:
            image_for_hog = cv2.resize(image, None, fx=factor, fy=factor)
        else:
            image_for_hog = image
        rects, margins = self._hog.detectMultiScale(
            image_for_hog, winStride=self.win_stride, padding=(8, 8), scale=self.scale
        )
        if len(rects) == 0:
            return np.empty((0, 6), dtype=np.float32)
        rects = np.asarray(rects, dtype=np.float32).reshape(-1, 4) / factor
        conf = 1.0 / (1.0 + np.exp(-np.asarray(margins, dtype=np.float32).reshape(-1)))
        keep = cv2.dnn.NMSBoxes(rects.tolist(), conf.tolist(), self.min_conf, self.iou)
        keep = np.asarray(keep, dtype=np.int64).reshape(-1)
        out = np.zeros((keep.size, 6), dtype=np.float32)
        out[:, 0:2] = rects[keep, 0:2]
        out[:, 2:4] = rects[keep, 0:2] + rects[keep, 2:4]
        out[:, 4] = conf[keep]
        height, width = image.shape[:2]
        out[:, [0, 2]] = np.clip(out[:, [0, 2]], 0, width)
        out[:, [1, 3]] = np.clip(out[:, [1, 3]], 0, height)
        return out
