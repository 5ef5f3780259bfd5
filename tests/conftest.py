"""Shared pytest fixtures (helpers live in ``tests/shared_assets.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_assets import shared_path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` folder (skips, or fails under CI, when absent)."""
    return shared_path(".")
