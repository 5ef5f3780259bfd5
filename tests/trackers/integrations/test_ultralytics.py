"""StrongSORT attached to ultralytics' predict: identities in ``boxes.id``, resets, streams,
formats; the callbacks' bookkeeping on hand-made results, the real thing on vtest.avi."""

from __future__ import annotations

import itertools
from collections import defaultdict
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from shared_assets import shared_path

from strongsort_reid.weights import BUNDLED_DIR
from trackers.integrations.ultralytics import (
    StrongSORTCallbacks,
    attach_strongsort,
    detach_strongsort,
    strongsort_trackers,
)

pytest.importorskip("ultralytics")
from ultralytics import YOLO  # noqa: E402
from ultralytics.engine.results import Results  # noqa: E402

ONNX = BUNDLED_DIR / "yolov8n_int8.onnx"
FRAMES = 10
STRIDE = 2


class ConstantEmbedder:
    """The same unit embedding for every box: association by motion alone."""

    def from_frame(self, frame, boxes):
        return np.ones((len(boxes), 4), dtype=np.float32) / 2


class FakeModel:
    """What attach_strongsort needs of a YOLO model: its callbacks and task."""

    def __init__(self, task="detect"):
        self.task = task
        self.callbacks = defaultdict(list)

    def add_callback(self, event, fn):
        self.callbacks[event].append(fn)


def _predictor(mode="video", bs=1, task="detect"):
    return SimpleNamespace(
        args=SimpleNamespace(mode="predict", task=task, embed=None),
        dataset=SimpleNamespace(mode=mode, bs=bs),
        results=[],
    )


def _result(path, boxes, masks=False):
    image = np.zeros((100, 200, 3), dtype=np.uint8)
    boxes = torch.tensor(boxes, dtype=torch.float32).reshape(-1, 6)
    mask_data = torch.arange(len(boxes), dtype=torch.float32)[:, None, None].expand(-1, 100, 200)
    return Results(image, path, {0: "person"}, boxes=boxes, masks=mask_data if masks else None)


def _step(callbacks, predictor, *results):
    predictor.results = list(results)
    callbacks.on_predict_postprocess_end(predictor)
    return predictor.results


PERSON = [10.0, 10.0, 50.0, 90.0, 0.9, 0.0]
OTHER = [120.0, 10.0, 160.0, 90.0, 0.8, 0.0]
WEAK = [60.0, 10.0, 100.0, 90.0, 0.3, 0.0]  # below min_conf: never tracked


def test_tracked_boxes_carry_ids_and_a_new_video_restarts_them():
    callbacks = StrongSORTCallbacks(ConstantEmbedder(), _config(), persist=False)
    predictor = _predictor()
    callbacks.on_predict_start(predictor)
    first = _step(callbacks, predictor, _result("a.mp4", [PERSON, WEAK, OTHER]))[0]
    assert first.boxes.is_track and len(first.boxes) == 0  # tentative tracks are hidden
    second = _step(callbacks, predictor, _result("a.mp4", [PERSON, WEAK, OTHER]))[0]
    assert second.boxes.data.shape == (2, 7) and second.boxes.id.tolist() == [1, 2]
    np.testing.assert_allclose(second.boxes.xyxy[0].numpy(), PERSON[:4], atol=1e-3)
    # Another video in the same call: fresh identities.
    _step(callbacks, predictor, _result("b.mp4", [OTHER]))
    third = _step(callbacks, predictor, _result("b.mp4", [OTHER]))[0]
    assert third.boxes.id.tolist() == [1]


def test_images_of_one_call_are_one_sequence():
    callbacks = StrongSORTCallbacks(ConstantEmbedder(), _config(), persist=False)
    predictor = _predictor(mode="image")
    callbacks.on_predict_start(predictor)
    _step(callbacks, predictor, _result("frame1.jpg", [PERSON]))
    result = _step(callbacks, predictor, _result("frame2.jpg", [PERSON]))[0]
    assert result.boxes.id.tolist() == [1]


