"""FeatureExtractor: golden features per backend, channel order, input types, bad input."""

import sys

import cv2
import numpy as np
import pytest
import torch
from import_checks import heavy_modules_after
from PIL import Image
from shared_assets import shared_path

from strongsort_reid.inference import FeatureExtractor, pick_backend
from strongsort_reid.inference.backends import half_dtype
from strongsort_reid.inference.preprocess import normalize_batch, resize_to_rgb

GOLDEN = "golden/osnet_x0_25_msmt17_mot17_04_f1.npz"
FRAME = "data/mot/MOT17-mini/train/MOT17-04-FRCNN/img1/000001.jpg"
WEIGHTS = "data/reid/osnet_x0_25_msmt17.pth"


@pytest.fixture(scope="module")
def golden():
    """``(frame_bgr, boxes (25, 4), reference features L2-normalised (25, 512))``."""
    data = np.load(shared_path(GOLDEN))
    frame = cv2.imread(str(shared_path(FRAME)))
    reference = data["features"] / np.linalg.norm(data["features"], axis=1, keepdims=True)
    return frame, data["boxes_xyxy_id"][:, :4].astype(np.float32), reference


@pytest.fixture(scope="module")
def weights():
    return shared_path(WEIGHTS)


@pytest.fixture(scope="module")
def extractor(weights):
    return FeatureExtractor("osnet_x0_25", weights, device="cpu", backend="torch")


@pytest.fixture(scope="module")
def small_extractor():
    """Random weights, batch size 4: for input handling and chunking."""
    with pytest.warns(UserWarning, match="randomly initialised"):
        return FeatureExtractor("osnet_x0_25", None, device="cpu", batch_size=4, backend="torch")


@pytest.fixture(scope="module")
def crops(golden):
    frame, boxes, _ = golden
    return [frame[y1:y2, x1:x2] for x1, y1, x2, y2 in boxes.astype(int)[:6].tolist()]


def _check_golden(extractor, golden):
    frame, boxes, reference = golden
    features, mask = extractor.from_frame(frame, boxes, return_mask=True)
    assert features.dtype == np.float32 and features.shape == (len(boxes), 512)
    assert mask.dtype == bool and mask.all()
    np.testing.assert_allclose(np.linalg.norm(features, axis=1), 1.0, atol=1e-5)
    cosine = (features * reference).sum(axis=1)
    assert cosine.min() >= 0.99, cosine


def test_golden_features_torch(extractor, golden):
    _check_golden(extractor, golden)
    assert extractor.feature_dim == 512 and extractor.image_size == (256, 128)


def test_default_backend_is_the_fastest_installed_and_keeps_the_golden_features(weights, golden):
    extractor = FeatureExtractor("osnet_x0_25", weights, device="cpu")
    assert extractor.backend.name == pick_backend("auto", "cpu")
    _check_golden(extractor, golden)


@pytest.mark.parametrize("backend", ["torchscript", "onnx", "openvino"])
def test_golden_features_other_backends(backend, weights, golden):
    pytest.importorskip({"onnx": "onnxruntime", "openvino": "openvino"}.get(backend, "torch"))
    _check_golden(FeatureExtractor("osnet_x0_25", weights, device="cpu", backend=backend), golden)


def test_bgr_and_rgb_inputs_give_identical_features(extractor, crops):
    bgr = extractor(crops)
    rgb = extractor([np.ascontiguousarray(c[:, :, ::-1]) for c in crops], channel_order="rgb")
    np.testing.assert_array_equal(bgr, rgb)
    # Declaring the wrong order is not silently harmless: the features change.
    swapped = extractor([np.ascontiguousarray(c[:, :, ::-1]) for c in crops])
    assert (swapped * bgr).sum(axis=1).min() < 0.999


def test_from_frame_matches_the_crops(extractor, golden, crops):
    frame, boxes, _ = golden
    np.testing.assert_allclose(extractor.from_frame(frame, boxes[:6]), extractor(crops), atol=1e-5)


def test_every_input_type_gives_the_same_features(small_extractor, crops, tmp_path):
    crop = np.ascontiguousarray(crops[0])
    expected = small_extractor(crop)
    path = tmp_path / "crop.png"
    cv2.imwrite(str(path), crop)
    pixels = np.empty((1, 256, 128, 3), dtype=np.uint8)
    resize_to_rgb(crop, pixels[0], "bgr")
    tensor = normalize_batch(
        pixels, small_extractor.pixel_mean, small_extractor.pixel_std, torch.device("cpu")
    )
    results = {
        "path": small_extractor(path),
        "str path list": small_extractor([str(path)]),
        "PIL": small_extractor(Image.fromarray(crop[:, :, ::-1])),
        "4-d array": small_extractor(crop[None]),
        "tensor": small_extractor(tensor),
        "3-d tensor": small_extractor(tensor[0]),
    }
    assert expected.shape == (1, 512)
    for name, features in results.items():
        np.testing.assert_allclose(features, expected, atol=1e-5, err_msg=name)
    as_tensor = small_extractor(crop, as_tensor=True)
    assert isinstance(as_tensor, torch.Tensor) and as_tensor.dtype == torch.float32


