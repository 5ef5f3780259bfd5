"""The direct OpenVINO detector gives ultralytics' detections, on real frames and on edge cases."""

from __future__ import annotations

import numpy as np
import pytest
from shared_assets import shared_path

from trackers.app.detectors.openvino_yolo import (
    OpenVinoYoloDetector,
    batched_nms,
    letterbox,
    unletterbox,
)

pytest.importorskip("openvino")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from trackers.app.detectors.openvino_export import openvino_model_folder

    onnx = shared_path("data/detectors/yolov8n_int8.onnx")
    return openvino_model_folder(onnx, 640, tmp_path_factory.mktemp("ov"))


@pytest.fixture
def f32_openvino():
    """The process-wide OpenVINO Core computing in f32 on the CPU while the test runs, so that
    ultralytics (which compiles with the device default, bf16 on some CPUs) and the direct
    detector (whose box decoding runs in numpy) compute the same numbers."""
    from strongsort_reid.inference.compat import openvino_core

    core = openvino_core()
    default = core.get_property("CPU", "INFERENCE_PRECISION_HINT")
    core.set_property("CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    yield
    core.set_property("CPU", {"INFERENCE_PRECISION_HINT": default})


@pytest.mark.parametrize("conf", [0.25, 0.6])
def test_same_detections_as_ultralytics_on_real_frames(folder, conf, f32_openvino):
    from ultralytics import YOLO

    from trackers.app.detectors.yolo import _shared_openvino_core
    from trackers.app.sources import open_source

    # ultralytics pads exported models' inputs to their full size: compare the square path.
    direct = OpenVinoYoloDetector(folder, conf=conf, iou=0.7, classes=(0,), rect=False)
    total = 0
    # ultralytics opens the model on its first prediction: on the shared (f32) Core too.
    with _shared_openvino_core(True):
        reference = YOLO(str(folder), task="detect")
        for video, stride in (("vtest.avi", 60), ("street_1080p.mp4", 50)):
            with open_source(shared_path(f"data/video/{video}"), vid_stride=stride) as source:
                for frame in source:
                    ours = direct(frame.image)
                    theirs = reference.predict(
                        frame.image, conf=conf, iou=0.7, classes=[0], verbose=False
                    )[0].boxes.data.numpy()[:, :6]
                    assert ours.shape == theirs.shape
                    np.testing.assert_allclose(ours, theirs, atol=1e-3)
                    total += len(ours)
    assert total >= 60


def test_letterbox_round_trip_and_padding():
    image = np.full((360, 480, 3), 7, dtype=np.uint8)
    batch, gain, pad = letterbox(image, (640, 640))
    assert batch.shape == (1, 3, 640, 640) and batch.dtype == np.float32
    assert gain == (640 / 480, 640 / 480) and pad == (0, 80)
    assert batch[0, :, 0, 0].tolist() == pytest.approx([114 / 255] * 3)
    assert batch[0, :, 320, 320].tolist() == pytest.approx([7 / 255] * 3)
    boxes = np.array([[10.0, 90.0, 110.0, 300.0], [-5.0, 70.0, 700.0, 600.0]])
    back = unletterbox(boxes, gain, pad, image.shape[:2])
    np.testing.assert_allclose(back[0], [7.5, 7.5, 82.5, 165.0], atol=1e-4)
    np.testing.assert_allclose(back[1], [0, 0, 480, 360])  # clipped to the frame


def test_nms_keeps_the_best_box_per_overlap_and_class():
    boxes = np.array(
        [[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]], dtype=np.float32
    )
    scores = np.array([0.8, 0.9, 0.7, 0.6], dtype=np.float32)
    labels = np.array([0, 0, 1, 0])
    # Box 0 overlaps box 1 (IoU 0.68) and loses to it; box 2 is another class.
    assert batched_nms(boxes, scores, labels, 0.5).tolist() == [1, 2, 3]
    assert batched_nms(boxes, scores, labels, 0.7).tolist() == [1, 0, 2, 3]
    assert batched_nms(boxes[:0], scores[:0], labels[:0], 0.5).tolist() == []


def test_no_detection_on_a_blank_frame(folder):
    detector = OpenVinoYoloDetector(folder, conf=0.25)
    dets = detector(np.zeros((240, 320, 3), dtype=np.uint8))
    assert dets.shape == (0, 6) and dets.dtype == np.float32


def test_head_with_separate_box_and_class_maps_matches_ultralytics(tmp_path, f32_openvino):
    """ultralytics' own OpenVINO export (traced from PyTorch) concatenates box and class maps
    apart; the direct detector decodes it as ultralytics does (random weights, every box)."""
    import torch
    from ultralytics import YOLO

    from trackers.app.detectors.openvino_export import openvino_model_folder
    from trackers.app.detectors.yolo import _shared_openvino_core

    torch.manual_seed(0)
    weights = tmp_path / "tiny.pt"
    YOLO("yolov8n.yaml").save(str(weights))  # random weights, built offline
    folder = openvino_model_folder(weights, 160, tmp_path / "ov")
    direct = OpenVinoYoloDetector(folder, conf=1e-4, classes=None, rect=False)
    assert len(direct.compiled(direct.input_hw).outputs) == 2 * direct.levels
    image = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    with _shared_openvino_core(True):
        reference = YOLO(str(folder), task="detect")
        theirs = reference.predict(image, conf=1e-4, imgsz=160, verbose=False)[0]
    ours = direct(image)
    assert len(ours) >= 1
    np.testing.assert_allclose(ours, theirs.boxes.data.numpy()[:, :6], atol=1e-3)
