"""CUHK01 with torchreid's protocol: the real data set in ../shared and a synthetic folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from reid_synthetic import write_images
from shared_assets import shared_path

from strongsort_reid.data import ImageDataManager
from strongsort_reid.data.datasets import CUHK01, init_image_dataset
from strongsort_reid.data.datasets.cuhk01 import NUM_SPLITS

SHARED_ROOT = "data/reid-datasets"


def _pids(items):
    return {item[1] for item in items}


def _snapshot(folder: Path):
    """Names and modification times of everything under ``folder``."""
    return sorted((str(p), p.stat().st_mtime_ns) for p in folder.rglob("*"))


@pytest.fixture(scope="module")
def shared_root():
    return shared_path(SHARED_ROOT)


@pytest.fixture(scope="module")
def split0(shared_root):
    return CUHK01(root=str(shared_root), verbose=False)


def test_shared_split_counts_and_camids(split0):
    dataset = split0
    assert dataset.data_dir.name == "CUHK01" and dataset.split_source is None
    people = {Path(p).stem[:4] for p, *_ in dataset.train + dataset.query + dataset.gallery}
    assert len(people) == 971
    assert (dataset.num_train_pids, dataset.num_train_cams) == (485, 2)
    assert len(dataset.train) == 485 * 4
    assert len(_pids(dataset.query)) == len(_pids(dataset.gallery)) == 486
    assert len(dataset.query) == len(dataset.gallery) == 486 * 2
    # relabelled 0..484; test pids keep torchreid's PPPP - 1 numbering
    assert sorted(_pids(dataset.train)) == list(range(485))
    assert _pids(dataset.query) == _pids(dataset.gallery)
    assert min(_pids(dataset.query)) >= 0 and max(_pids(dataset.query)) <= 970
    # query = camera A (images 001-002), gallery = camera B (003-004)
    assert {item[2] for item in dataset.query} == {0}
    assert {item[2] for item in dataset.gallery} == {1}
    assert {Path(p).stem[4:] for p, *_ in dataset.query} == {"001", "002"}
    assert {Path(p).stem[4:] for p, *_ in dataset.gallery} == {"003", "004"}
    for path, pid, *_ in dataset.query[:4] + dataset.gallery[:4]:
        assert pid == int(Path(path).stem[:4]) - 1
    assert {item[2] for item in dataset.train} == {0, 1}


def test_shared_train_test_identities_disjoint(split0):
    train_people = {Path(p).stem[:4] for p, *_ in split0.train}
    test_people = {Path(p).stem[:4] for p, *_ in split0.query + split0.gallery}
    assert len(train_people) == 485 and len(test_people) == 486
    assert not train_people & test_people


def test_shared_splits_deterministic_and_reversed(shared_root, split0):
    before = _snapshot(shared_root / "CUHK01")
    again = CUHK01(root=str(shared_root), split_id=0, verbose=False)
    assert again.train == split0.train and again.query == split0.query
    # odd split: same partition, camera B queries camera A
    reverse = CUHK01(root=str(shared_root), split_id=1, verbose=False)
    assert reverse.train == split0.train
    assert (reverse.query, reverse.gallery) == (split0.gallery, split0.query)
    other = CUHK01(root=str(shared_root), split_id=2, verbose=False)
    assert _pids(other.query) != _pids(split0.query)
    # nothing is written next to the (read-only in CI, but root-writable) shared data
    assert _snapshot(shared_root / "CUHK01") == before
    for bad in (-1, NUM_SPLITS):
        with pytest.raises(ValueError, match=r"split_id must be in \[0, 19\]"):
            CUHK01(root=str(shared_root), split_id=bad, verbose=False)


def test_shared_loads_by_name_in_image_data_manager(shared_root):
    manager = ImageDataManager(
        root=str(shared_root),
        sources="cuhk01", height=32, width=16, batch_size_train=8, batch_size_test=8,
        train_sampler="RandomIdentitySampler", num_instances=4, workers=0, seed=0, verbose=False,
    )  # fmt: skip
    assert (manager.num_train_pids, manager.num_train_cams) == (485, 2)
    batch = next(iter(manager.train_loader))
    assert batch["img"].shape == (8, 3, 32, 16) and len(set(batch["pid"].tolist())) == 2
    query, gallery = manager.return_query_and_gallery_by_name("cuhk01")
    assert len(query) == len(gallery) == 972


def _write_campus(root: Path, num_people: int = 6) -> Path:
    campus = root / "cuhk01" / "campus"
    write_images(campus, [f"{p:04d}{i:03d}.png" for p in range(1, num_people + 1)
                          for i in range(1, 5)])  # fmt: skip
    return campus


def test_synthetic_protocol_matches_torchreid_shuffles(tmp_path):
    _write_campus(tmp_path, 7)
    dataset = init_image_dataset("cuhk01", root=str(tmp_path), split_id=2, verbose=False)
    # torchreid: np.random.seed(1); 10 x shuffle(arange(n)); split 2 = 2nd shuffle, first n // 2
    np.random.seed(1)
    orders = []
    for _ in range(2):
        order = np.arange(7)
        np.random.shuffle(order)
        orders.append(order)
    train_pids = sorted(orders[1][:3].tolist())
    assert sorted({int(Path(p).stem[:4]) - 1 for p, *_ in dataset.train}) == train_pids
    assert dataset.num_train_pids == 3 and len(dataset.train) == 12
    assert _pids(dataset.query) == set(range(7)) - set(train_pids)
    assert len(dataset.query) == len(dataset.gallery) == 8
    seeded = CUHK01(root=str(tmp_path), split_id=2, split_seed=5, verbose=False)
    assert seeded.train != dataset.train or seeded.query != dataset.query


def test_synthetic_torchreid_split_file_and_errors(tmp_path):
    campus = _write_campus(tmp_path)
    generated = CUHK01(root=str(tmp_path / "cuhk01"), verbose=False)
    exported = generated.save_splits(tmp_path / "out" / "splits.json")
    splits = json.loads(exported.read_text())
    assert len(splits) == NUM_SPLITS and splits[0]["num_train_pids"] == 3
    # torchreid's file next to campus/ wins; its absolute paths are re-rooted by file name
    for split in splits:
        for subset in ("train", "query", "gallery"):
            split[subset] = [[f"/elsewhere/{Path(p).name}", *rest] for p, *rest in split[subset]]
    splits[0]["query"], splits[0]["gallery"] = splits[0]["gallery"], splits[0]["query"]
    (tmp_path / "cuhk01" / "splits.json").write_text(json.dumps(splits[:2]))
    from_file = CUHK01(root=str(tmp_path), verbose=False)
    assert from_file.split_source == tmp_path / "cuhk01" / "splits.json"
    assert from_file.train == generated.train and from_file.query == generated.gallery
    assert from_file.query[0][0].startswith(str(campus))
    with pytest.raises(ValueError, match=r"split_id must be in \[0, 1\]"):
        CUHK01(root=str(tmp_path), split_id=2, verbose=False)
    with pytest.raises(FileNotFoundError, match="split_file"):
        CUHK01(root=str(tmp_path), split_file=str(tmp_path / "none.json"), verbose=False)
    os.remove(campus / "0001001.png")
    with pytest.raises(FileNotFoundError, match="missing from"):
        CUHK01(root=str(tmp_path), verbose=False)
    with pytest.raises(FileNotFoundError, match="campus"):
        CUHK01(root=str(tmp_path / "nothing"), verbose=False)
    write_images(campus, ["0001009.png"])
    with pytest.raises(ValueError, match="001..004"):
        CUHK01(root=str(tmp_path), split_file=str(exported), verbose=False)
