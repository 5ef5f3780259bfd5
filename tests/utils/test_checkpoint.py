"""load_checkpoint / load_pretrained_weights / save_checkpoint on toy and real weights."""

from __future__ import annotations

import logging
from collections import OrderedDict

import pytest
import torch
from shared_assets import shared_path
from torch import nn

from strongsort_reid.models import build_model
from strongsort_reid.utils.checkpoint import (
    load_checkpoint,
    load_pretrained_weights,
    save_checkpoint,
)


class TinyNet(nn.Module):
    def __init__(self, num_classes: int = 5, width: int = 4) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, width, 3)
        self.bn = nn.BatchNorm2d(width)
        self.fc = nn.Linear(width, 8)
        self.classifier = nn.Linear(8, num_classes)


def test_bare_state_dict_and_checkpoint_dict_and_module_prefix_all_load(tmp_path):
    source = TinyNet()
    prefixed = OrderedDict((f"module.{k}", v) for k, v in source.state_dict().items())
    for i, payload in enumerate(
        [source.state_dict(), {"state_dict": source.state_dict(), "epoch": 3}, prefixed]
    ):
        path = save_checkpoint(payload, tmp_path / f"ckpt{i}.pth")
        target = TinyNet()
        report = load_pretrained_weights(target, path)
        assert not report.skipped and not report.unexpected
        for key, value in source.state_dict().items():
            assert torch.equal(target.state_dict()[key], value)


def test_classifier_of_another_size_is_skipped_and_reported_as_expected(tmp_path, caplog):
    path = save_checkpoint(TinyNet(num_classes=7).state_dict(), tmp_path / "c.pth")
    target = TinyNet(num_classes=3)
    before = target.classifier.weight.clone()
    with caplog.at_level(logging.INFO, logger="strongsort_reid.utils.checkpoint"):
        report = load_pretrained_weights(target, path)
    assert report.only_classifier_skipped
    assert sorted(report.skipped) == ["classifier.bias", "classifier.weight"]
    assert torch.equal(target.classifier.weight, before)
    assert "expected when the checkpoint was trained on a different number of identities" in (
        caplog.text
    )


def test_checkpoint_of_another_architecture_is_an_error_naming_the_file(tmp_path):
    path = save_checkpoint(TinyNet(width=6).state_dict(), tmp_path / "other.pth")
    with pytest.raises(ValueError, match=r"other\.pth does not match TinyNet.*shape mismatch"):
        load_pretrained_weights(TinyNet(width=4), path)


def test_missing_truncated_and_non_checkpoint_files_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pth"):
        load_checkpoint(tmp_path / "nope.pth")
    empty = tmp_path / "empty.pth"
    empty.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        load_checkpoint(empty)
    good = save_checkpoint(TinyNet().state_dict(), tmp_path / "good.pth")
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="truncated.pth.*truncated or corrupt"):
        load_checkpoint(truncated)
    text = tmp_path / "notes.pth"
    text.write_text("these are not weights")
    with pytest.raises(ValueError, match="notes.pth"):
        load_checkpoint(text)
    torch.save([1, 2, 3], tmp_path / "list.pth")
    with pytest.raises(ValueError, match="does not hold a state_dict"):
        load_checkpoint(tmp_path / "list.pth")
    torch.save({"epoch": 1}, tmp_path / "no_tensors.pth")
    with pytest.raises(ValueError, match="holds no tensors"):
        load_pretrained_weights(TinyNet(), tmp_path / "no_tensors.pth")


def test_save_checkpoint_is_atomic_and_leaves_no_temporary_files(tmp_path):
    save_checkpoint({"state_dict": TinyNet().state_dict()}, tmp_path / "sub" / "model.pth.tar-1")
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["model.pth.tar-1"]


@pytest.mark.parametrize(
    "filename, num_classes",
    [("osnet_x0_25_msmt17.pth", 1041), ("osnet_x0_25_market1501.pth", 751)],
)
def test_real_model_zoo_weights_load_strictly(filename, num_classes):
    path = shared_path(f"data/reid/{filename}")
    model = build_model("osnet_x0_25", num_classes=num_classes, pretrained=False)
    state_dict = load_checkpoint(path)
    model.load_state_dict(state_dict, strict=True)
    report = load_pretrained_weights(
        build_model("osnet_x0_25", num_classes, pretrained=False), path
    )
    assert not report.skipped and not report.unexpected


def test_real_weights_into_other_num_classes_skip_only_the_classifier():
    path = shared_path("data/reid/osnet_x0_25_msmt17.pth")
    model = build_model("osnet_x0_25", num_classes=751, pretrained=False)
    report = load_pretrained_weights(model, path)
    assert report.only_classifier_skipped and len(report.skipped) == 2


def test_real_weights_into_another_architecture_are_rejected():
    path = shared_path("data/reid/osnet_x0_25_msmt17.pth")
    for arch in ("osnet_x1_0", "resnet50"):
        with pytest.raises(ValueError, match="osnet_x0_25_msmt17.pth does not match"):
            load_pretrained_weights(build_model(arch, 1041, pretrained=False), path)
