"""Bad weight files are refused at load with a message that names the file (#17, cases 6, 11).

A checkpoint full of NaN used to be accepted: the torch backend embedded every crop as NaN
(every detection dropped), OpenVINO as zero vectors (tracking silently motion-only), and
training with it as ``model.load_weights`` blamed the learning rate. A text file named ``.pth``
advised an unsafe ``weights_only=False`` load.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from reid_hostile import fast_overrides, poisoned_copy

from strongsort_reid.engine import Engine, NonFiniteLossError
from strongsort_reid.engine.config import load_config
from strongsort_reid.engine.recipe import build_reid_model
from strongsort_reid.inference.feature_extractor import FeatureExtractor
from strongsort_reid.models.loading import load_reid_model
from strongsort_reid.utils.checkpoint import (
    check_finite_state_dict,
    load_checkpoint,
    load_pretrained_weights,
)


@pytest.fixture(params=[float("nan"), float("inf")], ids=["nan", "inf"])
def poisoned(request, tmp_path):
    """osnet_x0_25 weights whose ``conv5.conv.weight`` (not the first tensor) is NaN or inf."""
    return poisoned_copy(tmp_path / "diverged.pth", "conv5.conv.weight", request.param)


def _names_file_and_tensor(message: str, path) -> bool:
    return str(path) in message and "'conv5.conv.weight'" in message and "non-finite" in message


def test_load_reid_model_refuses_non_finite_weights(poisoned):
    with pytest.raises(ValueError) as info:
        load_reid_model("osnet_x0_25", poisoned)
    assert _names_file_and_tensor(str(info.value), poisoned)


@pytest.mark.parametrize("backend", ["torch", "openvino"])
def test_feature_extractor_refuses_non_finite_weights_on_every_backend(poisoned, backend):
    with pytest.raises(ValueError) as info:
        FeatureExtractor("osnet_x0_25", model_path=poisoned, device="cpu", backend=backend)
    assert _names_file_and_tensor(str(info.value), poisoned)


def test_training_from_non_finite_weights_fails_before_training(poisoned, tmp_path):
    overrides = fast_overrides(tmp_path / "data", tmp_path / "run", test_ratio=0)
    config = load_config(None, [*overrides, f"model.load_weights={poisoned}"])
    with pytest.raises(ValueError) as info:
        build_reid_model(config, num_classes=4)
    assert _names_file_and_tensor(str(info.value), poisoned)


def test_a_non_finite_state_dict_in_memory_is_refused_too():
    model = torch.nn.Linear(2, 2)
    state = {"weight": torch.tensor([[1.0, float("nan")], [0.0, 1.0]]), "bias": torch.zeros(2)}
    with pytest.raises(ValueError, match=r"<state_dict> .*tensor 'weight' \(2, 2\) has 1 NaN"):
        load_pretrained_weights(model, state)


def test_large_finite_weights_whose_sum_overflows_are_accepted():
    huge = torch.full((100,), 60000.0, dtype=torch.float16)  # finite; the float16 sum is inf
    assert not torch.isfinite(huge.sum())
    check_finite_state_dict({"w": huge, "steps": torch.tensor(3)}, "big.pth")
    huge[7] = float("-inf")
    with pytest.raises(ValueError, match=r"big.pth .*'w' \(100,\) has 1 NaN/inf"):
        check_finite_state_dict({"w": huge}, "big.pth")


def test_nan_loss_message_mentions_the_weights_and_the_data():
    class NanEngine(Engine):
        def forward_backward(self, data):
            return {"loss": float("nan")}

    loader = [{"img": torch.zeros(1, 3, 8, 4), "pid": torch.zeros(1, dtype=torch.long)}]
    engine = NanEngine(SimpleNamespace(train_loader=loader, test_loader={}), use_gpu=False)
    engine.register_model("model", torch.nn.Linear(2, 2))
    with pytest.raises(NonFiniteLossError) as info:
        engine.train(0)
    message = str(info.value)
    assert "learning rate" in message and "model.load_weights" in message
    assert "images" in message


@pytest.mark.parametrize(
    "content",
    [b"version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n",
     b"<!DOCTYPE html><html><title>Sign in</title></html>",
     b"hello, not weights"],
    ids=["git-lfs-pointer", "html-page", "text"],
)  # fmt: skip
def test_a_text_file_named_pth_is_not_a_checkpoint_and_no_unsafe_load_is_advised(tmp_path, content):
    path = tmp_path / "osnet_x0_25_mine.pth"
    path.write_bytes(content)
    with pytest.raises(ValueError) as info:
        load_reid_model("osnet_x0_25", path)
    message = str(info.value)
    assert f"{path} is not a PyTorch checkpoint: it is a text file starting with" in message
    assert "weights_only" not in message


class _Opaque:
    """A Python object the safe unpickler refuses."""


def test_a_real_checkpoint_holding_python_objects_still_gets_the_trust_advice(tmp_path):
    path = tmp_path / "objects.pth"
    torch.save({"state_dict": {"w": torch.zeros(1)}, "extra": _Opaque()}, path)
    with pytest.raises(ValueError, match="weights_only=False"):
        load_checkpoint(path)
