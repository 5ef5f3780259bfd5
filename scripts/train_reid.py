"""Train or fine-tune a ReID model from a YAML recipe.

Same program as ``strongsort-reid train``; recipes, overrides and examples are documented in
:mod:`strongsort_reid.commands.train`. Multi-GPU: ``torchrun --nproc_per_node=N
scripts/train_reid.py --config ...``.
"""

import sys

from strongsort_reid.commands.train import main

if __name__ == "__main__":
    sys.exit(main(prog="train_reid.py"))
