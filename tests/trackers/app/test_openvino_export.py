"""Detector conversion to OpenVINO: dequantised int8 ONNX, .pt export, cache and fallbacks."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from shared_assets import shared_path
from signal_survival import assert_survives_a_signal

from trackers.app.detectors import YoloDetector
from trackers.app.detectors.openvino_export import (
    UnsupportedQuantization,
    dequantize_dynamic_int8,
    openvino_model_folder,
)
from trackers.app.sources import open_source

pytest.importorskip("openvino")
pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def int8_onnx():
    return shared_path("data/detectors/yolov8n_int8.onnx")


def _box_iou(a, b):
    top_left = np.maximum(a[:, None, :2], b[None, :, :2])
    bottom_right = np.minimum(a[:, None, 2:4], b[None, :, 2:4])
    inter = np.prod(np.clip(bottom_right - top_left, 0, None), axis=2)
    area_a = np.prod(a[:, 2:4] - a[:, :2], axis=1)
    area_b = np.prod(b[:, 2:4] - b[:, :2], axis=1)
    return inter / (area_a[:, None] + area_b[None, :] - inter)


def test_openvino_detectors_released_in_creation_order_keep_signals_working(int8_onnx):
    # Each OpenVINO Core swaps the thread's signal stack; Cores released in creation order used
    # to leave it unmapped, and the next Python signal handler crashed the process.
    onnx_path = str(int8_onnx)
    assert_survives_a_signal(
        f"""
        import gc
        from trackers.app.detectors import YoloDetector
        first = YoloDetector({onnx_path!r}, imgsz=320, device="cpu", runtime="openvino")
        second = YoloDetector({onnx_path!r}, imgsz=320, device="cpu", runtime="openvino")
        del first; gc.collect()
        del second; gc.collect()
        """
    )


def test_dequantized_graph_has_only_float_convolutions(int8_onnx):
    model = onnx.load(str(int8_onnx))
    integer_convs = sum(n.op_type == "ConvInteger" for n in model.graph.node)
    assert integer_convs > 0
    float_model = dequantize_dynamic_int8(model)
    ops = [n.op_type for n in float_model.graph.node]
    assert "ConvInteger" not in ops and "DynamicQuantizeLinear" not in ops
    assert ops.count("Conv") == integer_convs
    assert sum(n.op_type == "ConvInteger" for n in model.graph.node) == integer_convs  # a copy


def test_openvino_detector_finds_what_the_int8_model_finds(int8_onnx):
    native = YoloDetector(str(int8_onnx), device="cpu", runtime="native")
    fast = YoloDetector(str(int8_onnx), device="cpu", runtime="openvino")
    assert fast.name.endswith("(OpenVINO)") and not native.name.endswith("(OpenVINO)")
    matched, total = [], 0
    with open_source(shared_path("data/video/vtest.avi"), vid_stride=20) as source:
        for i, frame in enumerate(source):
            a, b = native.detect(frame), fast.detect(frame)
            assert abs(len(a) - len(b)) <= 1
            total += len(a)
            if len(a) and len(b):
                matched += _box_iou(a[:, :4], b[:, :4]).max(axis=1).tolist()
            if i == 5:
                break
    assert total >= 15 and len(matched) >= total - 2
    assert np.median(matched) > 0.95 and np.mean(np.array(matched) > 0.7) >= 0.9


def test_conversion_is_cached(int8_onnx, tmp_path):
    folder = openvino_model_folder(int8_onnx, 640, tmp_path)
    assert sorted(p.name for p in folder.iterdir()) == ["metadata.yaml", "model.bin", "model.xml"]
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert openvino_model_folder(int8_onnx, 640, tmp_path) == folder
    assert (folder / "model.bin").stat().st_mtime_ns == stamp
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no temporary folders left


def test_pt_weights_are_exported_by_ultralytics(tmp_path):
    from ultralytics import YOLO

    weights = tmp_path / "tiny.pt"
    YOLO("yolov8n.yaml").save(str(weights))  # random weights, built offline
    detector = YoloDetector(str(weights), imgsz=160, device="cpu", runtime="openvino")
    assert detector.name.endswith("(OpenVINO)")
    # ultralytics' own export (traced from PyTorch) runs on the direct detector too.
    assert not detector.name.startswith("ultralytics")
    dets = detector(np.zeros((120, 160, 3), dtype=np.uint8))
    assert dets.ndim == 2 and dets.shape[1] == 6
    assert not any(p.name.endswith("_openvino_model") for p in tmp_path.iterdir())


def _matmul_integer_model(path):
    a = helper.make_tensor_value_info("a", TensorProto.UINT8, [1, 4])
    out = helper.make_tensor_value_info("y", TensorProto.INT32, [1, 2])
    b = helper.make_tensor("b", TensorProto.UINT8, [4, 2], list(range(8)))
    node = helper.make_node("MatMulInteger", ["a", "b"], ["y"])
    graph = helper.make_graph([node], "g", [a], [out], initializer=[b])
    model = helper.make_model(graph)
    helper.set_model_props(model, {"names": "{0: 'person'}", "stride": "32"})
    onnx.save(model, str(path))
    return model


def test_unsupported_quantisation_is_reported(tmp_path):
    model = _matmul_integer_model(tmp_path / "mm.onnx")
    with pytest.raises(UnsupportedQuantization, match="MatMulInteger"):
        dequantize_dynamic_int8(model)
    with pytest.raises(UnsupportedQuantization):
        openvino_model_folder(tmp_path / "mm.onnx", 640, tmp_path / "cache")
    with pytest.raises(ValueError, match=".pt or .onnx"):
        openvino_model_folder(tmp_path / "model.engine", 640, tmp_path / "cache")


def test_auto_runtime_falls_back_to_the_file_when_conversion_fails(int8_onnx, monkeypatch):
    from trackers.app.detectors import yolo

    def broken(*args, **kwargs):
        raise UnsupportedQuantization("QLinearConv layers are not supported")

    monkeypatch.setattr(yolo, "openvino_model_folder", broken)
    said = []
    detector = YoloDetector(str(int8_onnx), device="cpu", runtime="auto", say=said.append)
    assert not detector.name.endswith("(OpenVINO)")
    assert len(said) == 1 and "QLinearConv" in said[0]
