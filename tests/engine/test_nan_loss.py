"""A NaN loss stops training with a clear error and keeps the last good checkpoint."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import TinyReIDNet

from strongsort_reid.engine import ImageSoftmaxEngine, NonFiniteLossError, set_random_seed
from strongsort_reid.optim import build_optimizer
from strongsort_reid.utils.checkpoint import load_checkpoint


class DivergingNet(TinyReIDNet):
    """Returns NaN logits from its ``bad_call``-th training forward pass on."""

    def __init__(self, num_classes: int, bad_call: int) -> None:
        super().__init__(num_classes)
        self.bad_call = bad_call
        self.calls = 0

    def forward(self, x, return_featuremaps=False):
        out = super().forward(x, return_featuremaps)
        if self.training:
            self.calls += 1
            if self.calls >= self.bad_call:
                out = out * float("nan")
        return out


def test_nan_loss_stops_and_keeps_the_last_good_checkpoint(datamanager_factory, tmp_path):
    set_random_seed(0)
    datamanager = datamanager_factory(train_sampler="RandomSampler")  # 4 batches per epoch
    model = DivergingNet(datamanager.num_train_pids, bad_call=6)  # epoch 2, iteration 2
    engine = ImageSoftmaxEngine(
        datamanager, model, build_optimizer(model, "adam", lr=0.001), use_gpu=False
    )
    good = tmp_path / "model" / "model.pth.tar-1"

    with pytest.raises(NonFiniteLossError, match="epoch 2, iteration 2") as error:
        engine.run(save_dir=tmp_path, max_epoch=3, save_freq=1)

    message = str(error.value)
    assert "loss is nan" in message and str(good) in message
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["model.pth.tar-1"]
    state = load_checkpoint(good)["state_dict"]
    assert all(torch.isfinite(value).all() for value in state.values())
    # The failing step was not applied.
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_nan_before_any_checkpoint_says_so(datamanager_factory, tmp_path):
    datamanager = datamanager_factory(train_sampler="RandomSampler")
    model = DivergingNet(datamanager.num_train_pids, bad_call=1)
    engine = ImageSoftmaxEngine(
        datamanager, model, build_optimizer(model, "adam", lr=0.001), use_gpu=False
    )
    with pytest.raises(NonFiniteLossError, match="none was written yet"):
        engine.run(save_dir=tmp_path, max_epoch=1)
    assert not (tmp_path / "model").exists()
