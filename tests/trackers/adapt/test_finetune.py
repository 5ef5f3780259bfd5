"""The fine-tune on a folder of crops: the time budget stops it between batches, and without
a validated gain on held-out crops the starting checkpoint is written."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from strongsort_reid.utils.checkpoint import load_checkpoint
from trackers.adapt.dataset import identity_folder
from trackers.adapt.finetune import FineTuneOptions, fine_tune, load_recipe
from trackers.adapt.validation import ValidationSet


def _crops(root, identities=4, per_identity=4):
    generator = np.random.default_rng(0)
    for label in range(identities):
        folder = root / identity_folder(label)
        folder.mkdir(parents=True)
        colour = generator.integers(0, 255, 3)
        for index in range(per_identity):
            noise = generator.integers(0, 40, (64, 32, 3))
            cv2.imwrite(
                str(folder / f"{index:07d}.jpg"), (colour + noise).clip(0, 255).astype(np.uint8)
            )
    return root


def test_the_budget_stops_training_after_the_first_batch(tmp_path, reid_home):
    crops = _crops(tmp_path / "crops")
    negatives = ~np.eye(4, dtype=bool)
    recipe = load_recipe(None, ["data.height=64", "data.width=32", "train.batch_size=8"])
    options = FineTuneOptions(minutes=1e-6, max_epochs=5, seed=0)
    lines = []
    result = fine_tune(
        crops,
        negatives,
        reid_home / "osnet_x0_25_msmt17.pth",
        tmp_path / "osnet_x0_25_adapted.pth",
        recipe,
        options,
        lines.append,
    )
    assert result.stopped_by == "time budget"
    assert len(result.epochs) == 1 and result.epochs[0]["batches"] == 1
    assert result.epochs[0]["valid_triplets"] == 8
    assert len(lines) == 1 and lines[0].startswith("epoch 1/5")
    assert load_checkpoint(result.weights)["epoch"] == 1


def test_without_a_validated_gain_the_starting_checkpoint_is_copied(tmp_path, reid_home):
    crops = _crops(tmp_path / "crops")
    held_out = tmp_path / "held_out"
    image = np.random.default_rng(1).integers(0, 255, (64, 32, 3)).astype(np.uint8)
    for label in range(5):  # five people that look exactly alike: no epoch can rank better
        (held_out / identity_folder(label)).mkdir(parents=True)
        for frame in range(3):
            cv2.imwrite(str(held_out / identity_folder(label) / f"{frame:07d}.jpg"), image)
    validation = ValidationSet.from_folder(held_out, ~np.eye(5, dtype=bool))
    assert len(validation.paths) == 15 and validation.num_identities == 5
    recipe = load_recipe(None, ["data.height=64", "data.width=32", "train.batch_size=8"])
    start = reid_home / "osnet_x0_25_msmt17.pth"
    lines = []
    result = fine_tune(
        crops,
        ~np.eye(4, dtype=bool),
        start,
        tmp_path / "osnet_x0_25_adapted.pth",
        recipe,
        FineTuneOptions(minutes=1e-6, max_epochs=5, seed=0),
        lines.append,
        validation,
    )
    selection = result.selection
    assert not selection.adopted and selection.best_epoch == 0
    assert len(selection.scores) == len(result.epochs) + 1 == 2
    assert result.epochs[0]["val_mAP"] == pytest.approx(selection.scores[1])
    assert result.weights.read_bytes() == start.read_bytes()
    assert lines[-1].startswith("kept the starting weights: validation pseudo-mAP")
