"""weights/README.md lists exactly what the weight registry holds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_weights_readme_is_in_sync_with_the_registry():
    spec = importlib.util.spec_from_file_location("list_weights", ROOT / "scripts/list_weights.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert (ROOT / "weights" / "README.md").read_text(encoding="utf-8") == module.readme_text(), (
        "run: python scripts/list_weights.py --write"
    )
