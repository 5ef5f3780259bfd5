"""ReID evaluation: distances, rank metrics (CMC, mAP, mINP), re-ranking, accuracy."""

from strongsort_reid.metrics.accuracy import accuracy
from strongsort_reid.metrics.distance import (
    AVAILABLE_METRICS,
    compute_distance_matrix,
    cosine_distance,
    euclidean_squared_distance,
)
from strongsort_reid.metrics.rank import evaluate_rank, rank_gallery
from strongsort_reid.metrics.rerank import re_ranking

__all__ = [
    "AVAILABLE_METRICS",
    "accuracy",
    "compute_distance_matrix",
    "cosine_distance",
    "euclidean_squared_distance",
    "evaluate_rank",
    "rank_gallery",
    "re_ranking",
]
