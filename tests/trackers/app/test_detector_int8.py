"""Static int8 detectors: the quantiser, and its output running as int8 on the demo path."""

import collections

import cv2
import numpy as np
import onnx
import pytest
from shared_assets import shared_path

from trackers.app.detectors import YoloDetector
from trackers.app.detectors.openvino_export import dequantize_dynamic_int8, openvino_model_folder
from trackers.app.detectors.openvino_yolo import OpenVinoYoloDetector
from trackers.app.detectors.quantize import (
    float_input_nodes,
    float_tail_nodes,
    quantize_detector,
)
from trackers.strongsort.iou_matching import iou_matrix


@pytest.fixture(scope="module")
def float_model():
    return dequantize_dynamic_int8(onnx.load(str(shared_path("data/detectors/yolov8n_int8.onnx"))))


@pytest.fixture(scope="module")
def float_onnx(tmp_path_factory, float_model):
    path = tmp_path_factory.mktemp("float-detector") / "float.onnx"
    onnx.save(float_model, str(path))
    return path


@pytest.fixture(scope="module")
def float_detections(float_onnx, crowd_frame, tmp_path_factory):
    """The float model's people (conf > 0.3) in the crowd frame, run by the direct detector."""
    folder = openvino_model_folder(float_onnx, 640, tmp_path_factory.mktemp("ov"))
    detections = OpenVinoYoloDetector(folder, conf=0.3)(crowd_frame)
    assert (detections[:, 4] > 0.5).sum() >= 10
    return detections


@pytest.fixture(scope="module")
def crowd_frame():
    return cv2.imread(str(shared_path("data/mot/MOT17-mini/train/MOT17-04-FRCNN/img1/000001.jpg")))


def _runtime_precisions(detector: OpenVinoYoloDetector):
    """``Counter`` of ``(layer type, precision)`` of the compiled model's executed layers."""
    counts = collections.Counter()
    for op in detector.compiled(detector.input_hw).get_runtime_model().get_ops():
        info = op.get_rt_info()
        counts[(info["layerType"].astype(str), info["runtimePrecision"].astype(str))] += 1
    return counts


def _agree(int8: np.ndarray, float_: np.ndarray) -> bool:
    """Detections (all above 0.3) agree up to a score tolerance of 0.15: at least 90% of the
    people one model scores above 0.5 are found by the other above 0.35, both ways."""

    def found(found_by: np.ndarray, reference: np.ndarray) -> float:
        reference, found_by = reference[reference[:, 4] > 0.5], found_by[found_by[:, 4] > 0.35]
        return float((iou_matrix(reference[:, :4], found_by[:, :4]).max(axis=1) >= 0.5).mean())

    return found(int8, float_) >= 0.9 and found(float_, int8) >= 0.9


def test_float_tail_is_the_detection_head_output(float_model):
    names = set(float_tail_nodes(float_model))
    convs = [n.name for n in float_model.graph.node if n.op_type == "Conv"]
    tail_convs = [name for name in convs if name in names]
    # The six output convolutions: box distribution (cv2) and class logits (cv3), 3 strides.
    assert len(tail_convs) == 6
    assert all(c.startswith("/model.22/cv") and c.split("/")[3].endswith(".2") for c in tail_convs)
    ops = {n.name: n.op_type for n in float_model.graph.node}
    assert {"Softmax", "Concat", "Div"} <= {ops[name] for name in names}
    assert not any(name.startswith("/model.0/") for name in names)
    with pytest.raises(ValueError, match="dfl"):
        float_tail_nodes(onnx.helper.make_model(onnx.helper.make_graph([], "empty", [], [])))


def test_quantized_detector_is_int8_in_openvino_and_finds_the_same_people(
    tmp_path, float_onnx, float_detections, crowd_frame
):
    """Calibrated on one real frame of another sequence (a smoke-sized calibration), the QDQ
    model keeps the ultralytics metadata, runs its convolutions in 8 bits in OpenVINO and finds
    the float model's people."""
    calibration = [
        cv2.imread(str(shared_path("data/mot/MOT17-mini/train/MOT17-09-FRCNN/img1/000001.jpg")))
    ]
    stem_names = set(float_input_nodes(onnx.load(str(float_onnx))))
    assert stem_names and all(name.startswith("/model.0/") for name in stem_names)
    target = quantize_detector(float_onnx, tmp_path / "int8.onnx", calibration)
    model = onnx.load(str(target))
    # The stem convolution reads the image in float: no quantiser feeds it.
    stem = next(n for n in model.graph.node if n.op_type == "Conv" and n.name in stem_names)
    producers = {out: node.op_type for node in model.graph.node for out in node.output}
    assert "DequantizeLinear" not in {producers.get(name) for name in stem.input}
    ops = collections.Counter(n.op_type for n in model.graph.node)
    assert ops["QuantizeLinear"] > 50 and "ConvInteger" not in ops
    assert {p.key: p.value for p in model.metadata_props}["task"] == "detect"
    # The demo's detector (runtime auto on the CPU) runs it through the direct OpenVINO path.
    int8 = YoloDetector(str(target), conf=0.3, runtime="auto", say=pytest.fail)._direct
    assert isinstance(int8, OpenVinoYoloDetector)
    precisions = _runtime_precisions(int8)
    assert precisions[("Convolution", "u8")] + precisions[("Convolution", "i8")] >= 50
    assert _agree(int8(crowd_frame), float_detections)
