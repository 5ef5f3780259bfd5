"""Train or fine-tune a ReID model from a YAML recipe.

Same program as ``strongsort-reid train``, except that without ``--config`` it runs
``configs/finetune_small.yaml`` (shipped in the package as
``strongsort_reid.engine.recipes.recipe_path("finetune_small")``): the small-data fine-tuning
recipe that starts from the tracker's osnet_x0_25_msmt17 (``python scripts/train_reid.py
data.root=DIR`` fine-tunes on the CUHK01 copy in DIR; ``data.sources=[...]`` picks another
data set). Recipes, overrides and examples are documented in
:mod:`strongsort_reid.commands.train`. Multi-GPU:
``torchrun --nproc_per_node=N scripts/train_reid.py --config ...``.
"""

import sys

from strongsort_reid.commands.train import main
from strongsort_reid.engine.recipes import recipe_path

DEFAULT_RECIPE = recipe_path("finetune_small")


def with_default_recipe(argv):
    """``argv`` with ``--config DEFAULT_RECIPE`` first unless it names a recipe itself."""
    if any(arg == "--config" or arg.startswith("--config=") for arg in argv):
        return list(argv)
    return ["--config", str(DEFAULT_RECIPE), *argv]


if __name__ == "__main__":
    sys.exit(main(with_default_recipe(sys.argv[1:]), prog="train_reid.py"))
