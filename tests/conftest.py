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


@pytest.fixture(scope="session")
def shared_reid_home(tmp_path_factory) -> Path:
    """A user weight cache holding links to the shared ReID weights (made once per session)."""
    folder = tmp_path_factory.mktemp("reid-home")
    for weights in shared_path("data/reid").glob("*.pth"):
        (folder / weights.name).symlink_to(weights)
    return folder


@pytest.fixture
def reid_home(shared_reid_home, monkeypatch) -> Path:
    """``$STRONGSORT_REID_HOME`` for one test: registry names resolve to the shared weights,
    nothing is downloaded, and what the code caches there (exports) stays out of ../shared."""
    monkeypatch.setenv("STRONGSORT_REID_HOME", str(shared_reid_home))
    return shared_reid_home
