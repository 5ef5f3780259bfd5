"""Checkpoint format, RNG snapshots and the engine's argument checks."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from engine_helpers import TinyReIDNet

from strongsort_reid.engine import (
    ImageSoftmaxEngine,
    ImageTripletEngine,
    build_checkpoint,
    checkpoint_path,
)
from strongsort_reid.engine.seeding import (
    capture_rng_state,
    preserved_rng_state,
    restore_rng_state,
    set_random_seed,
)
from strongsort_reid.optim import build_optimizer
from strongsort_reid.utils.checkpoint import load_checkpoint, save_checkpoint


def draw():
    return random.random(), float(np.random.rand()), float(torch.rand(1))


def test_rng_snapshot_restores_every_generator():
    set_random_seed(3)
    state = capture_rng_state()
    first = draw()
    restore_rng_state(state)
    assert draw() == first
    with preserved_rng_state():
        draw()
    assert draw() != first  # the block above did not rewind or advance the generators
    with pytest.raises(ValueError, match="seed"):
        set_random_seed(-1)


def test_checkpoint_is_torchreid_shaped_and_safe_to_load(tmp_path):
    model = TinyReIDNet(4)
    optimizer = torch.optim.Adam(model.parameters())
    wrapped = torch.nn.DataParallel(model)
    state = build_checkpoint(wrapped, epoch=5, rank1=0.25, optimizer=optimizer)
    path = save_checkpoint(state, checkpoint_path(tmp_path, 5))

    assert path.name == "model.pth.tar-5"
    loaded = load_checkpoint(path)  # weights_only=True: no pickled Python objects
    assert loaded["epoch"] == 5 and loaded["rank1"] == 0.25 and loaded["scheduler"] is None
    assert set(loaded["state_dict"]) == set(model.state_dict())  # no "module." prefixes
    restore_rng_state(loaded["rng_state"])
    with pytest.raises(ValueError, match="non-negative"):
        build_checkpoint(model, epoch=-1)


def test_engine_checks_run_arguments(datamanager_factory, tmp_path):
    datamanager = datamanager_factory()
    model = TinyReIDNet(datamanager.num_train_pids)
    engine = ImageSoftmaxEngine(datamanager, model, build_optimizer(model), use_gpu=False)
    with pytest.raises(ValueError, match="visrank"):
        engine.run(save_dir=tmp_path, max_epoch=1, visrank=True)
    with pytest.raises(ValueError, match="start_epoch"):
        engine.run(save_dir=tmp_path, max_epoch=1, start_epoch=2)
    with pytest.raises(ValueError, match="already registered"):
        engine.register_model("model", model)


def test_engine_refuses_a_sharded_loader_outside_a_process_group(datamanager_factory):
    datamanager = datamanager_factory(num_replicas=2, rank=0)
    model = TinyReIDNet(datamanager.num_train_pids)
    with pytest.raises(ValueError, match="num_replicas=world_size"):
        ImageSoftmaxEngine(datamanager, model, build_optimizer(model), use_gpu=False)


def test_triplet_engine_needs_a_triplet_model(datamanager_factory):
    datamanager = datamanager_factory()
    model = TinyReIDNet(datamanager.num_train_pids, loss="softmax")
    with pytest.raises(ValueError, match="loss='triplet'"):
        ImageTripletEngine(datamanager, model, build_optimizer(model), use_gpu=False)
    with pytest.raises(ValueError, match="not all 0"):
        ImageTripletEngine(
            datamanager, TinyReIDNet(16, loss="triplet"), build_optimizer(model),
            weight_t=0, weight_x=0, use_gpu=False,
        )
