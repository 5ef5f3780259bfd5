"""IoU, appearance memory, box conversions and the track store."""

import numpy as np
import pytest

from trackers.strongsort.appearance import (
    cosine_distance,
    ema_update,
    gallery_push,
    normalize_rows,
    small_matmul,
)
from trackers.strongsort.iou_matching import iou_cost, iou_matrix
from trackers.strongsort.track import TrackSet, TrackState, xyah_to_xyxy, xyxy_to_xyah


def test_iou_known_values():
    a = np.array([[0, 0, 10, 10], [0, 0, 2, 2]], dtype=float)
    b = np.array([[0, 0, 10, 10], [5, 0, 15, 10], [20, 20, 30, 30]], dtype=float)
    expected = np.array([[1, 50 / 150, 0], [0.04, 0, 0]])
    np.testing.assert_allclose(iou_matrix(a, b), expected)
    np.testing.assert_allclose(iou_cost(a, b), 1 - expected)
    assert iou_matrix(a, np.empty((0, 4))).shape == (2, 0)


def test_iou_of_degenerate_boxes_is_zero_not_nan():
    zero = np.array([[5, 5, 5, 5]], dtype=float)
    assert iou_matrix(zero, zero)[0, 0] == 0.0


def test_box_conversions_round_trip():
    boxes = np.array([[10, 20, 50, 120], [0.5, 1.5, 2.5, 9.5]])
    xyah = xyxy_to_xyah(boxes)
    np.testing.assert_allclose(xyah[0], [30, 70, 0.4, 100])
    np.testing.assert_allclose(xyah_to_xyxy(xyah), boxes)


def test_normalize_keeps_zero_rows_zero():
    out = normalize_rows(np.array([[3.0, 4.0], [0.0, 0.0]]))
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.6, 0.8], [0, 0]])


def test_small_matmul_equals_matmul_for_large_products():
    rng = np.random.default_rng(0)
    left = rng.standard_normal((300, 512)).astype(np.float32)
    right = rng.standard_normal((512, 40)).astype(np.float32)
    np.testing.assert_allclose(small_matmul(left, right), left @ right, rtol=1e-5, atol=1e-4)


def test_cosine_distance_ema_bank():
    bank = normalize_rows(np.array([[1.0, 0], [0, 1.0]]))[:, None, :]
    features = normalize_rows(np.array([[1.0, 0], [1.0, 1.0]]))
    distance = cosine_distance(bank, np.array([1, 1]), features)
    np.testing.assert_allclose(distance, [[0, 1 - 2**-0.5], [1, 1 - 2**-0.5]], atol=1e-6)


def test_ema_update_follows_the_paper():
    bank = np.array([[[1.0, 0.0]]], dtype=np.float32)
    new = np.array([[0.0, 1.0]], dtype=np.float32)
    ema_update(bank, np.array([0]), new, alpha=0.9)
    expected = np.array([0.9, 0.1]) / np.hypot(0.9, 0.1)
    np.testing.assert_allclose(bank[0, 0], expected, rtol=1e-6)


def test_gallery_is_a_ring_buffer_with_nearest_neighbour_distance():
    budget = 3
    bank = np.zeros((2, budget, 2), dtype=np.float32)
    counts = np.array([1, 1])
    bank[:, 0] = [[1, 0], [1, 0]]
    probe = normalize_rows(np.array([[0.0, 1.0]]))
    # Empty slots (zeros) must not count as neighbours at distance 1.
    assert cosine_distance(bank, counts, probe)[0, 0] == pytest.approx(1.0)
    gallery_push(bank, counts, np.array([0]), probe)
    assert counts.tolist() == [2, 1]
    assert cosine_distance(bank, counts, probe)[:, 0] == pytest.approx([0.0, 1.0])
    for _ in range(budget):  # overwrite the oldest entries, the probe falls out
        gallery_push(bank, counts, np.array([0]), np.array([[1.0, 0.0]], dtype=np.float32))
    assert cosine_distance(bank, counts, probe)[0, 0] == pytest.approx(1.0)


def test_track_set_append_and_keep():
    tracks = TrackSet(budget=1, dim=2)
    assert len(tracks) == 0
    tracks.append(
        mean=np.zeros((3, 8)),
        covariance=np.zeros((3, 8, 8)),
        track_id=np.array([1, 2, 3]),
        state=np.full(3, TrackState.TENTATIVE),
        conf=np.ones(3),
        cls=np.zeros(3),
        det_index=np.array([0, 1, 2]),
        features=np.eye(3, 2, dtype=np.float32),
    )
    assert len(tracks) == 3 and tracks.hits.tolist() == [1, 1, 1]
    assert tracks.features.shape == (3, 1, 2)
    tracks.keep(np.array([True, False, True]))
    assert tracks.track_id.tolist() == [1, 3]
    assert tracks.features.shape == (2, 1, 2)
    assert tracks.boxes_xyxy().shape == (2, 4)
