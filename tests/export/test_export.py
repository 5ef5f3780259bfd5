"""Export to ONNX / OpenVINO / TorchScript: round trip against PyTorch, metadata, runtimes."""

import sys

import cv2
import numpy as np
import pytest
import torch
from shared_assets import shared_path

from strongsort_reid.commands.export import main
from strongsort_reid.export import export_model
from strongsort_reid.inference import SUFFIXES, FeatureExtractor, OpenVinoBackend, open_backend
from strongsort_reid.models import build_model

GOLDEN = "golden/osnet_x0_25_msmt17_mot17_04_f1.npz"
FRAME = "data/mot/MOT17-mini/train/MOT17-04-FRCNN/img1/000001.jpg"
RUNTIME = {"onnx": "onnxruntime", "openvino": "openvino", "torchscript": "torch"}
FORMATS = ["onnx", "openvino", "torchscript"]


@pytest.fixture(scope="module")
def weights():
    return shared_path("data/reid/osnet_x0_25_msmt17.pth")


@pytest.fixture(scope="module")
def exports(weights, tmp_path_factory):
    """One dynamic-batch export per available format: ``{format: ExportResult}``."""
    folder = tmp_path_factory.mktemp("exports")
    results = {}
    for fmt in FORMATS:
        try:
            __import__(RUNTIME[fmt])
        except ImportError:
            continue
        results[fmt] = export_model("osnet_x0_25", weights, fmt, folder / f"osnet{SUFFIXES[fmt]}")
    return results


def _export(exports, fmt):
    if fmt not in exports:
        pytest.skip(f"{RUNTIME[fmt]} is not installed")
    return exports[fmt]


@pytest.mark.parametrize("fmt", FORMATS)
def test_export_round_trip_at_batch_1_and_16(exports, fmt):
    result = _export(exports, fmt)
    assert sorted(result.min_cosine) == [1, 16]
    assert min(result.min_cosine.values()) >= 0.9999, result.min_cosine
    assert result.path.is_file()
    backend = open_backend(result.path)
    assert backend.metadata == result.metadata
    assert result.metadata.image_size == (256, 128) and result.metadata.feature_dim == 512
    assert backend.fixed_batch is None
    leftovers = [p.name for p in result.path.parent.iterdir() if p.name.startswith(".")]
    assert leftovers == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_exported_file_gives_golden_features(exports, fmt):
    result = _export(exports, fmt)
    data = np.load(shared_path(GOLDEN))
    frame = cv2.imread(str(shared_path(FRAME)))
    extractor = FeatureExtractor("osnet_x0_25", result.path, backend=fmt, device="cpu")
    assert extractor.model is None and extractor.feature_dim == 512
    features = extractor.from_frame(frame, data["boxes_xyxy_id"][:, :4])
    reference = data["features"] / np.linalg.norm(data["features"], axis=1, keepdims=True)
    assert (features * reference).sum(axis=1).min() >= 0.99


def test_static_batch_export_runs_any_batch(weights, tmp_path):
    pytest.importorskip("onnxruntime")
    result = export_model(
        "osnet_x0_25", weights, "onnx", tmp_path / "static.onnx", dynamic_batch=False, batch_size=4
    )
    # export_model checked batch 1 and 16 through the padding/chunking of the backend.
    assert min(result.min_cosine.values()) >= 0.9999
    assert open_backend(result.path).fixed_batch == 4


def test_half_export(exports, weights, tmp_path):
    full = _export(exports, "onnx")
    result = export_model("osnet_x0_25", weights, "onnx", tmp_path / "half.onnx", half=True)
    assert result.metadata.half and min(result.min_cosine.values()) >= 0.999
    assert result.path.stat().st_size < 0.6 * full.path.stat().st_size


def test_export_of_mismatching_files_is_refused(exports):
    result = _export(exports, "onnx")
    with pytest.raises(ValueError, match="image_size"):
        FeatureExtractor("osnet_x0_25", result.path, backend="onnx", image_size=(128, 64))
    with pytest.raises(ValueError, match="use backend='onnx'"):
        FeatureExtractor("osnet_x0_25", result.path, backend="torch")
    with pytest.raises(ValueError, match="holds a osnet_x0_25 network"):
        FeatureExtractor("osnet_x1_0", result.path, backend="onnx")


@pytest.mark.filterwarnings("ignore")
def test_onnx_without_metadata_is_checked_by_its_input_shape(tmp_path):
    pytest.importorskip("onnxruntime")
    model = build_model("osnet_x0_25", num_classes=1, pretrained=False).eval()
    path = tmp_path / "foreign.onnx"
    torch.onnx.export(model, (torch.zeros(1, 3, 128, 64),), str(path), dynamo=False)
    with pytest.raises(ValueError, match="takes 128x64"):
        FeatureExtractor("osnet_x0_25", path, backend="onnx", image_size=(256, 128))
    extractor = FeatureExtractor("osnet_x0_25", path, backend="onnx", device="cpu")
    assert extractor.image_size == (128, 64) and extractor.backend.metadata is None


def test_bad_export_arguments_and_files(weights, tmp_path):
    with pytest.raises(ValueError, match="format must be one of"):
        export_model("osnet_x0_25", weights, "tflite")
    with pytest.raises(FileNotFoundError):
        open_backend(tmp_path / "missing.onnx")
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not an exported model"):
        open_backend(text)
    pytest.importorskip("onnxruntime")
    corrupt = tmp_path / "corrupt.onnx"
    corrupt.write_bytes(b"\x00garbage")
    with pytest.raises(ValueError, match="cannot load ONNX model"):
        open_backend(corrupt)


def test_missing_openvino_gives_install_hint(monkeypatch):
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(ImportError, match="pip install openvino"):
        OpenVinoBackend("model.xml")


def test_export_command(weights, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    output = tmp_path / "cli.onnx"
    argv = ["--model", "osnet_x0_25", "--weights", str(weights), "--format", "onnx"]
    assert main([*argv, "--output", str(output)]) == 0
    assert output.is_file() and "min cosine vs PyTorch" in capsys.readouterr().out
    assert main(["--model", "osnet_x1_0", "--weights", str(weights), "--format", "onnx"]) == 1
    assert "does not match" in capsys.readouterr().err
