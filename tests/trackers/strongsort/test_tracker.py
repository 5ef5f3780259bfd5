"""Tracker core: MC cost and gating, IoU second chance, life cycle, NSA and appearance updates."""

import numpy as np
import pytest

from trackers import StrongSORT, StrongSORTConfig
from trackers.strongsort.appearance import normalize_rows
from trackers.strongsort.kalman_filter import CHI2_95_4DOF
from trackers.strongsort.linear_assignment import INFTY_COST
from trackers.strongsort.track import xyxy_to_xyah
from trackers.strongsort.tracker import IdCounter, Tracker

DIM = 8


def _step(tracker, boxes, features, conf=0.9):
    boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
    n = boxes.shape[0]
    tracker.step(
        boxes,
        np.full(n, conf, dtype=np.float64),
        np.zeros(n),
        normalize_rows(np.asarray(features, dtype=np.float32).reshape(n, -1)),
        np.arange(n, dtype=np.int64),
    )


def _dets(boxes, conf=0.9):
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    return np.column_stack([boxes, np.full(len(boxes), conf), np.zeros(len(boxes))])


def test_appearance_cost_is_the_mc_fusion_with_chi_square_gating():
    rng = np.random.default_rng(0)
    tracker = Tracker(StrongSORTConfig(cmc=None, n_init=1), IdCounter())
    boxes = np.array([[100, 100, 150, 220], [400, 120, 450, 240], [700, 90, 760, 230]], float)
    _step(tracker, boxes, rng.standard_normal((3, DIM)))
    tracks = tracker.tracks
    tracks.mean, tracks.covariance = tracker.kf.predict(tracks.mean, tracks.covariance)

    det_boxes = boxes + rng.normal(0, 3, boxes.shape)
    det_boxes[2] += 300  # far from every track: outside the gate
    measurements = xyxy_to_xyah(det_boxes)
    features = normalize_rows(rng.standard_normal((3, DIM)))
    rows = np.arange(3)
    cost = tracker._appearance_cost(rows, measurements, features)

    cosine = 1.0 - tracks.features[:, 0, :].astype(np.float64) @ features.T.astype(np.float64)
    maha = tracker.kf.gating_distance(tracks.mean, tracks.covariance, measurements)
    expected = 0.98 * cosine + 0.02 * maha
    expected[maha > 9.4877] = INFTY_COST
    assert CHI2_95_4DOF == 9.4877
    assert np.all(maha[:, 2] > CHI2_95_4DOF) and np.any(maha <= CHI2_95_4DOF)
    np.testing.assert_allclose(cost, expected, rtol=1e-6, atol=1e-6)

    cosine_only = Tracker(StrongSORTConfig(cmc=None, n_init=1, mc_lambda=None), IdCounter())
    cosine_only.tracks = tracks
    plain = cosine_only._appearance_cost(rows, measurements, features)
    expected = cosine.copy()
    expected[maha > 9.4877] = INFTY_COST
    np.testing.assert_allclose(plain, expected, rtol=1e-6, atol=1e-6)


def test_iou_stage_gives_a_second_chance_only_to_tracks_seen_in_the_previous_frame():
    box = [[100, 100, 150, 220]]
    first, other = np.eye(DIM)[:1], np.eye(DIM)[1:2]  # orthogonal: cosine distance 1
    tracker = StrongSORT(cmc=None, n_init=1)
    assert tracker.update(_dets(box), embs=first)[:, 4].tolist() == [1]
    # Appearance rejects the pair (cost 0.98 > 0.45); the box overlap still matches it.
    assert tracker.update(_dets(box), embs=other)[:, 4].tolist() == [1]

    tracker = StrongSORT(cmc=None, n_init=1)
    tracker.update(_dets(box), embs=first)
    tracker.update(np.empty((0, 6)))  # missed once: no longer an IoU candidate
    out = tracker.update(_dets(box), embs=other)
    assert out[out[:, 7] >= 0, 4].tolist() == [2] and tracker.num_tracks == 2


def test_iou_stage_threshold_is_max_iou_distance_0_7():
    base = np.array([100.0, 100.0, 200.0, 300.0])
    first, other = np.eye(DIM)[:1], np.eye(DIM)[1:2]
    for shift, same in ((40, True), (65, False)):  # IoU 0.43 (cost 0.57) / IoU 0.21 (0.79)
        tracker = StrongSORT(cmc=None, n_init=1)
        tracker.update(_dets(base), embs=first)
        out = tracker.update(_dets(base + [shift, 0, shift, 0]), embs=other)
        assert (out[:, 4].tolist() == [1]) is same, shift


