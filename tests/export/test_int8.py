"""INT8 export: QDQ file calibrated on real MOT crops, run by both CPU runtimes, near fp32."""

import numpy as np
import pytest
import torch
from shared_assets import shared_path

from strongsort_reid.commands.export import main, parse_args
from strongsort_reid.export import export_model
from strongsort_reid.export.calibration import load_crops, mot_crop_split, sample
from strongsort_reid.export.quantize import Int8Options, cosine_to_reference, export_int8
from strongsort_reid.inference import FeatureExtractor, open_backend
from strongsort_reid.inference.formats import is_int8, runtime_for_export
from strongsort_reid.inference.metadata import ExportMetadata
from strongsort_reid.models.loading import load_reid_model
from strongsort_reid.models.registry import IMAGENET_MEAN, IMAGENET_STD

pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")

ARCH = "osnet_x0_25"
MOT_ROOTS = ("data/mot/dev", "data/mot/MOT17-mini/train")


@pytest.fixture(scope="module")
def weights():
    return shared_path("data/reid/osnet_x0_25_msmt17.pth")


@pytest.fixture(scope="module")
def crop_home(shared_reid_home):
    """MOT crops are cut once into the session's temporary ReID home."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STRONGSORT_REID_HOME", str(shared_reid_home))
        yield shared_reid_home


@pytest.fixture(scope="module")
def int8_export(weights, crop_home, tmp_path_factory):
    """A small, fast int8 export: 32 calibration crops (MinMax), checked on 32 held-out ones
    (mean cosine 0.990 when written)."""
    loaded = load_reid_model(ARCH, weights)
    metadata = ExportMetadata(
        arch=ARCH, weights=weights.name, image_size=(256, 128), feature_dim=512, format="onnx"
    )
    path = tmp_path_factory.mktemp("int8") / "osnet_int8.onnx"
    path, agreement = export_int8(
        loaded.model,
        path,
        "onnx",
        metadata,
        [shared_path(root) for root in MOT_ROOTS],
        calib_count=32,
        options=Int8Options(method="minmax"),
        check_count=32,
    )
    return path, agreement


@pytest.fixture(scope="module")
def held_out(crop_home):
    """Crops of identities the calibration never saw (other half of the identity split)."""
    split = mot_crop_split([shared_path(root) for root in MOT_ROOTS])
    assert split.calibration and split.held_out
    assert not set(split.calibration) & set(split.held_out)
    return sample(split.held_out, 12, seed=1)


def test_int8_export_is_a_qdq_model_close_to_fp32(int8_export):
    path, (mean, low) = int8_export
    graph = onnx.load(str(path)).graph
    ops = {node.op_type for node in graph.node}
    assert {"QuantizeLinear", "DequantizeLinear"} <= ops
    assert is_int8(path)
    metadata = open_backend(path).metadata
    assert metadata.int8 and metadata.arch == ARCH
    assert metadata.calibration == "minmax, per-channel, float edges, 32 crops"
    assert mean >= 0.98 and low > 0.8


@pytest.fixture(scope="module")
def expected(weights, held_out):
    """PyTorch float32 features of the held-out crops, preprocessed as the extractor does."""
    model = load_reid_model(ARCH, weights).model.eval()
    batch = load_crops(held_out, (256, 128), IMAGENET_MEAN, IMAGENET_STD)
    with torch.inference_mode():
        return model(torch.from_numpy(batch)).numpy()


@pytest.mark.parametrize("backend", ["onnx", "auto"])  # "auto" is OpenVINO when installed
def test_int8_runs_in_the_feature_extractor_on_real_crops(int8_export, held_out, expected, backend):
    if backend != "onnx":
        pytest.importorskip("openvino")
    path, _ = int8_export
    extractor = FeatureExtractor(ARCH, path, backend=backend, device="cpu")
    assert extractor.backend.name == (runtime_for_export(path) if backend == "auto" else backend)
    assert extractor.backend.metadata.int8  # OpenVINO reads it from the ONNX file too
    features = extractor(held_out)
    assert features.shape == (12, 512) and features.dtype == np.float32
    mean, _ = cosine_to_reference(features, expected)
    assert mean >= 0.98


def test_auto_runs_int8_onnx_files_on_openvino_and_refuses_other_runtimes(int8_export):
    pytest.importorskip("openvino")
    path, _ = int8_export
    assert runtime_for_export(path) == "openvino"
    assert runtime_for_export(path, "cuda") == "onnx"
    with pytest.raises(ValueError, match="use backend='onnx' or 'openvino'"):
        FeatureExtractor(ARCH, path, backend="torchscript")


def test_int8_arguments_are_checked(weights, tmp_path):
    with pytest.raises(ValueError, match="calib_source"):
        export_model(ARCH, weights, "onnx", tmp_path / "q.onnx", int8=True)
    with pytest.raises(ValueError, match="format 'onnx' or 'openvino'"):
        export_int8(None, tmp_path / "q.ts", "torchscript", None, [tmp_path])
    with pytest.raises(SystemExit):
        parse_args(["--model", ARCH, "--format", "onnx", "--int8"])
    args = parse_args(["--model", ARCH, "--format", "onnx", "--int8", "--calib-source", "a", "b"])
    assert [str(p) for p in args.calib_source] == ["a", "b"] and args.calib_method == "percentile"


def test_cli_reports_a_failed_int8_export(weights, tmp_path, capsys):
    status = main(
        ["--model", ARCH, "--weights", str(weights), "--format", "onnx", "--int8"]
        + ["--calib-source", str(tmp_path / "missing")]
    )
    assert status == 1 and "export failed" in capsys.readouterr().err
