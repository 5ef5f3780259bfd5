"""Checkpoints resume exactly: an interrupted and resumed run ends with the same weights,
optimizer state and learning rate as an uninterrupted one with the same seed."""

from __future__ import annotations

import pytest
import torch
from engine_helpers import TinyReIDNet

from strongsort_reid.engine import (
    ImageTripletEngine,
    build_checkpoint,
    resume_from_checkpoint,
    set_random_seed,
)
from strongsort_reid.optim import build_lr_scheduler, build_optimizer
from strongsort_reid.utils.checkpoint import save_checkpoint

MAX_EPOCH = 3


def build_run(datamanager_factory, workers=0):
    """A seeded triplet run with random augmentations (which consume every RNG)."""
    set_random_seed(7)
    datamanager = datamanager_factory(
        transforms=["random_flip", "random_crop", "random_erase"], workers=workers
    )
    model = TinyReIDNet(datamanager.num_train_pids, loss="triplet")
    optimizer = build_optimizer(model, "sgd", lr=0.05, momentum=0.9)
    scheduler = build_lr_scheduler(optimizer, "cosine", max_epoch=MAX_EPOCH, warmup_epochs=1)
    engine = ImageTripletEngine(datamanager, model, optimizer, scheduler=scheduler, use_gpu=False)
    return engine, model, optimizer, scheduler


# workers=2: the augmentations run in DataLoader worker processes, seeded per epoch.
@pytest.mark.parametrize("workers", [0, 2])
def test_resumed_run_equals_uninterrupted_run(datamanager_factory, tmp_path, workers):
    engine, model, _, _ = build_run(datamanager_factory, workers)
    engine.run(save_dir=tmp_path / "full", max_epoch=MAX_EPOCH, eval_freq=1)
    reference = {k: v.clone() for k, v in model.state_dict().items()}
    reference_optim = engine.optimizer.state_dict()

    # Interrupted after the first epoch (with its own evaluation and checkpoint) ...
    engine, _, _, _ = build_run(datamanager_factory, workers)
    engine.run(save_dir=tmp_path / "part", max_epoch=1)
    checkpoint = tmp_path / "part" / "model" / "model.pth.tar-1"

    # ... then resumed in fresh objects (building them draws other random numbers first).
    engine, model, optimizer, scheduler = build_run(datamanager_factory, workers)
    torch.rand(100)
    start_epoch = resume_from_checkpoint(checkpoint, model, optimizer, scheduler, engine.scaler)
    assert start_epoch == 1
    engine.run(save_dir=tmp_path / "resumed", max_epoch=MAX_EPOCH, start_epoch=start_epoch)

    for key, value in model.state_dict().items():
        assert torch.equal(value, reference[key]), key
    resumed_optim = optimizer.state_dict()
    assert resumed_optim["param_groups"][0]["lr"] == reference_optim["param_groups"][0]["lr"]
    for index, state in reference_optim["state"].items():
        assert torch.equal(resumed_optim["state"][index]["momentum_buffer"],
                           state["momentum_buffer"])
    assert (tmp_path / "resumed" / "model" / f"model.pth.tar-{MAX_EPOCH}").is_file()


def test_resume_needs_a_training_checkpoint(tmp_path):
    model = TinyReIDNet(4)
    save_checkpoint(model.state_dict(), tmp_path / "weights.pth")
    with pytest.raises(ValueError, match="not a training checkpoint"):
        resume_from_checkpoint(tmp_path / "weights.pth", model)
    with pytest.raises(FileNotFoundError):
        resume_from_checkpoint(tmp_path / "missing.pth.tar-3", model)


def test_resume_asks_for_states_the_checkpoint_lacks(tmp_path):
    model = TinyReIDNet(4)
    save_checkpoint(build_checkpoint(model, epoch=2), tmp_path / "model.pth.tar-2")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    assert resume_from_checkpoint(tmp_path / "model.pth.tar-2", model) == 2
    with pytest.raises(ValueError, match="no optimizer state"):
        resume_from_checkpoint(tmp_path / "model.pth.tar-2", model, optimizer)


def test_resume_rejects_a_checkpoint_of_another_model(tmp_path):
    save_checkpoint(build_checkpoint(TinyReIDNet(4), epoch=1), tmp_path / "model.pth.tar-1")
    with pytest.raises(RuntimeError, match="size mismatch"):
        resume_from_checkpoint(tmp_path / "model.pth.tar-1", TinyReIDNet(5))
