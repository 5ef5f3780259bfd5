"""ImageDataManager end to end on a synthetic Market-1501."""

from __future__ import annotations

from collections import Counter

import pytest
import torch
from reid_synthetic import make_market, market_grid, write_image

from strongsort_reid.data import ImageDataManager

SMALL = dict(height=32, width=16, batch_size_test=4, workers=0, verbose=False)


@pytest.fixture
def market_root(tmp_path):
    files = {
        "bounding_box_train": market_grid(6, cams=2, per_cam=2),
        "query": market_grid(3, cams=1, per_cam=1, first_pid=100),
        "bounding_box_test": market_grid(3, cams=2, per_cam=1, first_pid=100)
        + ["0000_c1s1_000001_00.jpg", "-1_c2s1_000001_00.jpg"],
    }
    make_market(tmp_path, files=files)
    return tmp_path


def test_end_to_end_identity_batches(market_root, capsys):
    manager = ImageDataManager(
        root=str(market_root), sources="market1501", transforms=["random_flip", "random_erase"],
        train_sampler="RandomIdentitySampler", batch_size_train=8, num_instances=2, seed=0,
        **dict(SMALL, verbose=True),
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "=> Loaded Market1501" in out and "# source ids      : 6" in out
    assert (manager.num_train_pids, manager.num_train_cams) == (6, 2)

    batch = next(iter(manager.train_loader))
    assert batch["img"].shape == (8, 3, 32, 16) and batch["img"].dtype == torch.float32
    assert batch["pid"].dtype == torch.int64 and set(Counter(batch["pid"].tolist()).values()) == {2}
    assert len(batch["impath"]) == 8 and batch["skipped"].sum() == 0

    query_loader, gallery_loader = manager.fetch_test_loaders("market1501")
    query = next(iter(query_loader))
    assert query["img"].shape == (3, 3, 32, 16)
    gallery = [b for b in gallery_loader]
    assert [len(b["pid"]) for b in gallery] == [4, 3]  # 6 + 1 distractor, not shuffled, no drop
    assert torch.cat([b["pid"] for b in gallery]).tolist() == [0, 100, 100, 101, 101, 102, 102]
    assert manager.return_query_and_gallery_by_name("market1501")[0][0][1] == 100
    with pytest.raises(KeyError, match="not a target"):
        manager.fetch_test_loaders("dukemtmcreid")


def test_seeded_epochs_are_reproducible(market_root):
    def epoch_pids(manager, epoch):
        manager.set_epoch(epoch)
        return [b["impath"] for b in manager.train_loader]

    kwargs = dict(root=str(market_root), sources="market1501", batch_size_train=4, seed=3, **SMALL)
    first, second = ImageDataManager(**kwargs), ImageDataManager(**kwargs)
    assert epoch_pids(first, 0) == epoch_pids(second, 0)
    assert epoch_pids(first, 1) != epoch_pids(first, 0)
    assert epoch_pids(first, 1) == epoch_pids(second, 1)
    assert len(first.train_loader) == 24 // 4


def test_combineall_and_multiple_sources(market_root, tmp_path):
    combined = ImageDataManager(
        root=str(market_root), sources="market1501", combineall=True, **SMALL
    )
    assert combined.num_train_pids == 6 + 3  # query/gallery ids, junk and distractors excluded
    duke = tmp_path / "duke_root" / "dukemtmc-reid" / "DukeMTMC-reID"
    for folder, names in (
        ("bounding_box_train", ["0001_c2_f1.jpg", "0001_c3_f2.jpg", "0009_c1_f3.jpg"]),
        ("query", ["0002_c1_f4.jpg"]),
        ("bounding_box_test", ["0002_c4_f5.jpg"]),
    ):
        for name in names:
            write_image(duke / folder / name)
    manager = ImageDataManager(
        root=str(market_root), sources=["market1501", "dukemtmcreid"], targets="dukemtmcreid",
        dataset_kwargs={"dukemtmcreid": {"root": str(tmp_path / "duke_root")}}, **SMALL,
    )  # fmt: skip
    assert manager.num_train_pids == 8 and manager.num_train_cams == 5
    assert set(manager.test_loader) == {"dukemtmcreid"}
    assert {item[3] for item in manager.train_set.train} == {0, 1}


def test_corrupt_training_image_is_skipped_not_fatal(market_root):
    train_dir = market_root / "market1501" / "bounding_box_train"
    bad = sorted(train_dir.iterdir())[0]
    bad.write_bytes(b"\x00" * 10)
    manager = ImageDataManager(
        root=str(market_root), sources="market1501", batch_size_train=24, seed=0, **SMALL
    )
    batch = next(iter(manager.train_loader))
    assert batch["skipped"].sum().item() == 1
    assert str(bad) not in batch["impath"]


def test_bad_arguments(market_root, tmp_path):
    with pytest.raises(ValueError, match="sources"):
        ImageDataManager(root=str(market_root), sources=[], **SMALL)
    with pytest.raises(ValueError, match="unknown dataset"):
        ImageDataManager(root=str(market_root), sources="market", **SMALL)
    with pytest.raises(ValueError, match="train_sampler"):
        ImageDataManager(root=str(market_root), sources="market1501", train_sampler="x", **SMALL)
    with pytest.raises(ValueError, match="dataset_kwargs"):
        ImageDataManager(root=str(market_root), sources="market1501", dataset_kwargs={"mot": {}},
                         **SMALL)  # fmt: skip
    with pytest.raises(FileNotFoundError, match="market1501"):
        ImageDataManager(root=str(tmp_path / "missing"), sources="market1501", **SMALL)
