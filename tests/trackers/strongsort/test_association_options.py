"""Cheap association switches: confidence boost, adaptive EMA, height-modulated IoU."""

import numpy as np
import pytest

from trackers import StrongSORT
from trackers.strongsort.appearance import adaptive_alpha, ema_update, normalize_rows
from trackers.strongsort.boost import boost_confidence, predicted_boxes
from trackers.strongsort.iou_matching import height_iou_matrix, iou_cost, iou_matrix
from trackers.strongsort.track import xyxy_to_xyah


def test_boost_is_beta_times_the_best_iou_above_the_floor():
    tracks = np.array([[0, 0, 10, 10], [100, 100, 110, 120]], dtype=float)
    boxes = np.array([[0, 0, 10, 10], [0, 0, 10, 20], [100, 100, 110, 120], [500, 5, 510, 9]])
    conf = np.array([0.2, 0.5, 0.1, 0.4])
    boosted = boost_confidence(boxes.astype(float), conf, tracks, beta=0.9, floor=0.15)
    expected_iou = iou_matrix(boxes.astype(float), tracks).max(axis=1)
    assert np.allclose(boosted[:2], np.maximum(conf[:2], 0.9 * expected_iou[:2]))
    assert boosted[2] == 0.1  # below the floor: never boosted, even on a perfect overlap
    assert boosted[3] == 0.4  # no overlap: unchanged
    assert np.array_equal(boost_confidence(boxes, conf, np.empty((0, 4)), 0.9, 0.0), conf)


def test_predicted_boxes_are_the_kalman_prediction():
    tracker = StrongSORT(cmc=None, n_init=1)
    for t in range(5):
        tracker.update(np.array([[10 + 4 * t, 20, 50 + 4 * t, 120, 0.9, 0]]), embs=np.ones((1, 4)))
    (group,) = tracker._trackers.values()
    mean, cov = group.kf.predict(group.tracks.mean, group.tracks.covariance)
    expected = xyxy_to_xyah(predicted_boxes(group.tracks.mean))
    assert np.allclose(expected, mean[:, :4])


def _occluded_walk(tracker, low_conf):
    """A walker detected with 0.9, then for 5 frames with ``low_conf`` (half occluded), then
    0.9 again; a second, unrelated low-confidence box appears far away. Returns identities
    per frame (0: not in the output) and the largest number of output rows."""
    ids, rows = [], 0
    embedding = np.ones((2, 8), dtype=np.float32)
    embedding[1, :4] = -1
    for t in range(20):
        conf = low_conf if 8 <= t < 13 else 0.9
        x = 100 + 5 * t
        dets = np.array([[x, 100, x + 40, 200, conf, 0], [600, 50, 640, 150, 0.4, 0]])
        out = tracker.update(dets, embs=embedding)
        walker = out[out[:, 7] == 0]
        ids.append(int(walker[0, 4]) if len(walker) else 0)
        rows = max(rows, len(out))
    return np.array(ids), rows


def test_boost_keeps_an_occluded_person_and_never_starts_tracks_from_boosted_boxes():
    plain_ids, _ = _occluded_walk(StrongSORT(cmc=None, n_init=2), low_conf=0.45)
    assert (plain_ids[8:13] == 0).all()  # dropped below min_conf

    boosted = StrongSORT(
        cmc=None, n_init=2, conf_boost=0.9, boost_min_conf=0.3, embed_skip=False
    )
    ids, rows = _occluded_walk(boosted, low_conf=0.45)
    assert (ids[1:] == ids[1]).all() and ids[1] > 0  # followed through the occlusion
    assert rows == 1  # the far 0.4 box overlaps no track: not boosted, no track

    # select() agrees with update(): it reports the boosted rows before the update.
    dets = np.array([[200, 100, 240, 200, 0.45, 0], [600, 50, 640, 150, 0.4, 0]])
    assert boosted.select(dets).tolist() == [True, False]
    assert StrongSORT(cmc=None).select(dets).tolist() == [False, False]


def test_boosted_boxes_alone_never_create_identities():
    tracker = StrongSORT(cmc=None, conf_boost=1.0, boost_min_conf=0.1, n_init=1)
    for _ in range(5):
        out = tracker.update(np.array([[10, 10, 50, 110, 0.5, 0]]), embs=np.ones((1, 4)))
    assert out.shape == (0, 8) and tracker.num_tracks == 0


def test_adaptive_alpha_follows_deep_oc_sort():
    conf = np.array([0.6, 0.8, 1.0, 0.3])
    alpha = adaptive_alpha(conf, alpha=0.9, min_conf=0.6)
    expected = 0.9 + 0.1 * (1 - (np.clip(conf, 0.6, 1.0) - 0.6) / 0.4)
    assert np.allclose(alpha, expected)
    assert alpha[0] == 1.0 and np.isclose(alpha[2], 0.9)


def test_ema_update_takes_one_weight_per_row():
    rng = np.random.default_rng(0)
    bank = normalize_rows(rng.standard_normal((3, 6)))[:, None, :].copy()
    new = normalize_rows(rng.standard_normal((2, 6)))
    before = bank.copy()
    ema_update(bank, np.array([0, 2]), new, np.array([1.0, 0.5]))
    assert np.allclose(bank[0], before[0]) and np.allclose(bank[1], before[1])
    assert np.allclose(bank[2, 0], normalize_rows(0.5 * before[2] + 0.5 * new[1:2])[0], atol=1e-6)


def test_adaptive_ema_keeps_the_appearance_of_an_uncertain_detection():
    def final_feature(adaptive):
        tracker = StrongSORT(cmc=None, n_init=1, ema_adaptive=adaptive, embed_skip=False)
        first, second = np.eye(4, dtype=np.float32)[:2]
        tracker.update(np.array([[10, 10, 50, 110, 0.95, 0]]), embs=first[None])
        tracker.update(np.array([[12, 10, 52, 110, 0.6, 0]]), embs=(first + second)[None])
        (group,) = tracker._trackers.values()
        return group.tracks.features[0, 0]

    assert np.allclose(final_feature(True), [1, 0, 0, 0])  # conf = min_conf: alpha = 1
    assert final_feature(False)[1] > 0.01


def test_height_iou_and_height_modulated_cost():
    a = np.array([[0, 0, 10, 100]], dtype=float)
    b = np.array([[0, 50, 10, 150], [0, 0, 10, 100], [20, 0, 30, 100], [0, 200, 10, 300]], float)
    assert np.allclose(height_iou_matrix(a, b), [[50 / 150, 1.0, 1.0, 0.0]])
    plain = iou_cost(a, b)
    modulated = iou_cost(a, b, height_modulated=True)
    assert np.allclose(1 - modulated, (1 - plain) * height_iou_matrix(a, b))
    assert modulated[0, 0] > plain[0, 0] and modulated[0, 1] == pytest.approx(0.0)
