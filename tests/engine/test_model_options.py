"""BNNeck, last stride 1 and two-stepped transfer learning."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import TinyReIDNet

from strongsort_reid.engine import ImageSoftmaxEngine, attach_bnneck, set_last_stride
from strongsort_reid.engine.transfer import open_all_layers, open_specified_layers
from strongsort_reid.models import build_model
from strongsort_reid.optim import build_optimizer
from strongsort_reid.utils.checkpoint import load_pretrained_weights


def test_bnneck_splits_triplet_and_inference_features():
    torch.manual_seed(0)
    model = attach_bnneck(TinyReIDNet(5, loss="triplet"))
    x = torch.randn(6, 3, 64, 32)
    model.train()
    model.bnneck.eval()  # running statistics, so the neck is a fixed function here
    logits, features = model(x)
    embedding = model._embed(x)
    assert torch.allclose(features, embedding)  # the triplet loss sees the features before it
    assert torch.allclose(logits, model.bnneck(embedding) @ model.classifier.weight.T)
    model.eval()
    assert torch.allclose(model(x), model.bnneck(model._embed(x)))  # inference: after it
    assert model(x, return_featuremaps=True).dim() == 4
    assert not model.bnneck.bias.requires_grad and not model.classifier.bias.requires_grad


def test_bnneck_checkpoint_loads_into_the_plain_architecture():
    model = attach_bnneck(TinyReIDNet(5))
    plain = TinyReIDNet(5)
    report = load_pretrained_weights(plain, model.state_dict())
    assert not report.skipped and report.unexpected == [
        "bnneck.weight", "bnneck.bias", "bnneck.running_mean", "bnneck.running_var",
        "bnneck.num_batches_tracked",
    ]
    with pytest.raises(ValueError, match="already has a BNNeck"):
        attach_bnneck(model)
    with pytest.raises(ValueError, match="needs a ReIDModel"):
        attach_bnneck(torch.nn.Linear(2, 2))


def test_last_stride_one_doubles_the_resnet_feature_map():
    model = build_model("resnet50", num_classes=3, pretrained=False)
    x = torch.randn(1, 3, 64, 32)
    assert model(x, return_featuremaps=True).shape[-2:] == (2, 1)
    set_last_stride(model, 1)
    assert model(x, return_featuremaps=True).shape[-2:] == (4, 2)
    with pytest.raises(ValueError, match="ResNet-family"):
        set_last_stride(TinyReIDNet(3), 1)
    with pytest.raises(ValueError, match="1 or 2"):
        set_last_stride(model, 3)


def test_fixbase_epochs_train_only_the_open_layers(datamanager_factory, tmp_path):
    datamanager = datamanager_factory(train_sampler="RandomSampler")
    model = attach_bnneck(TinyReIDNet(datamanager.num_train_pids))
    engine = ImageSoftmaxEngine(datamanager, model, build_optimizer(model, "sgd"), use_gpu=False)
    backbone = model.backbone[0].weight.detach().clone()
    classifier = model.classifier.weight.detach().clone()

    engine.train(0, fixbase_epoch=1, open_layers=["classifier"])
    assert torch.equal(model.backbone[0].weight, backbone)
    assert not torch.equal(model.classifier.weight, classifier)
    assert not model.backbone.training

    engine.train(1, fixbase_epoch=1, open_layers=["classifier"])
    assert not torch.equal(model.backbone[0].weight, backbone)
    # Opening every layer again leaves the parameters frozen by design frozen.
    assert not model.bnneck.bias.requires_grad and model.bnneck.weight.requires_grad


def test_open_layers_must_exist():
    model = TinyReIDNet(3)
    with pytest.raises(ValueError, match="not layers of TinyReIDNet"):
        open_specified_layers(model, ["classifer"])
    open_specified_layers(model, "classifier")
    assert [n for n, p in model.named_parameters() if p.requires_grad] == [
        "classifier.weight", "classifier.bias"
    ]
    open_all_layers(model)
    assert all(p.requires_grad for p in model.parameters())
