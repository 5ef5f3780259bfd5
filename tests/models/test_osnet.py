"""OSNet, OSNet-IBN and OSNet-AIN against the torchreid reference (../shared/golden)."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
import torch
from PIL import Image
from shared_assets import shared_path

from strongsort_reid.models import build_model, get_model_entry, get_weights_entry

OSNET_NAMES = [
    "osnet_x1_0",
    "osnet_x0_75",
    "osnet_x0_5",
    "osnet_x0_25",
    "osnet_ibn_x1_0",
    "osnet_ain_x1_0",
    "osnet_ain_x0_75",
    "osnet_ain_x0_5",
    "osnet_ain_x0_25",
]
GOLDEN_NAMES = ["osnet_x1_0", "osnet_x0_25", "osnet_ibn_x1_0", "osnet_ain_x1_0"]
ZOO_CHECKPOINTS = {"osnet_x0_25_msmt17": 1041, "osnet_x0_25_market1501": 751}
IMAGENET_MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
IMAGENET_STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(shared_path("golden/models/manifest.json").read_text())


def _build(name: str, num_classes: int = 10, **kwargs) -> torch.nn.Module:
    return build_model(name, num_classes=num_classes, pretrained=False, **kwargs)


def _load_zoo_state_dict(weights_name: str) -> dict:
    path = shared_path(f"data/reid/{weights_name}.pth")
    return torch.load(path, map_location="cpu", weights_only=True)


@pytest.mark.parametrize("name", OSNET_NAMES)
def test_state_dict_matches_torchreid_manifest(manifest, name):
    expected = manifest[name]
    model = _build(name, num_classes=expected["num_classes"])
    keys_and_shapes = [[key, list(value.shape)] for key, value in model.state_dict().items()]
    assert keys_and_shapes == expected["state_dict"]
    assert sum(p.numel() for p in model.parameters()) == expected["num_params"]
    assert model.feature_dim == expected["eval_feature_dim"]


@pytest.mark.parametrize("name", GOLDEN_NAMES)
def test_eval_output_equals_reference(name):
    golden = torch.load(shared_path(f"golden/models/{name}.pt"), map_location="cpu")
    model = _build(name)
    model.load_state_dict(golden["state_dict"], strict=True)
    model.eval()
    with torch.no_grad():
        output = model(golden["input"])
    torch.testing.assert_close(output, golden["eval_output"], atol=1e-4, rtol=0)


@pytest.mark.parametrize("weights_name", sorted(ZOO_CHECKPOINTS))
def test_model_zoo_checkpoint_loads_strictly(weights_name):
    state_dict = _load_zoo_state_dict(weights_name)
    assert not any(key.startswith("module.") for key in state_dict)
    entry = get_weights_entry(weights_name)
    assert entry.num_classes == ZOO_CHECKPOINTS[weights_name]
    model = _build(entry.arch, num_classes=entry.num_classes)
    model.load_state_dict(state_dict, strict=True)


def test_zoo_weights_reproduce_reference_features_on_real_crops():
    """Trained weights + torchreid preprocessing give the reference embeddings."""
    reference = np.load(shared_path("golden/osnet_x0_25_msmt17_mot17_04_f1.npz"))
    frame = Image.open(
        shared_path("data/mot/MOT17-mini/train/MOT17-04-FRCNN/img1/000001.jpg")
    ).convert("RGB")
    crops = []
    for x1, y1, x2, y2, _ in reference["boxes_xyxy_id"].tolist():
        crop = frame.crop((x1, y1, x2, y2)).resize((128, 256), Image.BILINEAR)
        pixels = torch.from_numpy(np.asarray(crop, dtype=np.float32) / 255.0).permute(2, 0, 1)
        crops.append((pixels - IMAGENET_MEAN) / IMAGENET_STD)
    model = _build("osnet_x0_25", num_classes=1041)
    model.load_state_dict(_load_zoo_state_dict("osnet_x0_25_msmt17"), strict=True)
    model.eval()
    with torch.no_grad():
        features = model(torch.stack(crops))
    expected = torch.from_numpy(reference["features"])
    cosine = torch.nn.functional.cosine_similarity(features, expected, dim=1)
    assert cosine.min().item() >= 0.999


def test_registered_sha256_matches_shared_files():
    for weights_name in ZOO_CHECKPOINTS:
        path = shared_path(f"data/reid/{weights_name}.pth")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert get_weights_entry(weights_name).sha256 == digest


@pytest.mark.parametrize(
    "weights_name, arch, num_classes",
    [
        ("osnet_x0_5_msmt17", "osnet_x0_5", 1041),
        ("osnet_x0_75_msmt17", "osnet_x0_75", 1041),
        ("osnet_x1_0_msmt17", "osnet_x1_0", 1041),
        ("osnet_x1_0_market1501", "osnet_x1_0", 751),
        ("osnet_x1_0_dukemtmcreid", "osnet_x1_0", 702),
        # Cross-domain zoo models, trained on all MSMT17 identities (combineall).
        ("osnet_ibn_x1_0_msmt17", "osnet_ibn_x1_0", 4101),
        ("osnet_ain_x1_0_msmt17", "osnet_ain_x1_0", 4101),
    ],
)
def test_zoo_weights_are_registered(weights_name, arch, num_classes):
    entry = get_weights_entry(weights_name)
    assert (entry.arch, entry.num_classes) == (arch, num_classes)
    assert entry.urls and all(url.startswith("https://") for url in entry.urls)


@pytest.mark.parametrize("name", OSNET_NAMES)
def test_imagenet_url_is_registered(name):
    assert get_model_entry(name).imagenet_url.startswith("https://drive.google.com/")


@pytest.mark.parametrize("name", ["osnet_x0_25", "osnet_ibn_x1_0", "osnet_ain_x0_25"])
def test_train_and_eval_outputs(name):
    images = torch.randn(4, 3, 64, 32)
    softmax_model = _build(name, loss="softmax")
    assert softmax_model.training
    assert softmax_model(images).shape == (4, 10)

    triplet_model = _build(name, loss="triplet")
    logits, features = triplet_model(images)
    assert logits.shape == (4, 10)
    assert features.shape == (4, 512)

    triplet_model.eval()
    with torch.no_grad():
        assert triplet_model(images).shape == (4, 512)
        last_channels = triplet_model.conv5.conv.out_channels
        assert triplet_model.featuremaps(images).shape == (4, last_channels, 4, 2)
        assert triplet_model(images, return_featuremaps=True).shape == (4, last_channels, 4, 2)


@pytest.mark.parametrize("name", ["osnet_x0_25", "osnet_ain_x0_25"])
def test_feature_dim_is_passed_through(name):
    model = _build(name, feature_dim=256).eval()
    assert model.feature_dim == 256
    assert model.classifier.in_features == 256
    with torch.no_grad():
        assert model(torch.randn(2, 3, 64, 32)).shape == (2, 256)


@pytest.mark.parametrize("name", ["osnet_x0_25", "osnet_ain_x0_25"])
def test_bad_arguments_raise_clear_errors(name):
    builder = get_model_entry(name).builder
    with pytest.raises(ValueError, match="loss"):
        builder(num_classes=10, loss="arcface")
    with pytest.raises(ValueError, match="num_classes"):
        builder(num_classes=0)
    with pytest.raises(ValueError, match="feature_dim"):
        builder(num_classes=10, feature_dim=-1)
    with pytest.raises(TypeError):
        builder(num_classes=10, not_an_option=True)
    model = builder(num_classes=10).eval()
    with pytest.raises(ValueError, match="x must be"):
        model(torch.randn(2, 1, 64, 32))
