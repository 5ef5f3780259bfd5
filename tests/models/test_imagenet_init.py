"""build_model(pretrained=True): ImageNet weights when they can be had, else a warning and the
random initialisation -- building never fails or hangs because of the network."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
import torch
from network_fakes import closed_port_url

from strongsort_reid.models import build_model, registry


def test_pretrained_imagenet_init_that_cannot_download_warns_and_keeps_random_init(
    cache, monkeypatch
):
    entry = registry.get_model_entry("osnet_x0_25")
    monkeypatch.setitem(
        registry._MODELS, "osnet_x0_25", replace(entry, imagenet_url=closed_port_url())
    )
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="ImageNet weights could not be obtained"):
        model = build_model("osnet_x0_25", num_classes=10, pretrained=True)
    assert isinstance(model, torch.nn.Module)


def test_pretrained_imagenet_init_with_the_network_disabled_warns_and_continues(cache, no_network):
    torch.manual_seed(0)
    with pytest.warns(UserWarning, match="osnet_x0_25: ImageNet weights could not be obtained"):
        model = build_model("osnet_x0_25", num_classes=10, pretrained=True)
    torch.manual_seed(0)
    random_init = build_model("osnet_x0_25", num_classes=10, pretrained=False)
    for (key, value), expected in zip(
        model.state_dict().items(), random_init.state_dict().values()
    ):
        assert torch.equal(value, expected), f"{key} is not the random initialisation"


def test_pretrained_imagenet_init_with_a_hanging_network_returns(
    cache, hanging_network, monkeypatch
):
    monkeypatch.setattr("strongsort_reid.utils.download.DEFAULT_TIMEOUT_S", 0.5)
    start = time.monotonic()
    with pytest.warns(UserWarning, match="continuing with random initialisation"):
        build_model("mobilenetv2_x1_0", num_classes=10, pretrained=True)
    assert time.monotonic() - start < 10


def test_corrupt_cached_imagenet_file_warns_and_continues(cache):
    cache.mkdir()
    (cache / "osnet_x0_25_imagenet.pth").write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="osnet_x0_25_imagenet.pth"):
        model = build_model("osnet_x0_25", num_classes=10, pretrained=True)
    assert isinstance(model, torch.nn.Module)