def test_masks_stay_aligned_with_the_tracked_rows():
    callbacks = StrongSORTCallbacks(ConstantEmbedder(), _config(output_predicted=1), False)
    predictor = _predictor(task="segment")
    callbacks.on_predict_start(predictor)
    _step(callbacks, predictor, _result("a.mp4", [WEAK, PERSON, OTHER], masks=True))
    result = _step(callbacks, predictor, _result("a.mp4", [WEAK, PERSON, OTHER], masks=True))[0]
    # mask k was filled with k: the rows kept are detections 1 and 2, in the tracks' order
    assert [int(m[0, 0]) for m in result.masks.data] == [1, 2]
    # The next frame misses OTHER: its predicted box has no mask, so it is left out.
    result = _step(callbacks, predictor, _result("a.mp4", [PERSON], masks=True))[0]
    assert result.boxes.id.tolist() == [1] and len(result.masks) == 1


def test_predicted_boxes_are_kept_for_detection_results():
    callbacks = StrongSORTCallbacks(ConstantEmbedder(), _config(output_predicted=1), False)
    predictor = _predictor()
    callbacks.on_predict_start(predictor)
    _step(callbacks, predictor, _result("a.mp4", [PERSON, OTHER]))
    _step(callbacks, predictor, _result("a.mp4", [PERSON, OTHER]))
    result = _step(callbacks, predictor, _result("a.mp4", [PERSON]))[0]
    assert sorted(result.boxes.id.tolist()) == [1, 2]


def test_one_tracker_per_stream():
    callbacks = StrongSORTCallbacks(ConstantEmbedder(), _config(), persist=False)
    predictor = _predictor(mode="stream", bs=2)
    callbacks.on_predict_start(predictor)
    for _ in range(2):
        a, b = _step(callbacks, predictor, _result("0", [PERSON]), _result("1", [OTHER, PERSON]))
    assert a.boxes.id.tolist() == [1] and b.boxes.id.tolist() == [1, 2]
    assert [t.stats["frames"] for t in callbacks.trackers] == [2, 2]


def test_attach_checks_its_arguments_and_detach_removes_only_its_callbacks():
    model = FakeModel()

    def keep(predictor):
        return None

    model.add_callback("on_predict_start", keep)
    attach_strongsort(model, embedder=ConstantEmbedder())
    attach_strongsort(model, embedder=ConstantEmbedder(), max_age=5)  # replaces, no stacking
    assert len(model.callbacks["on_predict_start"]) == 2
    assert len(model.callbacks["on_predict_postprocess_end"]) == 1
    assert detach_strongsort(model) is model
    assert model.callbacks["on_predict_start"] == [keep]
    assert model.callbacks["on_predict_postprocess_end"] == []
    assert strongsort_trackers(model) == []
    with pytest.raises(ValueError, match="task"):
        attach_strongsort(FakeModel("classify"), embedder=ConstantEmbedder())
    with pytest.raises(ValueError, match="either"):
        attach_strongsort(model, "osnet_x0_25_msmt17", embedder=ConstantEmbedder())
    with pytest.raises(ValueError, match="ultralytics model"):
        attach_strongsort(object(), embedder=ConstantEmbedder())
    with pytest.raises(ValueError):
        attach_strongsort(model, embedder=ConstantEmbedder(), no_such_parameter=1)


def _config(**params):
    from trackers import StrongSORTConfig

    # n_init=2: a track shows from its second frame, which keeps these sequences short; the
    # paper's life cycle in the first frame too (tentative births, no confirm_first_frame).
    return StrongSORTConfig.from_dict(
        {"cmc": None, "n_init": 2, "confirm_first_frame": False, **params}
    )


# -- on the real video ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def video():
    return shared_path("data/video/vtest.avi")


@pytest.fixture(scope="module")
def embedder():
    """The default ReID model, built once and shared by the tests' attachments."""
    model = attach_strongsort(FakeModel())  # the default weights load (bundled, offline)
    return model.callbacks["on_predict_start"][0].__self__.embedder


@pytest.fixture(scope="module")
def yolo():
    """The bundled detector (int8 ONNX), opened once."""
    return YOLO(str(ONNX), task="detect")


@pytest.fixture
def model(yolo, embedder):
    """``yolo`` with StrongSORT attached for one test."""
    yield attach_strongsort(yolo, embedder=embedder)
    detach_strongsort(yolo)


def _run(model, source, frames=FRAMES, **kwargs):
    generator = model.predict(
        str(source), stream=True, verbose=False, classes=[0], vid_stride=STRIDE, **kwargs
    )
    try:
        return list(itertools.islice(generator, frames))
    finally:
        generator.close()


def _ids(results):
    return [r.boxes.id.int().tolist() for r in results]


