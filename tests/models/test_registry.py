"""build_model / show_avai_models: names, errors, train/eval semantics common to all models."""

from __future__ import annotations

import json

import pytest
import torch
from shared_assets import shared_path

from strongsort_reid.models import available_models, build_model, show_avai_models


def test_every_manifest_architecture_is_registered():
    manifest = json.loads(shared_path("golden/models/manifest.json").read_text())
    assert set(manifest) <= set(available_models())


def test_show_avai_models_prints_the_names(capsys):
    show_avai_models()
    printed = capsys.readouterr().out
    assert "osnet_x0_25" in printed and "resnet50_ibn_a" in printed


def test_unknown_name_is_a_key_error_listing_available_models():
    with pytest.raises(KeyError, match="Unknown model 'osnet_x9'.*osnet_x0_25"):
        build_model("osnet_x9", num_classes=10)


@pytest.mark.parametrize("num_classes", [0, -3, 2.5])
def test_bad_num_classes(num_classes):
    with pytest.raises(ValueError, match="num_classes"):
        build_model("osnet_x0_25", num_classes=num_classes, pretrained=False)


def test_bad_loss():
    with pytest.raises(ValueError, match="loss"):
        build_model("osnet_x0_25", num_classes=10, loss="arcface", pretrained=False)


@pytest.mark.parametrize("name", sorted(set(available_models())))
def test_train_and_eval_outputs_follow_torchreid_semantics(name):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 256, 128)
    softmax_model = build_model(name, num_classes=7, loss="softmax", pretrained=False)
    with torch.no_grad():
        logits = softmax_model.train()(x)
        assert logits.shape == (2, 7)
        features = softmax_model.eval()(x)
        assert features.shape == (2, softmax_model.feature_dim)
    triplet_model = build_model(name, num_classes=7, loss="triplet", pretrained=False).train()
    with torch.no_grad():
        logits, features = triplet_model(x)
    assert logits.shape == (2, 7) and features.shape == (2, triplet_model.feature_dim)


def test_every_manifest_entry_matches_keys_order_shapes_and_parameter_count():
    """One pass over the whole manifest, so that a new entry cannot go unchecked."""
    manifest = json.loads(shared_path("golden/models/manifest.json").read_text())
    assert len(manifest) == 15
    for name, expected in manifest.items():
        model = build_model(name, num_classes=expected["num_classes"], pretrained=False)
        state = model.state_dict()
        assert list(state) == [key for key, _ in expected["state_dict"]], name
        assert [list(v.shape) for v in state.values()] == [s for _, s in expected["state_dict"]]
        assert sum(p.numel() for p in model.parameters()) == expected["num_params"], name
        assert model.feature_dim == expected["eval_feature_dim"], name
