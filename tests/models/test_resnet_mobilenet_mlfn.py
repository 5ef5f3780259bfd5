"""ResNet-50 (+fc512, +IBN-a), MobileNetV2 and MLFN: torchreid compatibility and semantics."""

from __future__ import annotations

import json

import pytest
import torch
import torchvision
from shared_assets import shared_path
from torch import nn

from strongsort_reid.models import build_model, get_model_entry, get_weights_entry
from strongsort_reid.models.mlfn import MLFN, MLFNBlock
from strongsort_reid.models.mobilenetv2 import MobileNetV2
from strongsort_reid.models.resnet import ResNet
from strongsort_reid.models.resnet_ibn_a import IBN

MODEL_NAMES = (
    "resnet50",
    "resnet50_fc512",
    "resnet50_ibn_a",
    "mobilenetv2_x1_0",
    "mobilenetv2_x1_4",
    "mlfn",
)
NUM_CLASSES = 10


@pytest.fixture(scope="module")
def manifest() -> dict:
    with open(shared_path("golden/models/manifest.json")) as handle:
        return json.load(handle)


def _images(batch: int = 2, size: tuple = (128, 64)) -> torch.Tensor:
    """Random normalised images. Output widths do not depend on the resolution, so most
    tests use half of the 256x128 ReID input to stay fast on a CPU."""
    generator = torch.Generator().manual_seed(0)
    return torch.randn(batch, 3, *size, generator=generator)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_state_dict_keys_shapes_and_param_count_match_torchreid(name, manifest):
    expected = manifest[name]
    model = build_model(name, num_classes=expected["num_classes"], pretrained=False)

    keys_and_shapes = [[key, list(value.shape)] for key, value in model.state_dict().items()]
    assert keys_and_shapes == expected["state_dict"]
    assert sum(p.numel() for p in model.parameters()) == expected["num_params"]
    assert model.feature_dim == expected["eval_feature_dim"]


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_train_and_eval_outputs(name, manifest):
    x = _images()
    softmax_model = build_model(name, num_classes=NUM_CLASSES, loss="softmax", pretrained=False)
    logits = softmax_model(x)
    assert logits.shape == (2, NUM_CLASSES)

    triplet_model = build_model(name, num_classes=NUM_CLASSES, loss="triplet", pretrained=False)
    logits, features = triplet_model(x)
    feature_dim = manifest[name]["eval_feature_dim"]
    assert logits.shape == (2, NUM_CLASSES)
    assert features.shape == (2, feature_dim)

    triplet_model.eval()
    with torch.no_grad():
        embedding = triplet_model(x)
    assert embedding.shape == (2, feature_dim)
    assert embedding.dtype == torch.float32
    assert torch.isfinite(embedding).all()


def test_mobilenetv2_x1_0_matches_reference_output():
    golden = torch.load(
        shared_path("golden/models/mobilenetv2_x1_0.pt"), map_location="cpu", weights_only=True
    )
    model = build_model("mobilenetv2_x1_0", num_classes=NUM_CLASSES, pretrained=False)
    model.load_state_dict(golden["state_dict"], strict=True)
    model.eval()
    with torch.no_grad():
        output = model(golden["input"])
    torch.testing.assert_close(output, golden["eval_output"], atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    ("name", "map_shape"),
    [
        ("resnet50", (2048, 8, 4)),
        ("resnet50_fc512", (2048, 16, 8)),
        ("resnet50_ibn_a", (2048, 8, 4)),
        ("mobilenetv2_x1_0", (1280, 8, 4)),
        ("mobilenetv2_x1_4", (1792, 8, 4)),
        ("mlfn", (2048, 8, 4)),
    ],
)
def test_featuremaps_shape_at_reid_resolution(name, map_shape):
    model = build_model(name, num_classes=NUM_CLASSES, pretrained=False).eval()
    with torch.no_grad():
        maps = model.featuremaps(_images(batch=1, size=(256, 128)))
    assert maps.shape == (1, *map_shape)


def test_resnet50_embedding_equals_torchvision_pooled_features():
    """Same weights in torchvision's ResNet-50: our eval output is its pooled layer4."""
    model = build_model("resnet50", num_classes=NUM_CLASSES, pretrained=False).eval()
    reference = torchvision.models.resnet50(weights=None).eval()
    backbone = {k: v for k, v in model.state_dict().items() if not k.startswith("classifier.")}
    missing, unexpected = reference.load_state_dict(backbone, strict=False)
    assert sorted(missing) == ["fc.bias", "fc.weight"] and not unexpected
    reference.fc = nn.Identity()

    x = _images()
    with torch.no_grad():
        torch.testing.assert_close(model(x), reference(x), atol=1e-5, rtol=1e-5)


def test_resnet50_fc512_embedding_is_fc_of_pooled_features():
    model = build_model("resnet50_fc512", num_classes=NUM_CLASSES, pretrained=False).eval()
    x = _images()
    with torch.no_grad():
        pooled = model.featuremaps(x).mean(dim=(2, 3))
        torch.testing.assert_close(model(x), model.fc(pooled), atol=1e-5, rtol=1e-5)


def test_ibn_normalises_first_half_per_instance_and_second_half_per_batch():
    ibn = IBN(6).train()
    x = torch.randn(4, 6, 5, 7) * 3 + 2
    out = ibn(x)
    torch.testing.assert_close(out[:, :3], nn.functional.instance_norm(x[:, :3]))
    torch.testing.assert_close(
        out[:, 3:], nn.functional.batch_norm(x[:, 3:], None, None, training=True)
    )


