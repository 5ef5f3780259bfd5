"""The demo's detectors: ultralytics on the shared ONNX, det.txt, HOG and the offline fallback."""

import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from shared_assets import shared_path

from trackers.app.detectors import (
    DetectorError,
    DetectorUnavailable,
    DetFileDetector,
    HogPeopleDetector,
    YoloDetector,
    build_detector,
)
from trackers.app.detectors import yolo as yolo_module
from trackers.app.sources import open_source


@pytest.fixture(scope="module")
def vtest_frames():
    with open_source(shared_path("data/video/vtest.avi")) as source:
        frames = []
        for frame in source:
            frames.append(frame)
            if len(frames) == 6:
                return frames


def _check_boxes(dets, shape):
    assert dets.dtype == np.float32 and dets.ndim == 2 and dets.shape[1] == 6
    height, width = shape[:2]
    assert (dets[:, 0] >= 0).all() and (dets[:, 2] <= width).all()
    assert (dets[:, 1] >= 0).all() and (dets[:, 3] <= height).all()
    assert (dets[:, 2] > dets[:, 0]).all() and (dets[:, 3] > dets[:, 1]).all()
    assert ((dets[:, 4] > 0) & (dets[:, 4] <= 1)).all()


def test_yolo_onnx_finds_the_pedestrians_of_vtest(vtest_frames):
    pytest.importorskip("onnxruntime")
    detector = YoloDetector(str(shared_path("data/detectors/yolov8n_int8.onnx")), device="cpu")
    counts = []
    for frame in vtest_frames[:3]:
        dets = detector.detect(frame)
        _check_boxes(dets, frame.image.shape)
        assert (dets[:, 5] == 0).all()  # persons only by default
        counts.append(len(dets))
    assert min(counts) >= 3


def test_hog_finds_people_on_vtest(vtest_frames):
    detector = HogPeopleDetector()
    counts = []
    for frame in vtest_frames:
        dets = detector.detect(frame)
        _check_boxes(dets, frame.image.shape)
        counts.append(len(dets))
    assert np.mean(counts) >= 1.5
    assert HogPeopleDetector()(np.zeros((50, 40, 3), dtype=np.uint8)).shape == (0, 6)


def test_det_file_serves_the_rows_of_each_frame():
    seq = shared_path("data/mot/MOT17-mini/train/MOT17-09-FRCNN")
    detector = DetFileDetector(seq / "det" / "det.txt")
    rows = np.loadtxt(seq / "det" / "det.txt", delimiter=",")
    with open_source(seq) as source:
        frame = next(iter(source))
    dets = detector.detect(frame)
    expected = rows[rows[:, 0] == frame.number]
    assert dets.shape == (len(expected), 6)
    np.testing.assert_allclose(dets[:, :2], expected[:, 2:4], rtol=1e-6)
    np.testing.assert_allclose(dets[:, 2:4], expected[:, 2:4] + expected[:, 4:6], rtol=1e-6)


def test_auto_falls_back_to_hog_offline(tmp_path, monkeypatch):
    from ultralytics.utils import SETTINGS

    name = "yolov8n.pt"
    if (tmp_path / name).exists() or (Path(SETTINGS["weights_dir"]) / name).exists():
        pytest.skip("yolov8n.pt is on disk here, so there is nothing to fall back from")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(yolo_module, "_can_download", lambda: False)
    said = []
    detector = build_detector("auto", name, say=said.append)
    assert isinstance(detector, HogPeopleDetector)
    assert len(said) == 1 and "falling back to OpenCV's HOG" in said[0] and name in said[0]
    with pytest.raises(DetectorUnavailable, match="not on disk"):
        build_detector("yolo", name, say=said.append)


def test_forced_hog_and_det_file_take_precedence(tmp_path):
    assert isinstance(build_detector("hog", "never-loaded.pt"), HogPeopleDetector)
    det = tmp_path / "det.txt"
    det.write_text("1,-1,10,10,20,40,0.9\n2,-1,12,10,20,40,0.8\n")
    assert isinstance(build_detector("auto", det_file=str(det)), DetFileDetector)


def test_missing_or_broken_model_files_are_user_errors(tmp_path):
    with pytest.raises(DetectorError, match="not found"):
        build_detector("auto", str(tmp_path / "models" / "mine.pt"))
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"garbage")
    with pytest.raises(DetectorError, match="cannot load detector"):
        build_detector("auto", str(broken))
    with pytest.raises(DetectorError, match="detector must be one of"):
        build_detector("fast")


def test_hog_clips_boxes_to_the_frame():
    frame = cv2.imread(str(shared_path("data/mot/MOT17-mini/train/MOT17-09-FRCNN/img1/000001.jpg")))
    dets = HogPeopleDetector()(frame)
    _check_boxes(dets, frame.shape)


def test_shared_openvino_core_leaves_a_missing_openvino_to_ultralytics(monkeypatch):
    # Without OpenVINO the detector must reach ultralytics, which reports or installs it.
    from trackers.app.detectors.yolo import _shared_openvino_core

    monkeypatch.setitem(sys.modules, "openvino", None)
    with _shared_openvino_core(True):
        entered = True
    assert entered
