"""Train or fine-tune a ReID model from a YAML recipe.

Examples (``strongsort-reid train`` is the same program as ``python scripts/train_reid.py``):
    strongsort-reid train --config configs/osnet_x1_0_market1501_softmax.yaml data.root=reid-data
    strongsort-reid eval --config configs/osnet_x1_0_market1501_softmax.yaml data.root=reid-data \
        model.load_weights=osnet_x1_0_market1501
    python scripts/train_reid.py --config configs/osnet_x0_25_msmt17_finetune_mot.yaml \
        data.root=data/MOT17/train train.max_epoch=5
    torchrun --nproc_per_node=4 scripts/train_reid.py --config configs/<recipe>.yaml

Overrides are ``section.key=value`` (the value is read as YAML); an unknown key is an error
listing the valid keys. A diverged (NaN) loss, a missing dataset, unreadable or corrupt weights
or a bad setting ends the run with a one-line error and exit status 2; checkpoints already
written are kept. The final checkpoint ``<save_dir>/model/model.pth.tar-N`` is written before
the final evaluation (so a failing evaluation never loses the trained weights; without test
images, e.g. ``data.dataset_kwargs.folder.test_ratio=0``, the evaluation is skipped) and loads
by path into the tracker: ``StrongSORT(reid_weights=<path>, reid_model=<model.name>)``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import torch.distributed as dist

from strongsort_reid.engine.config import ConfigError, RecipeConfig, load_config
from strongsort_reid.engine.distributed import init_distributed, is_main_process
from strongsort_reid.engine.engine import NonFiniteLossError
from strongsort_reid.engine.recipe import run_recipe
from strongsort_reid.utils.cli_errors import EXPECTED_ERRORS, run_command


def build_parser(prog: str = "strongsort-reid train") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description=__doc__.split("\n")[0],
        epilog="Recipes: configs/*.yaml. Keys and defaults: strongsort_reid/engine/config.py",
    )
    parser.add_argument("--config", type=Path, help="recipe YAML file (default: built-in defaults)")
    parser.add_argument(
        "overrides", nargs="*", metavar="section.key=value", help="override recipe values"
    )
    parser.add_argument("--quiet", action="store_true", help="only warnings and the result table")
    return parser


def _setup_logging(save_dir: Path, quiet: bool) -> None:
    """Log to stderr and ``<save_dir>/train.log`` (main process); other processes: warnings."""
    level = logging.WARNING if quiet or not is_main_process() else logging.INFO
    handlers = [logging.StreamHandler(sys.stderr)]
    if is_main_process():
        save_dir.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(save_dir / "train.log", encoding="utf-8"))
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
        force=True,
    )


def main(argv=None, prog: str = "strongsort-reid train") -> int:
    """Run the program; returns the exit status (0 done, 2 bad configuration or failed run,
    130 interrupted)."""
    parser = build_parser(prog)
    args = parser.parse_intermixed_args(argv)  # overrides may follow --quiet
    try:
        config = load_config(args.config, args.overrides)
    except (ConfigError, OSError) as exc:
        parser.error(str(exc))
    # User-facing conditions (diverged loss, missing dataset or weights, bad setting): their
    # messages say what to do, a traceback would bury them.
    return run_command(
        parser.prog, lambda: _run(config, args.quiet), (*EXPECTED_ERRORS, NonFiniteLossError)
    )


def _run(config: RecipeConfig, quiet: bool) -> int:
    """Train and/or evaluate ``config`` (in a process group under torchrun)."""
    save_dir = Path(config.save_dir)
    if save_dir.exists() and not save_dir.is_dir():
        raise NotADirectoryError(f"save_dir {save_dir} is a file, not a folder")
    distributed = init_distributed()
    try:
        _setup_logging(save_dir, quiet)
        if distributed:
            logging.getLogger(__name__).info(
                "Training on %d processes (%s backend)", dist.get_world_size(), dist.get_backend()
            )
        result = run_recipe(config)
        if is_main_process() and result.checkpoint is not None:
            print(f"Checkpoint: {result.checkpoint}")
            print(
                f"Track with it: StrongSORT(reid_weights='{result.checkpoint}', "
                f"reid_model='{config.model.name}')"
            )
        return 0
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()


if __name__ == "__main__":
    sys.exit(main())