def test_grayscale_and_alpha_images_are_converted(small_extractor, crops):
    crop = np.ascontiguousarray(crops[1])
    gray = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    gray3 = cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    bgra = cv2.cvtColor(crop, cv2.COLOR_BGR2BGRA)
    rgba = cv2.cvtColor(crop, cv2.COLOR_BGR2RGBA)
    features = small_extractor([gray, gray[:, :, None], gray3, bgra, crop])
    np.testing.assert_allclose(features[0], features[2], atol=1e-5)
    np.testing.assert_allclose(features[1], features[2], atol=1e-5)
    np.testing.assert_allclose(features[3], features[4], atol=1e-5)
    from_rgba = small_extractor(rgba, channel_order="rgb")
    np.testing.assert_allclose(from_rgba[0], features[4], atol=1e-5)


def test_chunks_of_batch_size_match_single_images(small_extractor, crops):
    batched = small_extractor(crops)  # 6 crops in chunks of 4 and 2
    single = np.concatenate([small_extractor(c) for c in crops])
    np.testing.assert_allclose(batched, single, atol=1e-5)


def test_empty_inputs_give_zero_rows(small_extractor, golden):
    frame = golden[0]
    for features in (
        small_extractor([]),
        small_extractor.from_frame(frame, np.zeros((0, 4))),
        small_extractor.from_frame(frame, []),
    ):
        assert features.shape == (0, 512) and features.dtype == np.float32
    empty, mask = small_extractor.from_frame(frame, [], return_mask=True)
    assert mask.shape == (0,)


def test_boxes_are_clipped_and_empty_ones_masked(small_extractor, golden):
    frame = golden[0]
    height, width = frame.shape[:2]
    boxes = np.array(
        [
            [100, 200, 180, 400],  # inside
            [width + 10, 50, width + 90, 250],  # entirely outside
            [300, 300, 300, 400],  # zero width
            [-40, -30, 60, 170],  # partly outside: clipped to [0, 0, 60, 170]
            [500.4, 300.6, 580.2, 500.5],  # sub-pixel: every covered pixel is kept
        ],
        dtype=np.float32,
    )
    features, mask = small_extractor.from_frame(frame, boxes, return_mask=True)
    np.testing.assert_array_equal(mask, [True, False, False, True, True])
    assert not features[~mask].any()
    np.testing.assert_allclose(np.linalg.norm(features[mask], axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(features[3], small_extractor(frame[0:170, 0:60])[0], atol=1e-5)
    np.testing.assert_allclose(features[4], small_extractor(frame[300:501, 500:581])[0], atol=1e-5)
    as_tensor = small_extractor.from_frame(frame, torch.from_numpy(boxes), as_tensor=True)
    assert isinstance(as_tensor, torch.Tensor) and as_tensor.shape == (5, 512)


@pytest.mark.parametrize(
    "boxes, message",
    [
        ([[0, 0, np.nan, 10]], "NaN or inf"),
        ([[0, 0, np.inf, 10]], "NaN or inf"),
        ([[0, 0, 10, 10, 0.9]], r"\(N, 4\)"),
        ([0, 0, 10, 10], r"\(N, 4\)"),
        ([[10, 10, 5, 30]], "x2 < x1"),
        ([["a", "b", "c", "d"]], "real numbers"),
    ],
)
def test_bad_boxes_raise(small_extractor, golden, boxes, message):
    with pytest.raises(ValueError, match=message):
        small_extractor.from_frame(golden[0], np.array(boxes))


@pytest.mark.parametrize(
    "images, message",
    [
        (np.zeros((64, 32, 3), dtype=np.float32), "uint8"),
        (np.zeros((64, 32, 2), dtype=np.uint8), "HxWxC"),
        (np.zeros((0, 32, 3), dtype=np.uint8), "empty"),
        ([1, 2], "images\\[0\\] must be a path"),
        (torch.zeros((1, 3, 256, 128), dtype=torch.uint8), "float"),
        (torch.zeros((1, 3, 128, 64)), "shape"),
    ],
)
def test_bad_images_raise(small_extractor, images, message):
    with pytest.raises(ValueError, match=message):
        small_extractor(images)


def test_bad_frame_and_channel_order_raise(small_extractor, golden):
    with pytest.raises(ValueError, match="frame must have dtype uint8"):
        small_extractor.from_frame(golden[0].astype(np.float32), [[0, 0, 10, 10]])
    with pytest.raises(ValueError, match="channel_order"):
        small_extractor(golden[0], channel_order="RGBA")


def test_missing_and_unreadable_files_are_named(small_extractor, tmp_path):
    missing = tmp_path / "missing.jpg"
    with pytest.raises(FileNotFoundError, match="missing.jpg"):
        small_extractor([missing])
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(ValueError, match="broken.jpg"):
        small_extractor(broken)


def test_registry_weight_name(weights, tmp_path, monkeypatch):
    monkeypatch.setenv("STRONGSORT_REID_HOME", str(tmp_path))
    (tmp_path / "osnet_x0_25_msmt17.pth").symlink_to(weights)
    extractor = FeatureExtractor("osnet_x0_25", "osnet_x0_25_msmt17", device="cpu")
    assert extractor.feature_dim == 512 and extractor.model.classifier.out_features == 1041
    with pytest.raises(ValueError, match="belong to architecture 'osnet_x0_25'"):
        FeatureExtractor("osnet_x1_0", "osnet_x0_25_msmt17", device="cpu")


def test_checkpoint_of_another_architecture_raises(weights):
    with pytest.raises(ValueError, match="does not match"):
        FeatureExtractor("osnet_x0_5", weights, device="cpu")


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"backend": "tensorrt"}, "backend must be one of"),
        ({"batch_size": 0}, "batch_size"),
        ({"image_size": (256,)}, "image_size"),
        ({"pixel_std": (0.2, 0.2, 0.0)}, "pixel_std"),
        ({"device": "tpu"}, "device"),
        ({"device": "tpu", "backend": "openvino"}, "device='tpu'"),
    ],
)
def test_bad_constructor_arguments_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        FeatureExtractor("osnet_x0_25", None, **kwargs)


