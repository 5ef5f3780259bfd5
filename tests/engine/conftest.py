"""Fixtures of the engine tests: one-thread torch, the synthetic dataset, data managers."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from engine_helpers import make_datamanager, write_market_dataset


@pytest.fixture(autouse=True)
def single_torch_thread():
    """Run each test with one intra-op thread.

    The models here are tiny: with several threads OpenMP synchronisation costs more than the
    work, and on a loaded 2-core machine it slows these tests down many times over.
    """
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="session")
def synthetic_root(tmp_path_factory) -> Path:
    """Folder holding the synthetic ``market1501`` dataset (written once per session)."""
    return write_market_dataset(tmp_path_factory.mktemp("synthetic_reid"))


@pytest.fixture
def datamanager_factory(synthetic_root):
    """``factory(**overrides) -> ImageDataManager`` over the synthetic dataset."""
    return lambda **kwargs: make_datamanager(synthetic_root, **kwargs)
