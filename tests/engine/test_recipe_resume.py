"""A recipe resumed with model.resume ends exactly where the uninterrupted run ends, for the
network and for the center-loss centres saved next to it."""

from __future__ import annotations

import torch
from engine_helpers import HEIGHT, WIDTH

from strongsort_reid.engine.config import load_config
from strongsort_reid.engine.recipe import run_recipe
from strongsort_reid.utils.checkpoint import load_checkpoint


def _config(root, save_dir, *extra):
    return load_config(None, [
        "model.name=osnet_x0_25", "model.pretrained=false", f"data.root={root}",
        f"data.height={HEIGHT}", f"data.width={WIDTH}", "data.workers=0",
        "data.train_sampler=RandomIdentitySampler", "data.transforms=[random_flip, random_erase]",
        "loss.name=triplet", "loss.weight_c=0.0005", "train.max_epoch=2", "train.batch_size=32",
        "train.lr_scheduler=cosine", "train.save_freq=1", "use_gpu=false",
        f"save_dir={save_dir}", *extra,
    ])  # fmt: skip


def test_recipe_resume_continues_exactly_with_center_loss(synthetic_root, tmp_path):
    full = run_recipe(_config(synthetic_root, tmp_path / "full"))
    assert full.engine.get_model_names() == ["model", "center"]
    first_epoch = tmp_path / "full" / "model" / "model.pth.tar-1"

    resumed = run_recipe(
        _config(synthetic_root, tmp_path / "resumed", f"model.resume={first_epoch}")
    )

    # Only the second epoch ran (save_freq=1 would have written epoch 1 otherwise) ...
    assert sorted(p.name for p in (tmp_path / "resumed" / "model").iterdir()) == [
        "model.pth.tar-2"
    ]
    # ... and it ended with the uninterrupted run's weights.
    for name in ("model", "center"):
        reference = load_checkpoint(tmp_path / "full" / name / "model.pth.tar-2")
        result = load_checkpoint(tmp_path / "resumed" / name / "model.pth.tar-2")
        assert result["epoch"] == 2
        for key, value in reference["state_dict"].items():
            assert torch.equal(result["state_dict"][key], value), (name, key)
    assert resumed.results["market1501"].mAP == full.results["market1501"].mAP
