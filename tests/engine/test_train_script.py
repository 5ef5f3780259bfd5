"""scripts/train_reid.py end to end: fine-tune the shared osnet_x0_25_msmt17 weights on the
`mot` dataset cut from MOT17-mini with recipe (c), then load the result as the tracker does."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch
from shared_assets import shared_path

from strongsort_reid.inference.feature_extractor import FeatureExtractor
from strongsort_reid.utils.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]


def test_finetune_recipe_on_mot17_mini_runs_end_to_end(tmp_path):
    mot_root = shared_path("data/mot/MOT17-mini/train")
    weights = shared_path("data/reid/osnet_x0_25_msmt17.pth")
    save_dir = tmp_path / "run"
    overrides = [
        f"data.root={mot_root}",
        f"model.load_weights={weights}",
        f"save_dir={save_dir}",
        "train.max_epoch=1",
        "train.fixbase_epoch=0",
        "train.batch_size=16",
        "train.print_freq=1",
        "data.workers=0",
        "data.height=128",
        "data.width=64",
        "data.dataset_kwargs={mot: {cache_dir: '%s', sequences: [MOT17-02-FRCNN, "
        "MOT17-09-FRCNN], min_samples: 2, frame_stride: 1}}" % (tmp_path / "crops"),
        "use_gpu=false",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", STRONGSORT_REID_HOME=str(tmp_path / "home"))
    completed = subprocess.run(
        [sys.executable, "scripts/train_reid.py", "--config",
         "configs/osnet_x0_25_msmt17_finetune_mot.yaml", *overrides],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]

    out = completed.stdout
    assert "subset   | # ids | # images | # cameras" in out  # the dataset table
    assert "** Results (mot) **" in out and "Rank-1" in out
    checkpoint = save_dir / "model" / "model.pth.tar-1"
    assert f"Checkpoint: {checkpoint}" in out
    assert "epoch [1/1][1/" in completed.stderr  # progress logged per iteration
    assert (save_dir / "train.log").is_file() and (save_dir / "config.yaml").is_file()

    state = load_checkpoint(checkpoint)
    assert state["epoch"] == 1 and 0.0 <= state["rank1"] <= 1.0
    # The fine-tuned backbone moved away from the starting weights ...
    start = load_checkpoint(weights)
    assert not torch.equal(state["state_dict"]["conv1.conv.weight"], start["conv1.conv.weight"])
    # ... and the file loads by path into the tracker's feature extractor, whose embeddings
    # are those of the fine-tuned weights (not of the starting ones).
    extractor = FeatureExtractor("osnet_x0_25", model_path=checkpoint, device="cpu")
    crops = np.random.default_rng(0).integers(0, 256, (2, 160, 64, 3), dtype=np.uint8)
    features = extractor(list(crops))
    assert features.shape == (2, 512) and features.dtype == np.float32
    assert np.allclose(np.linalg.norm(features, axis=1), 1, atol=1e-5)
    original = FeatureExtractor("osnet_x0_25", model_path=weights, device="cpu")
    assert not np.allclose(features, original(list(crops)), atol=1e-4)