def test_resnet50_ibn_a_uses_ibn_in_layers_1_to_3_only():
    model = build_model("resnet50_ibn_a", num_classes=NUM_CLASSES, pretrained=False)
    for stage, expected_type in (
        (model.layer1, IBN),
        (model.layer2, IBN),
        (model.layer3, IBN),
        (model.layer4, nn.BatchNorm2d),
    ):
        assert all(type(block.bn1) is expected_type for block in stage)


def test_mlfn_factor_selection_gates_each_group_of_channels():
    torch.manual_seed(0)
    block = MLFNBlock(64, 256, stride=1, fsm_channels=(128, 64), groups=32).eval()
    x = torch.randn(2, 64, 8, 4)
    with torch.no_grad():
        out, selection = block(x)
        # Same computation with the gate applied per factor on a (B, groups, C/groups) view.
        hidden = nn.functional.relu(block.fm_bn1(block.fm_conv1(x)))
        hidden = nn.functional.relu(block.fm_bn2(block.fm_conv2(hidden)))
        gated = (hidden.view(2, 32, 4, 8, 4) * selection.view(2, 32, 1, 1, 1)).view(2, 128, 8, 4)
        expected = nn.functional.relu(block.fm_bn3(block.fm_conv3(gated)))
        expected = nn.functional.relu(expected + block.downsample(x))
    assert selection.shape == (2, 32, 1, 1)
    assert ((selection > 0) & (selection < 1)).all()
    torch.testing.assert_close(out, expected, atol=1e-6, rtol=1e-6)


def test_mlfn_embedding_fuses_pooled_features_and_factor_signature():
    model = build_model("mlfn", num_classes=NUM_CLASSES, pretrained=False).eval()
    x = _images()
    with torch.no_grad():
        maps, signature = model._backbone(x)
        expected = (model.fc_x(maps.mean(dim=(2, 3), keepdim=True)) + model.fc_s(signature)) / 2
        torch.testing.assert_close(model(x), expected.flatten(1), atol=1e-6, rtol=1e-6)
    assert signature.shape == (2, 16 * 32, 1, 1)


def test_optional_fc_layers_and_dropout():
    model = MobileNetV2(NUM_CLASSES, fc_dims=[256], dropout_p=0.5)
    assert model.feature_dim == 256
    assert [type(layer) for layer in model.fc] == [nn.Linear, nn.BatchNorm1d, nn.ReLU, nn.Dropout]
    assert model.eval()(_images()).shape == (2, 256)


@pytest.mark.parametrize(
    ("build", "argument"),
    [
        (lambda: ResNet(NUM_CLASSES, loss="arcface"), "loss"),
        (lambda: ResNet(NUM_CLASSES, fc_dims=512), "fc_dims"),
        (lambda: ResNet(NUM_CLASSES, fc_dims=[0]), "fc_dims"),
        (lambda: ResNet(NUM_CLASSES, dropout_p=0.5), "dropout_p"),
        (lambda: ResNet(NUM_CLASSES, last_stride=3), "last_stride"),
        (lambda: MobileNetV2(NUM_CLASSES, width_mult=0), "width_mult"),
        (lambda: MLFN(NUM_CLASSES, loss="arcface"), "loss"),
    ],
)
def test_bad_arguments_raise_value_error(build, argument):
    with pytest.raises(ValueError, match=argument):
        build()


def test_builders_reject_unknown_or_fixed_arguments():
    with pytest.raises(TypeError, match="fc_dim"):
        build_model("mlfn", num_classes=NUM_CLASSES, pretrained=False, fc_dim=[512])
    with pytest.raises(TypeError, match="last_stride"):
        build_model("resnet50_fc512", num_classes=NUM_CLASSES, pretrained=False, last_stride=2)


def test_imagenet_urls_are_registered():
    assert get_model_entry("resnet50").imagenet_url.endswith("resnet50-19c8e357.pth")
    assert get_model_entry("resnet50_fc512").imagenet_url.endswith("resnet50-19c8e357.pth")
    assert get_model_entry("resnet50_ibn_a").imagenet_url.endswith("resnet50_ibn_a-d9d0bb7b.pth")
    for name in ("mobilenetv2_x1_0", "mobilenetv2_x1_4", "mlfn"):
        assert get_model_entry(name).imagenet_url.startswith("https://drive.google.com/")


@pytest.mark.parametrize(
    ("weights", "arch", "num_classes"),
    [
        ("resnet50_msmt17", "resnet50", 1041),
        ("resnet50_market1501", "resnet50", 751),
        ("resnet50_fc512_msmt17", "resnet50_fc512", 1041),
        ("mobilenetv2_x1_0_msmt17", "mobilenetv2_x1_0", 1041),
        ("mobilenetv2_x1_4_msmt17", "mobilenetv2_x1_4", 1041),
        ("mlfn_msmt17", "mlfn", 1041),
        ("mlfn_dukemtmcreid", "mlfn", 702),
    ],
)
def test_model_zoo_weights_are_registered(weights, arch, num_classes):
    entry = get_weights_entry(weights)
    assert entry.arch == arch
    assert entry.num_classes == num_classes
    assert entry.urls and all(url.startswith("https://") for url in entry.urls)
    assert get_model_entry(entry.arch).name == arch
