"""The small-data fine-tuning recipe (configs/finetune_small.yaml) against torchreid's default
one: same work per run (so no more wall time), the documented differences only, shipped as
package data, the default of scripts/train_reid.py, and scripts/bench_finetune.py end to end on
the synthetic data set."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from engine_helpers import HEIGHT, WIDTH

from strongsort_reid.engine.config import config_to_dict, load_config
from strongsort_reid.engine.recipes import available_recipes, recipe_path

REPO = Path(__file__).resolve().parents[2]
SMALL = REPO / "configs" / "finetune_small.yaml"
TORCHREID = REPO / "configs" / "torchreid_default_finetune.yaml"


def _load_script(name: str):
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_small_recipe_does_the_same_work_as_torchreids_default():
    small, baseline = (config_to_dict(load_config(path)) for path in (SMALL, TORCHREID))
    # Same network, inputs, batches and epochs: the wall time can only be equal or lower
    # (the classifier-only epochs skip the backbone's backward pass).
    assert small["model"] == baseline["model"]
    assert small["loss"] == baseline["loss"]
    for key in ("height", "width", "train_sampler", "num_instances", "sources", "targets"):
        assert small["data"][key] == baseline["data"][key], key
    for key in ("max_epoch", "batch_size", "optim", "lr", "weight_decay"):
        assert small["train"][key] == baseline["train"][key], key
    # torchreid's default: constant learning rate, no classifier-only epochs, flip + erasing.
    assert baseline["train"]["lr_scheduler"] == "single_step"
    assert baseline["train"]["stepsize"][0] > baseline["train"]["max_epoch"]
    assert baseline["train"]["fixbase_epoch"] == 0
    assert baseline["data"]["transforms"] == ["random_flip", "random_erase"]
    # The small-data recipe: warmup + cosine, 2 classifier-only epochs, random crop.
    assert small["train"]["lr_scheduler"] == "cosine" and small["train"]["warmup_epochs"] == 3
    assert small["train"]["fixbase_epoch"] == 2
    assert small["train"]["open_layers"] == ["classifier"]
    assert small["data"]["transforms"] == ["random_flip", "random_crop", "random_erase"]


def test_the_small_recipe_is_package_data_and_configs_links_to_it():
    shipped = recipe_path("finetune_small")
    assert shipped == recipe_path("finetune_small.yaml")
    assert shipped.parent.name == "recipes" and shipped.parent.parent.name == "engine"
    assert SMALL.resolve() == shipped  # one file, no duplicate
    assert "finetune_small" in available_recipes()
    with pytest.raises(FileNotFoundError, match="finetune_small"):
        recipe_path("finetune_large")
    with pytest.raises(FileNotFoundError):
        recipe_path("../recipes/finetune_small")


def test_train_script_runs_the_small_recipe_unless_given_one():
    script = _load_script("train_reid")
    assert script.with_default_recipe(["data.root=x"]) == [
        "--config", str(recipe_path("finetune_small")), "data.root=x"
    ]
    assert script.with_default_recipe(["--config", "a.yaml"]) == ["--config", "a.yaml"]
    assert script.with_default_recipe(["--config=a.yaml"]) == ["--config=a.yaml"]


def test_bench_finetune_trains_evaluates_and_prints_the_table(synthetic_root, tmp_path, capsys):
    bench = _load_script("bench_finetune")
    overrides = [
        "data.sources=[market1501]", "data.targets=[market1501]", "model.load_weights=''",
        f"data.height={HEIGHT}", f"data.width={WIDTH}", "data.workers=0", "use_gpu=false",
        "train.max_epoch=2", "train.warmup_epochs=1", "train.fixbase_epoch=1",
        "train.print_freq=1000",
    ]
    argv = [f"--root={synthetic_root}", "--seeds", "1", "2", f"--save-dir={tmp_path}"]
    for override in overrides:
        argv += ["--set", override]
    assert bench.main(argv) == 0

    out = capsys.readouterr().out
    summary = out.split("median s")[1].strip().splitlines()
    assert [line.split()[0] for line in summary] == ["torchreid_default_finetune",
                                                     "finetune_small"]
    for line in summary:  # "name  r1 +- sd  mAP +- sd  seconds"
        fields = line.split()
        assert 0 <= float(fields[1]) <= 100 and 0 <= float(fields[4]) <= 100
    assert (tmp_path / "finetune_small_split0_seed2" / "model" / "model.pth.tar-2").is_file()
