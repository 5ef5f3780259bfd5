"""Locate the reference material in ``../shared`` for tests.

Outside CI a missing asset skips the test; under ``CI=true`` it fails, as the project's CI
contract requires (CI always has ``../shared``).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DIR = Path(
    os.environ.get("STRONGSORT_SHARED_DIR", Path(__file__).resolve().parents[2] / "shared")
)


def in_ci() -> bool:
    """True when running under the project's CI (``CI=true``)."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def shared_path(relative: str) -> Path:
    """Return ``../shared/<relative>``; skip (or fail under CI) when it does not exist."""
    path = SHARED_DIR / relative
    if not path.exists():
        message = f"shared asset missing: {path}"
        if in_ci():
            pytest.fail(message + " (CI=true requires ../shared)")
        pytest.skip(message)
    return path
