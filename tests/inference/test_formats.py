"""The format table: which file is which format, and the automatic backend choice."""

import sys
import zipfile

import pytest
import torch

from strongsort_reid.inference import BACKENDS, FORMATS, SUFFIXES, format_of, options, pick_backend


def test_every_format_has_a_suffix_that_maps_back_to_it(tmp_path):
    assert set(SUFFIXES) == set(FORMATS)
    for fmt, suffix in SUFFIXES.items():
        path = tmp_path / f"model{suffix}"
        path.write_bytes(b"x")
        assert format_of(path) == fmt


def test_format_of_other_files_and_names(tmp_path):
    assert format_of(None) is None
    assert format_of("osnet_x0_25_msmt17") is None  # a weight name, not a file
    assert format_of(tmp_path / "missing.onnx") is None
    checkpoint = tmp_path / "model.pth"
    checkpoint.write_bytes(b"x")
    assert format_of(checkpoint) is None
    archive = tmp_path / "model.pt"  # a TorchScript archive without a TorchScript suffix
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("model/code/__torch__.py", "")
    assert format_of(archive) == "torchscript"


def test_pick_backend(monkeypatch):
    assert "auto" in BACKENDS and set(FORMATS) < set(BACKENDS)
    assert pick_backend("onnx", "cuda") == "onnx"
    assert pick_backend("auto", "cuda:0") == "torch"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for module in ("openvino", "onnxruntime"):
        monkeypatch.setitem(sys.modules, module, None)
    assert pick_backend("auto", "cpu") == "torch"
    assert pick_backend("auto", "auto") == "torch"


def test_pick_backend_prefers_openvino_then_onnxruntime_on_the_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setitem(sys.modules, "openvino", None)
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        pytest.skip("onnxruntime is not installed")
    assert pick_backend("auto", "cpu") == "onnx"


def test_auto_prefers_openvino_only_on_cpus_with_native_bf16(monkeypatch):
    pytest.importorskip("onnxruntime")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(options, "cpu_has_bf16", lambda: True)
    assert pick_backend("auto", "cpu") == "openvino"
    monkeypatch.setattr(options, "cpu_has_bf16", lambda: False)
    assert pick_backend("auto", "cpu") == "onnx"


def test_openvino_precision_rules():
    # auto without half: bf16 on the OpenVINO CPU device; an explicit backend stays f32
    assert options.openvino_precision("auto", "openvino", False, "CPU") == "bf16"
    assert options.openvino_precision("openvino", "openvino", False, "CPU") is None
    assert options.openvino_precision("openvino", "openvino", "bf16", "CPU") == "bf16"
    assert options.openvino_precision("auto", "openvino", True, "CPU") is None
    assert options.openvino_precision("auto", "openvino", False, "GPU") is None
    assert options.openvino_precision("auto", "onnx", "bf16", "CPU") is None