def test_tentative_tracks_die_on_their_first_miss_and_confirm_after_n_init_hits():
    box = [[100, 100, 150, 220]]
    emb = np.eye(DIM)[:1]
    tracker = StrongSORT(cmc=None, n_init=3, confirm_first_frame=False)
    tracker.update(_dets(box), embs=emb)
    tracker.update(_dets(box), embs=emb)
    assert tracker.num_tracks == 1
    tracker.update(np.empty((0, 6)))
    assert tracker.num_tracks == 0
    outputs = [tracker.update(_dets(box), embs=emb) for _ in range(3)]
    assert [len(o) for o in outputs] == [0, 0, 1] and outputs[2][0, 4] == 2


def test_confirmed_track_survives_max_age_misses_by_default_30():
    tracker = StrongSORT(cmc=None, n_init=1)
    assert tracker.config.max_age == 30
    tracker.update(_dets([[100, 100, 150, 220]]), embs=np.eye(DIM)[:1])
    for _ in range(30):
        tracker.update(np.empty((0, 6)))
    assert tracker.num_tracks == 1
    tracker.update(np.empty((0, 6)))
    assert tracker.num_tracks == 0


@pytest.mark.parametrize("conf", [0.3, 0.95])
def test_nsa_trusts_confident_detections_more(conf):
    emb = np.eye(DIM)[:1]
    results = {}
    for nsa in (False, True):
        tracker = StrongSORT(cmc=None, n_init=1, nsa=nsa, min_conf=0.0)
        tracker.update(_dets([[100, 100, 150, 220]], conf), embs=emb)
        out = tracker.update(_dets([[110, 100, 160, 220]], conf), embs=emb)
        results[nsa] = abs(out[0, 0] - 110)
    # NSA noise (1 - c) R: below DeepSORT's R for any c > 0, so the update moves closer.
    assert results[True] < results[False]


def test_nsa_update_equals_the_kalman_update_with_scaled_noise():
    cfg = StrongSORTConfig(cmc=None, n_init=1)
    tracker = Tracker(cfg, IdCounter())
    _step(tracker, [[100, 100, 150, 220]], np.eye(DIM)[:1], conf=0.8)
    mean, cov = tracker.kf.predict(tracker.tracks.mean, tracker.tracks.covariance)
    measurement = xyxy_to_xyah(np.array([[104.0, 101, 154, 221]]))
    expected, _ = tracker.kf.update(mean, cov, measurement, np.array([0.7]))
    _step(tracker, [[104, 101, 154, 221]], np.eye(DIM)[:1], conf=0.7)
    np.testing.assert_allclose(tracker.tracks.mean, expected, rtol=1e-12)


def test_ema_embedding_update_with_alpha_0_9():
    rng = np.random.default_rng(0)
    e1 = normalize_rows(rng.standard_normal((1, DIM)))
    e2 = normalize_rows(e1 + 0.3 * rng.standard_normal((1, DIM)))
    # The paper's fixed weight (ema_adaptive=False; the adaptive one: test_association_options).
    tracker = Tracker(StrongSORTConfig(cmc=None, n_init=1, ema_adaptive=False), IdCounter())
    _step(tracker, [[100, 100, 150, 220]], e1)
    _step(tracker, [[102, 100, 152, 220]], e2)
    assert tracker.config.ema_alpha == 0.9 and tracker.tracks.features.shape == (1, 1, DIM)
    expected = normalize_rows(0.9 * e1 + 0.1 * e2)
    np.testing.assert_allclose(tracker.tracks.features[0], expected, rtol=1e-6)


def test_gallery_mode_keeps_the_last_nn_budget_embeddings():
    embeddings = normalize_rows(np.eye(DIM)[:5] + 3.0)  # similar enough to keep matching
    tracker = Tracker(
        StrongSORTConfig(cmc=None, n_init=1, ema_alpha=None, nn_budget=3), IdCounter()
    )
    for t, emb in enumerate(embeddings):
        _step(tracker, [[100 + t, 100, 150 + t, 220]], emb[None])
    tracks = tracker.tracks
    assert len(tracks) == 1 and tracks.features.shape == (1, 3, DIM)
    assert tracks.feature_count.tolist() == [5]
    stored = sorted(map(tuple, tracks.features[0].round(6)))
    assert stored == sorted(map(tuple, embeddings[2:].round(6)))


def test_ecc_is_skipped_while_no_track_exists():
    import cv2

    rng = np.random.default_rng(0)
    frame = cv2.GaussianBlur((rng.random((240, 320, 3)) * 255).astype(np.uint8), (0, 0), 3)
    tracker = StrongSORT()  # cmc="ecc"
    tracker.update(np.empty((0, 6)), frame)
    assert tracker._ecc.last_status == "first"
    tracker.update(np.empty((0, 6)), frame)
    assert tracker._ecc.last_status == "skipped"
    tracker.update(_dets([[100, 100, 150, 220]]), frame, embs=np.eye(DIM)[:1])
    assert tracker._ecc.last_status == "skipped"  # the track is born after CMC ran
    tracker.update(_dets([[100, 100, 150, 220]]), frame, embs=np.eye(DIM)[:1])
    assert tracker._ecc.last_status == "ok"
    assert tracker.stats["cmc_failures"] == 0
