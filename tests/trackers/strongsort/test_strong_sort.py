"""StrongSORT facade: API contract, life cycle, bad input, per-class tracking, plotting."""


import numpy as np
import pytest
from import_checks import heavy_modules_after

from trackers import StrongSORT

DIM = 16


def _embeddings(rng, count, dim=DIM):
    return rng.standard_normal((count, dim)).astype(np.float32)


def _dets(boxes, conf=0.9, cls=0):
    boxes = np.asarray(boxes, dtype=float).reshape(-1, 4)
    return np.column_stack([boxes, np.full(len(boxes), conf), np.full(len(boxes), cls)])


def _walk(tracker, frames=6, count=3, seed=0, **update_kwargs):
    """Targets moving right with fixed identities embeddings; returns the last output."""
    rng = np.random.default_rng(seed)
    identity = _embeddings(rng, count)
    out = None
    for t in range(frames):
        boxes = [[100 + 200 * i + 5 * t, 100, 150 + 200 * i + 5 * t, 220] for i in range(count)]
        out = tracker.update(_dets(boxes), embs=identity, **update_kwargs)
    return out


class FakeEmbedder:
    """Embeds a box by its x position bucket: enough to keep identities apart."""

    def __init__(self):
        self.calls = 0

    def from_frame(self, frame, boxes):
        assert frame.dtype == np.uint8 and boxes.dtype == np.float32
        self.calls += 1
        features = np.zeros((len(boxes), DIM), dtype=np.float32)
        features[np.arange(len(boxes)), (boxes[:, 0] // 200).astype(int) % DIM] = 1
        return features


def test_output_layout_ids_and_confirmation():
    tracker = StrongSORT(cmc=None, n_init=3, confirm_first_frame=False)
    rng = np.random.default_rng(0)
    identity = _embeddings(rng, 2)
    outputs = []
    for t in range(4):
        boxes = [[10 + 3 * t, 10, 60 + 3 * t, 110], [300, 50 + 2 * t, 340, 150 + 2 * t]]
        outputs.append(tracker.update(_dets(boxes, conf=0.8, cls=2), embs=identity))
    assert outputs[0].shape == (0, 8) and outputs[1].shape == (0, 8)  # tentative (n_init=3)
    last = outputs[3]
    assert last.shape == (2, 8) and last.dtype == np.float64
    assert sorted(last[:, 4].tolist()) == [1, 2]
    assert np.all(last[:, 5] == 0.8) and np.all(last[:, 6] == 2)
    for row in last:
        det = int(row[7])
        assert abs(row[0] - [10 + 9, 300][det]) < 3  # box follows its own detection


def test_empty_inputs_work():
    tracker = StrongSORT(cmc=None)
    assert tracker.update(np.empty((0, 6))).shape == (0, 8)
    assert tracker.update(np.empty((0,))).shape == (0, 8)
    assert tracker.update([]).shape == (0, 8)
    _walk(tracker)
    out = tracker.update(np.empty((0, 6)), embs=np.empty((0, DIM)))
    assert out.shape[1] == 8 and (out[:, 7] == -1).all()  # only predicted rows


def test_bad_rows_are_dropped_and_counted():
    tracker = StrongSORT(cmc=None, n_init=1)
    dets = _dets(
        [
            [0, 0, 10, 20],
            [np.nan, 0, 10, 20],
            [0, 0, np.inf, 20],
            [5, 5, 5, 20],  # zero width
            [5, 20, 10, 5],  # negative height
            [0, 0, 1e9, 20],  # absurd coordinate
        ]
    )
    dets[0, 4] = np.nan  # NaN confidence too
    dets = np.vstack([dets, _dets([[50, 50, 80, 120]], conf=0.1), _dets([[200, 0, 240, 90]])])
    embs = _embeddings(np.random.default_rng(0), len(dets))
    embs[7, 3] = np.inf  # a non-finite embedding drops its row as well
    out = tracker.update(dets, embs=embs)
    assert tracker.stats["detections"] == 8
    assert tracker.stats["dropped_invalid"] == 7
    assert tracker.stats["dropped_low_conf"] == 1
    assert out.shape == (0, 8) and tracker.num_tracks == 0
    assert not np.isnan(out).any()


def test_select_names_the_rows_update_tracks():
    tracker = StrongSORT(cmc=None, n_init=1, min_conf=0.5)
    dets = _dets([[0, 0, 10, 20], [np.nan, 0, 10, 20], [5, 5, 5, 20], [30, 0, 40, 20]])
    dets[3, 4] = 0.4  # below min_conf
    assert tracker.select(dets).tolist() == [True, False, False, False]
    assert tracker.select(np.empty((0, 6))).shape == (0,)
    # Rows outside the selection are never read: NaN embeddings there change nothing.
    embs = np.full((4, DIM), np.nan, np.float32)
    embs[0] = 1.0
    out = tracker.update(dets, embs=embs)
    assert out[:, 7].tolist() == [0] and tracker.stats["dropped_invalid"] == 2
    with pytest.raises(ValueError, match="dets"):
        tracker.select(np.zeros((3, 5)))


@pytest.mark.parametrize("shape", [(3, 5), (3, 7), (6,), (2, 3, 6)])
def test_wrong_dets_shape_raises(shape):
    with pytest.raises(ValueError, match="dets"):
        StrongSORT(cmc=None).update(np.zeros(shape), embs=np.zeros((3, DIM)))


def test_non_numeric_dets_raise():
    with pytest.raises(ValueError, match="dets"):
        StrongSORT(cmc=None).update([["a"] * 6])


def test_embedding_count_and_dimension_are_checked():
    tracker = StrongSORT(cmc=None)
    dets = _dets([[0, 0, 10, 20], [30, 0, 40, 20]])
    with pytest.raises(ValueError, match="embs"):
        tracker.update(dets, embs=np.zeros((3, DIM)))
    with pytest.raises(ValueError, match="embs"):
        tracker.update(dets, embs=np.zeros(DIM))
    tracker.update(dets, embs=np.ones((2, DIM)))
    with pytest.raises(ValueError, match="dimension changed from 16 to 8"):
        tracker.update(dets, embs=np.ones((2, 8)))
    with pytest.raises(ValueError, match="dimension"):
        tracker.update(np.empty((0, 6)), embs=np.empty((0, 8)))


def test_missing_embeddings_or_frame_raise():
    dets = _dets([[0, 0, 10, 20]])
    with pytest.raises(ValueError, match="embs"):
        StrongSORT(cmc=None).update(dets)
    with pytest.raises(ValueError, match="frame"):
        StrongSORT(FakeEmbedder(), cmc=None).update(dets)
    with pytest.raises(ValueError, match="embedder"):
        StrongSORT(embedder=object())
    with pytest.raises(ValueError, match="either"):
        StrongSORT(FakeEmbedder(), reid_weights="osnet_x0_25_msmt17")


def test_reid_weights_of_unknown_architecture_ask_for_reid_model(tmp_path):
    pytest.importorskip("torch")
    tracker = StrongSORT(reid_weights=tmp_path / "mystery.pth")
    with pytest.raises(ValueError, match="reid_model"):
        _ = tracker.embedder


@pytest.mark.parametrize(
    "frame", [np.zeros((10, 10, 3), np.float32), np.zeros((10, 10, 4), np.uint8), "image"]
)
def test_bad_frames_raise(frame):
    with pytest.raises(ValueError, match="frame"):
        StrongSORT(FakeEmbedder()).update(_dets([[0, 0, 10, 20]]), frame)


def test_embedder_is_used_with_the_frame():
    embedder = FakeEmbedder()
    tracker = StrongSORT(embedder, cmc=None, embed_skip=False)
    frame = np.zeros((480, 640, 3), np.uint8)
    for t in range(4):
        out = tracker.update(_dets([[10 + t, 10, 50 + t, 90], [400, 10, 440, 90]]), frame)
    assert embedder.calls == 4
    assert sorted(out[:, 4].tolist()) == [1, 2]
    # No detection: the embedder is not called.
    tracker.update(np.empty((0, 6)), frame)
    assert embedder.calls == 4


def test_tracks_are_deleted_after_max_age_and_ids_are_not_reused():
    tracker = StrongSORT(cmc=None, max_age=5)
    _walk(tracker, count=2)
    assert tracker.num_tracks == 2
    for _ in range(5):
        tracker.update(np.empty((0, 6)))
    assert tracker.num_tracks == 2  # missed 5 frames: still alive
    tracker.update(np.empty((0, 6)))
    assert tracker.num_tracks == 0
    out = _walk(tracker, count=2, seed=1)
    assert sorted(out[:, 4].tolist()) == [3, 4]


def test_reset_restarts_ids_and_stats():
    tracker = StrongSORT(cmc=None)
    _walk(tracker)
    tracker.reset()
    assert tracker.num_tracks == 0 and tracker.stats["frames"] == 0
    out = _walk(tracker)
    assert sorted(out[:, 4].tolist()) == [1, 2, 3]


def test_output_predicted_adds_missed_confirmed_tracks():
    tracker = StrongSORT(cmc=None, output_predicted=2)
    _walk(tracker, count=2)
    embs = np.zeros((1, DIM), np.float32)
    only_far = _dets([[900, 500, 950, 600]])
    for expected in (2, 2, 0):
        out = tracker.update(only_far, embs=embs)
        predicted = out[out[:, 7] == -1]
        assert sorted(predicted[:, 4].tolist()) == [1, 2][:expected]
    assert StrongSORT(cmc=None, output_predicted=True).config.output_predicted == 1


def test_per_class_tracking_keeps_classes_apart_with_unique_ids():
    tracker = StrongSORT(cmc=None, per_class=True, reentry_max_age=40)
    rng = np.random.default_rng(0)
    embs = _embeddings(rng, 1)
    embs = np.vstack([embs, embs])  # same appearance, same box, different classes
    for t in range(4):
        box = [100 + 2 * t, 100, 150 + 2 * t, 200]
        dets = np.vstack([_dets([box], cls=0), _dets([box], cls=2)])
        out = tracker.update(dets, embs=embs)
    assert sorted(out[:, 6].tolist()) == [0, 2]
    assert len(set(out[:, 4].tolist())) == 2
    assert sorted(out[:, 7].tolist()) == [0, 1]
    for _ in range(31):
        tracker.update(np.empty((0, 6)))
    assert tracker.num_tracks == 0 and len(tracker._trackers) == 2  # re-entry galleries wait
    for _ in range(10):
        tracker.update(np.empty((0, 6)))
    assert len(tracker._trackers) == 0  # bounded per-class state once the galleries expire


def test_cascade_and_gallery_modes_track():
    for params in (
        {"matching": "cascade"},
        {"ema_alpha": None, "nn_budget": 5},
        {"mc_lambda": None, "nsa": False},
        {"assignment_solver": "scipy"},
    ):
        out = _walk(StrongSORT(cmc=None, **params), frames=8)
        assert sorted(out[:, 4].tolist()) == [1, 2, 3], params


def test_cmc_runs_with_frames_and_resets_on_size_change():
    tracker = StrongSORT()  # cmc="ecc" by default
    rng = np.random.default_rng(0)
    texture = (rng.random((120, 160, 3)) * 255).astype(np.uint8)
    import cv2

    frame = cv2.resize(cv2.GaussianBlur(texture, (0, 0), 2), (640, 480))
    _walk(tracker, frames=4, frame=frame)
    _walk(tracker, frames=1, frame=cv2.resize(frame, (320, 240)))
    assert tracker.stats["cmc_resets"] == 1
    _walk(tracker, frames=2)  # no frame: CMC skipped, no error


def test_plot_draws_boxes_and_trails_of_the_plotted_frames():
    tracker = StrongSORT(cmc=None)
    identity = _embeddings(np.random.default_rng(0), 3)
    frame = np.zeros((300, 700, 3), np.uint8)
    for t in range(8):
        boxes = [[100 + 200 * i + 5 * t, 100, 150 + 200 * i + 5 * t, 220] for i in range(3)]
        out = tracker.update(_dets(boxes), embs=identity)
        drawn = tracker.plot(frame)
    assert drawn.shape == frame.shape and drawn.any() and not frame.any()
    tracker.reset()  # forgets the trails: the same boxes are drawn without them
    without_trails = tracker.plot(frame, out)
    assert without_trails.any() and not np.array_equal(without_trails, drawn)
    with pytest.raises(ValueError, match="tracks"):
        tracker.plot(frame, np.zeros((2, 5)))
    with pytest.raises(ValueError, match="frame"):
        tracker.plot(np.zeros((300, 700)), out)


def test_importing_trackers_does_not_import_torch():
    statement = "import trackers, trackers.motchallenge, trackers.motchallenge.postprocess"
    assert heavy_modules_after(statement, ("torch",)) == []


def test_predicted_boxes_never_have_negative_size():
    tracker = StrongSORT(cmc=None, output_predicted=30, n_init=1)
    embs = np.ones((1, DIM), np.float32)
    for t in range(8):  # a box shrinking by 12 px per frame
        tracker.update(_dets([[100, 100, 150, 300 - 12 * t]]), embs=embs)
    for _ in range(30):
        out = tracker.update(np.empty((0, 6)))
        assert np.all(out[:, 2] > out[:, 0]) and np.all(out[:, 3] > out[:, 1])


def test_a_given_camera_warp_replaces_ecc_and_is_checked():
    boxes = [[100, 100, 150, 220]]
    emb = np.eye(4)[:1]
    shifted = StrongSORT(n_init=1)  # cmc="ecc": the warp is used, no frame is needed
    still = StrongSORT(n_init=1, cmc=None)  # no CMC: a warp is ignored
    warp = np.array([[1.0, 0.0, 40.0], [0.0, 1.0, 0.0]])
    for tracker in (shifted, still):
        tracker.update(_dets(boxes, conf=0.9), embs=emb)
        tracker.update(np.empty((0, 6)), camera_warp=warp)
    moved = shifted.update(np.empty((0, 6)), camera_warp=np.eye(2, 3))
    assert shifted.num_tracks == 1 and still.num_tracks == 1
    assert moved[:, 7].tolist() == [-1]  # the predicted row (output_predicted=3)
    shifted_x = shifted._trackers[None].tracks.mean[0, 0]
    still_x = still._trackers[None].tracks.mean[0, 0]
    assert shifted_x - still_x == pytest.approx(40.0, abs=1e-6)
    with pytest.raises(ValueError, match="camera_warp"):
        shifted.update(np.empty((0, 6)), camera_warp=np.eye(3))
