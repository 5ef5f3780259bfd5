"""The dev cache is named by the detector file's content, not its name: replacing a detector
file (e.g. a new bundled model under the same name) must not replay stale detections."""

import argparse

from strongsort_reid.weights import DEFAULT_DETECTOR
from trackers.motchallenge.commands import bench


def _settings(model: str, tmp_path):
    args = argparse.Namespace(det_file=False, yolo_model=model, conf_floor=0.1)
    return bench._detection_settings(args, tmp_path)


def test_same_name_new_content_gives_a_new_key(tmp_path):
    model = tmp_path / "detector.onnx"
    model.write_bytes(b"first")
    first = _settings(str(model), tmp_path)
    model.write_bytes(b"second")
    assert _settings(str(model), tmp_path) != first


def test_the_bundled_default_is_keyed_by_its_content(tmp_path):
    settings = _settings(DEFAULT_DETECTOR, tmp_path)
    assert len(settings["model_sha256"]) == 16
    # A name nothing resolves to (ultralytics downloads it) keeps its name as the key.
    assert "model_sha256" not in _settings("yolov8s.pt", tmp_path)
