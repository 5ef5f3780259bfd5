"""End-to-end training on a synthetic ReID dataset: retrieval gets far better than chance,
and the run leaves torchreid-style checkpoints and tensorboard learning curves behind."""

from __future__ import annotations

import math

import numpy as np
import pytest
from engine_helpers import TinyReIDNet

from strongsort_reid.engine import (
    ImageSoftmaxEngine,
    ImageTripletEngine,
    attach_bnneck,
    set_random_seed,
)
from strongsort_reid.optim import build_lr_scheduler, build_optimizer
from strongsort_reid.utils.checkpoint import load_checkpoint


def chance_map(num_relevant: int, num_gallery: int, trials: int = 2000) -> float:
    """Mean average precision of a random ranking with ``num_relevant`` true matches."""
    rng = np.random.default_rng(0)
    relevant = np.zeros(num_gallery, bool)
    relevant[:num_relevant] = True
    hits = np.stack([rng.permutation(relevant) for _ in range(trials)])
    precision = np.cumsum(hits, axis=1) / np.arange(1, num_gallery + 1)
    return float(((precision * hits).sum(axis=1) / num_relevant).mean())


def event_tags(log_dir) -> set:
    """Scalar tags of the tensorboard event files in ``log_dir``."""
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator"
    ).EventAccumulator(str(log_dir))
    return set(accumulator.Reload().Tags()["scalars"])


def test_softmax_engine_learns_far_above_chance(datamanager_factory, tmp_path):
    set_random_seed(0)
    datamanager = datamanager_factory(train_sampler="RandomSampler")
    model = TinyReIDNet(datamanager.num_train_pids, loss="softmax")
    optimizer = build_optimizer(model, "adam", lr=0.003)
    scheduler = build_lr_scheduler(optimizer, "single_step", stepsize=6, max_epoch=8)
    engine = ImageSoftmaxEngine(datamanager, model, optimizer, scheduler, use_gpu=False)

    engine.test()
    untrained = engine.last_results["market1501"].mAP
    results = engine.run(save_dir=tmp_path, max_epoch=8, print_freq=2)

    trained = results["market1501"]
    chance = chance_map(num_relevant=4, num_gallery=48)
    assert trained.mAP > 0.6 > 3 * chance
    assert trained.mAP > untrained + 0.2
    assert trained.rank1 > 0.8

    checkpoint = load_checkpoint(tmp_path / "model" / "model.pth.tar-8")  # weights_only
    assert {"state_dict", "epoch", "rank1", "optimizer", "scheduler"} <= set(checkpoint)
    assert checkpoint["epoch"] == 8
    assert checkpoint["rank1"] == pytest.approx(trained.rank1)
    assert checkpoint["scheduler"]["last_epoch"] == 8
    assert not any(key.startswith("module.") for key in checkpoint["state_dict"])
    assert engine.last_checkpoint == tmp_path / "model" / "model.pth.tar-8"
    assert {"Train/loss", "Train/acc", "Train/lr", "Test/market1501/mAP",
            "Test/market1501/rank1"} <= event_tags(tmp_path)


def test_triplet_engine_with_bnneck_and_center_loss_learns(datamanager_factory, tmp_path):
    set_random_seed(0)
    datamanager = datamanager_factory()
    model = attach_bnneck(TinyReIDNet(datamanager.num_train_pids, loss="triplet"))
    optimizer = build_optimizer(model, "adam", lr=0.003)
    engine = ImageTripletEngine(
        datamanager, model, optimizer, margin=0.3, weight_t=1.0, weight_x=1.0, weight_c=0.0005,
        use_gpu=False,
    )

    results = engine.run(save_dir=tmp_path, max_epoch=6, eval_freq=3, print_freq=2)

    assert results["market1501"].mAP > 0.6
    # Periodic evaluation at epoch 3 and the final one both checkpoint every registered model.
    for name in ("model", "center"):
        for epoch in (3, 6):
            assert (tmp_path / name / f"model.pth.tar-{epoch}").is_file()
    rank1_at_3 = load_checkpoint(tmp_path / "model" / "model.pth.tar-3")["rank1"]
    assert 0.0 <= rank1_at_3 <= 1.0 and not math.isnan(rank1_at_3)
    assert {"Train/loss_t", "Train/loss_x", "Train/loss_c", "Train/valid_triplets",
            "Train/lr", "Train/lr_center"} <= event_tags(tmp_path)