def _shift(a, b):
    """Distance between the centres of boxes ``a`` and ``b`` over the height of ``a``."""
    return np.linalg.norm((a[:2] + a[2:]) / 2 - (b[:2] + b[2:]) / 2) / (a[3] - a[1])


def test_identities_persist_and_plot_draws_them(video, model):
    results = _run(model, video, frames=2 * FRAMES)
    assert all(r.boxes.is_track for r in results)
    ids = _ids(results)
    assert sum(1 in frame for frame in ids) >= 2 * len(ids) // 3  # the first track lives on
    shifts = [  # centre shift of an identity between frames, in box heights
        _shift(prev.boxes.xyxy[prev_ids.index(i)].numpy(), cur.boxes.xyxy[k].numpy())
        for prev, cur in zip(results, results[1:])
        for prev_ids in [prev.boxes.id.tolist()]
        for k, i in enumerate(cur.boxes.id.tolist())
        if i in prev_ids
    ]
    assert len(shifts) >= 2 * FRAMES and max(shifts) < 0.5  # same id, same person
    image = results[-1].plot()
    assert image.shape == results[-1].orig_img.shape and image.dtype == np.uint8
    assert not np.array_equal(image, results[-1].orig_img)


def test_each_call_starts_afresh_unless_persist(video, model, embedder):
    first = _ids(_run(model, video))
    assert first[0] and any(first)  # people in view at the start are confirmed at once
    assert _ids(_run(model, video)) == first
    capture = cv2.VideoCapture(str(video))
    frames = [capture.read()[1] for _ in range(STRIDE * FRAMES)][STRIDE - 1 :: STRIDE]
    capture.release()
    # Frame by frame, every call is a new sequence: identities restart at 1 every time (its
    # people are confirmed at once, as ultralytics' own ByteTrack does on a single image).
    single = [model.predict(f, verbose=False, classes=[0])[0] for f in frames[:3]]
    assert _ids(single)[0] == first[0]  # the same first frame as the whole video's
    assert all(sorted(ids) == list(range(1, len(ids) + 1)) for ids in _ids(single))
    # persist=True: the calls make one sequence, the same as one call over the video.
    attach_strongsort(model, embedder=embedder, persist=True)
    single = [model.predict(f, verbose=False, classes=[0])[0] for f in frames]
    assert _ids(single) == first
    assert strongsort_trackers(model)[0].stats["frames"] == FRAMES


def test_each_stream_has_its_own_tracker(video, model, tmp_path):
    campus = shared_path("data/video/campus_720p.mp4")
    both, alone = tmp_path / "both.streams", tmp_path / "alone.streams"
    both.write_text(f"{video}\n{campus}\n")
    alone.write_text(f"{video}\n")
    results = _run(model, both, frames=2 * FRAMES, stream_buffer=True)
    assert len(strongsort_trackers(model)) == 2
    assert [t.stats["frames"] for t in strongsort_trackers(model)] == [FRAMES, FRAMES]
    streams = _ids(results[0::2]), _ids(results[1::2])
    assert [min(sum(stream, [])) for stream in streams] == [1, 1]  # identities of each from 1
    assert _ids(_run(model, alone, stream_buffer=True)) == streams[0]


def test_detach_restores_plain_predictions(video, model):
    _run(model, video, frames=2)
    detach_strongsort(model)
    result = _run(model, video, frames=1)[0]
    assert not result.boxes.is_track and result.boxes.id is None and len(result.boxes) > 0


def test_model_track_keeps_ultralytics_tracker(video, model):
    with pytest.warns(UserWarning, match="model.predict"):
        generator = model.track(
            str(video), stream=True, verbose=False, classes=[0], tracker="bytetrack.yaml"
        )
        results = list(itertools.islice(generator, 4))
        generator.close()
    assert any(r.boxes.is_track for r in results)
    assert strongsort_trackers(model) == []  # ours stepped aside


def test_openvino_folder(video, embedder, tmp_path):
    pytest.importorskip("openvino")
    from trackers.app.detectors.openvino_export import openvino_model_folder
    from trackers.app.detectors.yolo import _shared_openvino_core

    folder = openvino_model_folder(ONNX, 640, tmp_path)
    with _shared_openvino_core(True):  # one OpenVINO Core per process (see the helper)
        model = attach_strongsort(YOLO(str(folder), task="detect"), embedder=embedder)
        results = _run(model, video)
    assert all(r.boxes.is_track for r in results)
    assert sum(1 in ids for ids in _ids(results)) >= FRAMES - 2
