"""Rectangular (minimal-padding) detector input: ultralytics' letterbox, fewer pixels, the same
people as the square input."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from shared_assets import shared_path

from trackers.app.detectors.openvino_yolo import OpenVinoYoloDetector, letterbox
from trackers.strongsort.iou_matching import iou_matrix

pytest.importorskip("openvino")


@pytest.mark.parametrize(
    "height, width, expected",
    [(1080, 1920, (384, 640)), (360, 480, (480, 640)), (300, 1000, (192, 640)), (481, 641, None)],
)
def test_rect_letterbox_is_ultralytics_auto_letterbox(height, width, expected):
    from ultralytics.data.augment import LetterBox

    image = np.random.default_rng(height).integers(0, 256, (height, width, 3), dtype=np.uint8)
    batch, gain, pad = letterbox(image, (640, 640), stride=32)
    theirs = LetterBox((640, 640), auto=True, stride=32)(image=image)
    assert batch.shape[2:] == theirs.shape[:2]
    assert expected is None or batch.shape[2:] == expected
    assert all(side % 32 == 0 for side in batch.shape[2:])
    ours = np.rint(batch[0].transpose(1, 2, 0) * 255).astype(np.uint8)
    np.testing.assert_array_equal(ours, cv2.cvtColor(theirs, cv2.COLOR_BGR2RGB))
    assert pad == (
        (batch.shape[3] - round(width * gain[0])) // 2,
        (batch.shape[2] - round(height * gain[1])) // 2,
    )


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    from trackers.app.detectors.openvino_export import openvino_model_folder

    onnx = shared_path("data/detectors/yolov8n_int8.onnx")
    return openvino_model_folder(onnx, 640, tmp_path_factory.mktemp("ov-rect"))


def test_rect_input_finds_the_people_of_the_square_input_on_1080p(folder):
    """MOT17-04 (1920x1080, a crowd): the 640x384 input finds the square input's people with
    nearly the same boxes, and runs a model compiled for that shape."""
    frame = cv2.imread(str(shared_path("data/mot/MOT17-mini/train/MOT17-04-FRCNN/img1/000001.jpg")))
    square = OpenVinoYoloDetector(folder, conf=0.3, rect=False, precision="f32")(frame)
    rect_detector = OpenVinoYoloDetector(folder, conf=0.3, precision="f32")
    rect = rect_detector(frame)
    assert rect_detector.compiled_sizes == [(384, 640)]
    confident_square, confident_rect = square[square[:, 4] > 0.5], rect[rect[:, 4] > 0.5]
    assert len(confident_square) >= 10
    for found_by, reference in ((rect, confident_square), (square, confident_rect)):
        best = iou_matrix(reference[:, :4], found_by[:, :4]).max(axis=1)
        assert (best >= 0.5).mean() >= 0.95 and np.median(best) >= 0.9


def test_imgsz_sets_the_letterbox_size_rounded_to_the_stride(folder):
    small = np.zeros((360, 480, 3), dtype=np.uint8)
    native = OpenVinoYoloDetector(folder, imgsz=480)
    assert native.input_hw == (480, 480)
    assert native(small).shape == (0, 6)
    assert native.compiled_sizes == [(384, 480)]  # no upsampling to 640, 360 padded to 384
    assert OpenVinoYoloDetector(folder, imgsz=500, rect=False).input_hw == (512, 512)
