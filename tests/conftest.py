"""Shared pytest fixtures (helpers live in ``tests/shared_assets.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from shared_assets import shared_path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """The ``../shared`` folder (skips, or fails under CI, when absent)."""
    return shared_path(".")


@pytest.fixture(scope="session", autouse=True)
def detector_cache(tmp_path_factory):
    """Converted detectors go to a temporary folder, shared by the whole session."""
    import os

    folder = tmp_path_factory.mktemp("detector-cache")
    previous = os.environ.get("STRONGSORT_DETECTOR_CACHE")
    os.environ["STRONGSORT_DETECTOR_CACHE"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("STRONGSORT_DETECTOR_CACHE", None)
    else:
        os.environ["STRONGSORT_DETECTOR_CACHE"] = previous
