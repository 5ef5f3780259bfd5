"""The generic one-folder-per-identity dataset."""

from __future__ import annotations

import pytest
from reid_synthetic import write_images

from strongsort_reid.data.datasets import FolderDataset


def _pool(root, identities=6, cams=(1, 2), per_cam=2):
    for index in range(identities):
        names = [f"img_c{cam}_{k}.jpg" for cam in cams for k in range(per_cam)]
        write_images(root / f"person{index:02d}", names)


def test_folder_cameras_from_filename(tmp_path):
    _pool(tmp_path, cams=(1, 3, 10))
    dataset = FolderDataset(root=str(tmp_path), camera="filename", test_ratio=0.5, verbose=False)
    assert dataset.num_train_pids == 3
    assert sorted({item[2] for item in dataset.train}) == [0, 1, 2]  # c1, c3, c10
    # one query per (held-out identity, camera); the rest of the images in the gallery
    assert len(dataset.query) == 3 * 3
    assert len(dataset.gallery) == 3 * 3 * 2 - 9
    query_pids = {item[1] for item in dataset.query}
    train_paths = {item[0] for item in dataset.train}
    assert not train_paths & {item[0] for item in dataset.query + dataset.gallery}
    assert query_pids == {item[1] for item in dataset.gallery}
    # deterministic for a seed, different for another
    again = FolderDataset(root=str(tmp_path), camera="filename", verbose=False)
    assert again.query == dataset.query
    other = FolderDataset(root=str(tmp_path), camera="filename", split_seed=5, verbose=False)
    assert {i[0] for i in other.train} != train_paths


def test_folder_cameras_from_subfolder_and_named_group(tmp_path):
    for person in ("a", "b", "c"):
        for cam in ("front", "side"):
            write_images(tmp_path / person / cam, [f"{person}{cam}{k}.jpg" for k in range(2)])
    dataset = FolderDataset(root=str(tmp_path), camera="subfolder", test_ratio=0.34, verbose=False)
    assert dataset.num_train_cams == 2
    assert len(dataset.query) == 2  # one held-out identity, one query per camera

    named = tmp_path / "named"
    write_images(named / "x", ["cam7-1.jpg", "cam8-1.jpg"])
    write_images(named / "y", ["cam7-2.jpg", "cam8-2.jpg"])
    dataset = FolderDataset(
        root=str(named), camera="filename", camera_pattern=r"cam(?P<cam>\d+)", test_ratio=0.0,
        verbose=False,
    )  # fmt: skip
    assert dataset.num_train_cams == 2 and dataset.query == [] and dataset.gallery == []


def test_folder_without_cameras_splits_by_order(tmp_path):
    _pool(tmp_path, identities=4, cams=(1,), per_cam=4)
    dataset = FolderDataset(root=str(tmp_path), test_ratio=0.5, verbose=False)
    assert {item[2] for item in dataset.train} == {0}
    assert {item[2] for item in dataset.query} == {0}
    assert {item[2] for item in dataset.gallery} == {1}
    assert len(dataset.query) == len(dataset.gallery) == 4
    for query in dataset.query:
        later = [g for g in dataset.gallery if g[1] == query[1]]
        assert all(g[0] > query[0] for g in later)  # queries are the earlier file names


def test_folder_pre_split_layout(tmp_path):
    write_images(tmp_path / "train" / "p1", ["c1_0.jpg", "c2_0.jpg"])
    write_images(tmp_path / "query" / "p9", ["c1_0.jpg"])
    write_images(tmp_path / "gallery" / "p9", ["c2_0.jpg"])
    write_images(tmp_path / "gallery" / "p8", ["c1_1.jpg"])
    dataset = FolderDataset(root=str(tmp_path), camera="filename", verbose=False)
    assert [item[1:3] for item in dataset.train] == [(0, 0), (0, 1)]
    assert dataset.query[0][1] == [g for g in dataset.gallery if g[2] == 1][0][1]


def test_folder_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        FolderDataset(root=str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="no identity folder"):
        FolderDataset(root=str(tmp_path))
    _pool(tmp_path)
    with pytest.raises(ValueError, match="camera_pattern"):
        FolderDataset(root=str(tmp_path), camera="filename", camera_pattern=r"cam(\d+)")
    with pytest.raises(ValueError, match="camera must be"):
        FolderDataset(root=str(tmp_path), camera="exif")
    with pytest.raises(ValueError, match="test_ratio"):
        FolderDataset(root=str(tmp_path), test_ratio=1.0)
