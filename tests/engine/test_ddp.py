"""DistributedDataParallel on the CPU: two gloo processes train the same network on disjoint
shards and end with identical weights; only rank 0 evaluates and writes checkpoints."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from engine_helpers import TinyReIDNet, make_datamanager

from strongsort_reid.engine import ImageTripletEngine, init_distributed, set_random_seed
from strongsort_reid.optim import build_optimizer

WORLD_SIZE = 2


class RecordingEngine(ImageTripletEngine):
    """Remembers which images this process trained on."""

    def forward_backward(self, data):
        self.seen.extend(data["impath"])
        return super().forward_backward(data)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _train(rank: int, port: int, root: str, out_dir: str) -> None:
    """One process of the group, as torchrun would start it (same environment variables)."""
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        LOCAL_RANK=str(rank),
        WORLD_SIZE=str(WORLD_SIZE),
    )
    torch.set_num_threads(1)
    assert init_distributed(backend="gloo")
    try:
        set_random_seed(0)  # the same seed everywhere: same initial weights and epoch order
        datamanager = make_datamanager(Path(root), num_replicas=WORLD_SIZE, rank=rank)
        model = TinyReIDNet(datamanager.num_train_pids, loss="triplet")
        engine = RecordingEngine(
            datamanager, model, build_optimizer(model, "sgd", lr=0.05), use_gpu=False
        )
        engine.seen = []
        results = engine.run(save_dir=out_dir, max_epoch=2)
        torch.save(
            {
                "params": {k: v.detach() for k, v in model.named_parameters()},
                "seen": engine.seen,
                "mAP": {name: r.mAP for name, r in results.items()},
                "checkpoint": str(engine.last_checkpoint),
            },
            Path(out_dir) / f"rank{rank}.pt",
        )
    finally:
        dist.destroy_process_group()


def test_two_gloo_processes_train_in_sync(synthetic_root, tmp_path):
    mp.spawn(
        _train, args=(_free_port(), str(synthetic_root), str(tmp_path)), nprocs=WORLD_SIZE,
        join=True,
    )
    rank0, rank1 = (torch.load(tmp_path / f"rank{r}.pt") for r in range(WORLD_SIZE))

    initial = TinyReIDNet(16, loss="triplet")
    for name, value in rank0["params"].items():
        assert torch.equal(value, rank1["params"][name]), name
    assert not torch.equal(rank0["params"]["classifier.weight"], initial.classifier.weight)

    # Disjoint shards of whole P x K batches, the same number of steps on each process.
    assert rank0["seen"] and len(rank0["seen"]) == len(rank1["seen"])
    assert len(rank0["seen"]) % 32 == 0
    epoch0 = len(rank0["seen"]) // 2
    assert not set(rank0["seen"][:epoch0]) & set(rank1["seen"][:epoch0])

    assert rank0["mAP"]["market1501"] > 0 and rank1["mAP"] == {}
    assert rank0["checkpoint"] == str(tmp_path / "model" / "model.pth.tar-2")
    assert rank1["checkpoint"] == "None"
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == ["model.pth.tar-2"]
