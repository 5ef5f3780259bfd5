"""Calling an appearance embedder: the one place that checks what ``from_frame`` returns.

An embedder is any object with ``from_frame(frame, boxes_xyxy) -> (N, D) float32`` (the
project's FeatureExtractor, a precomputed-feature lookup, a stand-in for motion-only tracking).
The tracker calls it from :meth:`~trackers.StrongSORT.update`; the video application calls it
as a stage of its own and passes the result to ``update`` as ``embs``.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def embed_boxes(embedder: Any, frame: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """Embeddings of ``boxes`` cut from ``frame``.

    Args:
        embedder: Object with ``from_frame(frame, boxes_xyxy)``.
        frame: ``uint8 HxWx3`` BGR image.
        boxes: ``(K, 4)`` float32 ``[x1, y1, x2, y2]`` in pixels.

    Returns:
        ``(K, D)`` float32 embeddings, row-aligned with ``boxes`` (not normalised here).

    Raises:
        ValueError: The embedder returned another shape.
    """
    features = embedder.from_frame(frame, boxes)
    if isinstance(features, tuple):
        # Extractors may also return a validity mask; their zero vectors for invalid crops
        # never match by appearance, so the mask is not needed here.
        features = features[0]
    features = np.asarray(features, dtype=np.float32)
    if features.ndim != 2 or features.shape[0] != len(boxes):
        raise ValueError(
            f"embedder.from_frame returned shape {features.shape}, expected ({len(boxes)}, D)"
        )
    return features
