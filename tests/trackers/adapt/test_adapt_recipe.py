"""adapt's default training recipe is the shipped small-data fine-tuning recipe with
``ADAPT_OVERRIDES`` (and nothing else changed); user overrides come last."""

from __future__ import annotations

from strongsort_reid.engine.config import config_to_dict, load_config
from strongsort_reid.engine.recipes import recipe_path
from trackers.adapt.finetune import ADAPT_OVERRIDES, load_recipe


def _differences(a, b):
    return {
        (section, key)
        for section, values in a.items()
        if isinstance(values, dict)
        for key in values
        if values[key] != b[section][key]
    }


def test_default_recipe_is_finetune_small_with_the_adapt_overrides():
    small = config_to_dict(load_config(recipe_path("finetune_small")))
    default = config_to_dict(load_recipe())
    overridden = {tuple(item.split("=")[0].split(".")) for item in ADAPT_OVERRIDES}
    assert _differences(default, small) == overridden
    assert default["train"]["lr"] < small["train"]["lr"]
    assert default["loss"]["weight_x"] == 0 and default["train"]["fixbase_epoch"] == 0
    assert default["train"]["lr_scheduler"] == small["train"]["lr_scheduler"] == "cosine"


def test_user_overrides_come_after_adapts():
    recipe = load_recipe(None, ["train.lr=1e-4", "loss.weight_x=1"])
    assert recipe.train.lr == 1e-4 and recipe.loss.weight_x == 1
    assert recipe.train.max_epoch == load_recipe().train.max_epoch