def test_half_precision_is_ignored_on_cpu_with_a_warning():
    with pytest.warns(UserWarning, match="only used on CUDA"):
        assert half_dtype(torch.device("cpu"), True) == torch.float32
    with pytest.raises(ValueError, match="half must be"):
        half_dtype(torch.device("cpu"), "fp8")


def test_feature_extractor_is_exported_lazily_at_package_level():
    import strongsort_reid
    import strongsort_reid.utils

    assert strongsort_reid.FeatureExtractor is FeatureExtractor
    assert strongsort_reid.utils.FeatureExtractor is FeatureExtractor
    assert "FeatureExtractor" in strongsort_reid.__all__
    assert "FeatureExtractor" in strongsort_reid.utils.__all__
    with pytest.raises(AttributeError, match="no attribute 'NotAThing'"):
        strongsort_reid.NotAThing  # noqa: B018
    # `import strongsort_reid` stays light: no torch, OpenCV or export runtimes.
    assert heavy_modules_after("import strongsort_reid") == []


def test_missing_onnxruntime_gives_install_hint(weights, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match="pip install onnxruntime"):
        FeatureExtractor("osnet_x0_25", weights, device="cpu", backend="onnx")


def test_torch_features_match_the_eager_model_for_varying_batch_sizes(extractor, golden):
    # The tracker calls with a different number of boxes every frame.
    frame, boxes, _ = golden
    pixels = np.empty((len(boxes), 256, 128, 3), dtype=np.uint8)
    for slot, (x1, y1, x2, y2) in zip(pixels, boxes.astype(int).tolist()):
        resize_to_rgb(frame[y1:y2, x1:x2], slot, "bgr")
    batch = normalize_batch(
        pixels, extractor.pixel_mean, extractor.pixel_std, torch.device("cpu"), channels_last=False
    )
    with torch.no_grad():
        expected = torch.nn.functional.normalize(extractor.model(batch), dim=1).numpy()
    for count in (1, 25, 4, 13, 1):
        features = extractor(batch[:count])
        cosine = (features * expected[:count]).sum(axis=1)
        assert cosine.min() >= 0.9999, (count, cosine.min())


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_half_precision_on_cuda(weights, golden):
    fp16 = FeatureExtractor("osnet_x0_25", weights, device="cuda", half=True)
    assert fp16.backend.input_dtype == torch.float16
    _check_golden(fp16, golden)
    bf16 = FeatureExtractor("osnet_x0_25", weights, device="cuda", half="bf16")
    assert bf16.backend.input_dtype == torch.bfloat16
    frame, boxes, reference = golden
    features = bf16.from_frame(frame, boxes)
    assert features.dtype == np.float32
    # bfloat16 keeps 8 mantissa bits: close to, not as close as, the float32 reference.
    assert (features * reference).sum(axis=1).min() >= 0.98
