"""Export to ONNX / OpenVINO / TorchScript: round trip against PyTorch, metadata, runtimes."""

import runpy
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from shared_assets import shared_path
from torch import nn

from strongsort_reid.export import (
    SUFFIXES,
    OpenVinoBackend,
    export_model,
    fold_batchnorm,
    open_backend,
)
from strongsort_reid.models import build_model
from strongsort_reid.utils.feature_extractor import FeatureExtractor

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
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


def _with_random_batchnorm_statistics(model):
    generator = torch.Generator().manual_seed(0)
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d)):
            module.running_mean.copy_(torch.rand(module.num_features, generator=generator) - 0.5)
            module.running_var.copy_(torch.rand(module.num_features, generator=generator) + 0.5)
    return model.eval()


def test_fold_batchnorm_keeps_the_output():
    model = _with_random_batchnorm_statistics(build_model("osnet_x0_25", 1, pretrained=False))
    example = torch.randn(2, 3, 256, 128, generator=torch.Generator().manual_seed(1))
    folded, count = fold_batchnorm(model, example)
    remaining = [m for m in folded.modules() if isinstance(m, nn.BatchNorm2d)]
    assert count > 50 and len(remaining) < 5
    with torch.no_grad():
        torch.testing.assert_close(folded(example), model(example), atol=1e-4, rtol=1e-4)
    assert any(isinstance(m, nn.BatchNorm2d) for m in model.modules())  # original untouched


class _SharedConvOutput(nn.Module):
    """A conv whose output feeds both a BatchNorm and a skip path: folding would be wrong."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 3, 3, padding=1)
        self.bn = nn.BatchNorm2d(3)

    def forward(self, x):
        y = self.conv(x)
        return self.bn(y) + y


def test_fold_batchnorm_refuses_a_fold_that_changes_the_output():
    model = _with_random_batchnorm_statistics(_SharedConvOutput())
    folded, count = fold_batchnorm(model, torch.randn(1, 3, 8, 8))
    assert count == 0 and isinstance(folded.bn, nn.BatchNorm2d)


def test_export_script(weights, tmp_path, capsys):
    pytest.importorskip("onnxruntime")
    main = runpy.run_path(str(SCRIPTS / "export.py"), run_name="script_under_test")["main"]
    output = tmp_path / "cli.onnx"
    argv = ["--model", "osnet_x0_25", "--weights", str(weights), "--format", "onnx"]
    assert main([*argv, "--output", str(output)]) == 0
    assert output.is_file() and "min cosine vs PyTorch" in capsys.readouterr().out
    assert main(["--model", "osnet_x1_0", "--weights", str(weights), "--format", "onnx"]) == 1
    assert "does not match" in capsys.readouterr().err
