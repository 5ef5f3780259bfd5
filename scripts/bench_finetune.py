"""Benchmark fine-tuning recipes: accuracy and wall time of each recipe over several seeds.

Trains every ``--recipes`` file once per ``--seeds`` seed with the same overrides (data root,
split, epochs ...), evaluates each final model on the recipe's test split and prints one row per
run and then one row per recipe: mean +- sample standard deviation of rank-1 and mAP (percent)
and the median wall time of a run in seconds. The default compares the project's small-data
recipe with torchreid's default one on CUHK01 (train split -> test split), which is how
``configs/finetune_small.yaml`` was chosen and is reported.

Example:
    python scripts/bench_finetune.py --root ../shared/data/reid-datasets
    python scripts/bench_finetune.py --root DIR --seeds 1 --set train.max_epoch=2   # quick look
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Dict, List, Sequence

from strongsort_reid.engine.config import load_config
from strongsort_reid.engine.recipe import run_recipe

REPO = Path(__file__).resolve().parents[1]
DEFAULT_RECIPES = [
    REPO / "configs" / "torchreid_default_finetune.yaml",
    REPO / "configs" / "finetune_small.yaml",
]


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="data.root: the folder holding the data set")
    parser.add_argument("--recipes", nargs="+", type=Path, default=DEFAULT_RECIPES)
    parser.add_argument("--seeds", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--split-id", type=int, default=0, help="data.split_id")
    parser.add_argument("--save-dir", type=Path, default=Path("log/bench_finetune"))
    parser.add_argument("--set", dest="overrides", action="append", default=[],
                        metavar="SECTION.KEY=VALUE", help="override applied to every recipe")
    return parser.parse_args(argv)


def run_one(recipe: Path, seed: int, args: argparse.Namespace) -> Dict[str, float]:
    """Train ``recipe`` with ``seed``; its rank-1 and mAP (percent) and wall seconds."""
    save_dir = args.save_dir / f"{recipe.stem}_split{args.split_id}_seed{seed}"
    overrides = [f"data.root={args.root}", f"data.split_id={args.split_id}",
                 f"train.seed={seed}", f"save_dir={save_dir}", *args.overrides]
    config = load_config(recipe, overrides)
    start = time.perf_counter()
    result = run_recipe(config)
    seconds = time.perf_counter() - start
    scores = next(iter(result.results.values()))
    return {"rank1": 100 * scores.rank1, "mAP": 100 * scores.mAP, "seconds": seconds}


def mean_sd(values: Sequence[float]) -> str:
    """``mean +- sd`` (sample standard deviation; 0 for a single value)."""
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):5.1f} +- {sd:3.1f}"


def print_tables(runs: Dict[str, List[Dict[str, float]]], seeds: Sequence[int]) -> None:
    print(f"\n{'recipe':32s} {'seed':>4s} {'rank-1':>7s} {'mAP':>6s} {'seconds':>8s}")
    for name, rows in runs.items():
        for seed, row in zip(seeds, rows):
            print(f"{name:32s} {seed:4d} {row['rank1']:7.1f} {row['mAP']:6.1f} "
                  f"{row['seconds']:8.0f}")
    print(f"\n{'recipe':32s} {'rank-1':>12s} {'mAP':>12s} {'median s':>9s}")
    for name, rows in runs.items():
        print(f"{name:32s} {mean_sd([r['rank1'] for r in rows]):>12s} "
              f"{mean_sd([r['mAP'] for r in rows]):>12s} "
              f"{statistics.median(r['seconds'] for r in rows):9.0f}")


def main(argv=None) -> int:
    args = parse_args(argv)
    runs = {recipe.stem: [run_one(recipe, seed, args) for seed in args.seeds]
            for recipe in args.recipes}
    print_tables(runs, args.seeds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
