"""scripts/train_reid.py launched the documented way, with torchrun: two CPU processes join a
gloo group, each trains on half of the batches, and only rank 0 evaluates and writes files."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from engine_helpers import HEIGHT, WIDTH

from strongsort_reid.utils.checkpoint import load_checkpoint

REPO = Path(__file__).resolve().parents[2]


def test_torchrun_two_gloo_processes_run_the_training_script(synthetic_root, tmp_path):
    save_dir = tmp_path / "run"
    overrides = [
        "model.name=osnet_x0_25",
        "model.pretrained=false",
        f"data.root={synthetic_root}",
        "data.sources=[market1501]",
        "data.targets=[market1501]",  # train_reid.py's default recipe names cuhk01 ...
        "model.load_weights=''",  # ... starts from osnet_x0_25_msmt17 ...
        "train.lr_scheduler=single_step",  # ... and warms up for 3 epochs
        "train.fixbase_epoch=0",
        "data.train_sampler=RandomSampler",
        f"data.height={HEIGHT}",
        f"data.width={WIDTH}",
        "data.workers=0",
        "train.max_epoch=1",
        "train.batch_size=32",  # 128 images: 4 batches, 2 per process
        "train.print_freq=1",
        "test.batch_size=64",
        "use_gpu=false",
        f"save_dir={save_dir}",
    ]
    env = dict(os.environ, OMP_NUM_THREADS="1", CUDA_VISIBLE_DEVICES="")
    completed = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
         "scripts/train_reid.py", *overrides],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stderr[-3000:]

    log = (save_dir / "train.log").read_text()
    assert "Training on 2 processes (gloo backend)" in log
    # Each process steps through its own half of the epoch's 4 batches.
    assert re.findall(r"epoch \[1/1\]\[(\d+)/(\d+)\]", log) == [("1", "2"), ("2", "2")]
    # Only rank 0 evaluates (one result table) and writes the checkpoint.
    assert completed.stdout.count("** Results (market1501) **") == 1
    checkpoint = save_dir / "model" / "model.pth.tar-1"
    assert sorted(p.name for p in (save_dir / "model").iterdir()) == [checkpoint.name]
    state = load_checkpoint(checkpoint)
    assert state["epoch"] == 1
    assert not any(key.startswith("module.") for key in state["state_dict"])
