"""Training recipes shipped inside the package (YAML package data), so that an installed
package - not only a source checkout - has them.

``finetune_small.yaml`` is the small-data fine-tuning recipe: what ``scripts/train_reid.py``
runs without ``--config`` and what ``strongsort-track adapt`` starts from (with its documented
overrides, :data:`trackers.adapt.finetune.ADAPT_OVERRIDES`). ``configs/finetune_small.yaml`` in
a checkout is a link to this file, not a copy.

>>> load_config(recipe_path("finetune_small"))                   # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import List

RECIPES_DIR = Path(__file__).resolve().parent


def available_recipes() -> List[str]:
    """Names of the shipped recipes (file names without ``.yaml``), sorted."""
    return sorted(path.stem for path in RECIPES_DIR.glob("*.yaml"))


def recipe_path(name: str) -> Path:
    """Path of the shipped recipe ``name`` (``"finetune_small"`` or ``"finetune_small.yaml"``).

    Raises:
        FileNotFoundError: no shipped recipe has that name (the message lists them).
    """
    stem = name[: -len(".yaml")] if name.endswith(".yaml") else name
    path = RECIPES_DIR / f"{stem}.yaml"
    if Path(stem).name != stem or not path.is_file():
        raise FileNotFoundError(
            f"no shipped recipe named {name!r}; available: {', '.join(available_recipes())}"
        )
    return path
