"""What the demo needs of a detector: ``detect(frame) -> (N, 6) [x1, y1, x2, y2, conf, cls]``."""

from __future__ import annotations

import numpy as np

from ..sources import Frame


class ImageDetector:
    """A detector that only looks at pixels: subclasses implement ``__call__(image)``."""

    name = "detector"

    def __call__(self, image: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def detect(self, frame: Frame) -> np.ndarray:
        """``(N, 6)`` float32 ``[x1, y1, x2, y2, conf, cls]`` of ``frame.image``."""
        return self(frame.image)
