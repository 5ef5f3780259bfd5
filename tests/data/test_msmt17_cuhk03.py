"""MSMT17 list files and CUHK03 (extracted images + new/classic split files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from reid_synthetic import write_images
from scipy.io import savemat

from strongsort_reid.data.datasets import CUHK03, MSMT17


def _write_msmt(root: Path, version="MSMT17_V1", train_dir="train", test_dir="test") -> Path:
    base = root / "msmt17" / version
    lists = {
        "train": [("0000/0000_000_01_0303morning_0015_0.jpg", 0),
                  ("0000/0000_001_05_0303morning_0016_0.jpg", 0),
                  ("0001/0001_000_15_0303noon_0001_0.jpg", 1)],
        "val": [("0001/0001_002_03_0303noon_0002_0.jpg", 1)],
        "query": [("0000/0000_000_02_0303morning_0036_1.jpg", 0)],
        "gallery": [("0000/0000_001_07_0303morning_0040_1.jpg", 0),
                    ("0001/0001_000_09_0303noon_0041_1.jpg", 1)],
    }  # fmt: skip
    for subset, entries in lists.items():
        folder = base / (test_dir if subset in ("query", "gallery") else train_dir)
        for relative, _ in entries:
            write_images(folder / Path(relative).parent, [Path(relative).name])
        text = "".join(f"{relative} {pid}\n" for relative, pid in entries)
        (base / f"list_{subset}.txt").write_text(text)
    return base


def test_msmt17_lists_and_camids(tmp_path):
    base = _write_msmt(tmp_path)
    dataset = MSMT17(root=str(tmp_path), verbose=False)
    assert [(item[1], item[2]) for item in dataset.train] == [(0, 0), (0, 4), (1, 14)]
    assert dataset.train[0][0] == str(base / "train/0000/0000_000_01_0303morning_0015_0.jpg")
    assert [item[2] for item in dataset.gallery] == [6, 8]
    assert dataset.query[0][0].startswith(str(base / "test"))


def test_msmt17_combineall_adds_val_and_test(tmp_path):
    _write_msmt(tmp_path)
    dataset = MSMT17(root=str(tmp_path), combineall=True, verbose=False)
    # 3 train + 1 val + 1 query + 2 gallery; test ids become new labels 2 and 3
    assert len(dataset.train) == 7
    assert dataset.num_train_pids == 4


def test_msmt17_v2_layout(tmp_path):
    _write_msmt(tmp_path, "MSMT17_V2", "mask_train_v2", "mask_test_v2")
    assert len(MSMT17(root=str(tmp_path / "msmt17" / "MSMT17_V2"), verbose=False).train) == 3


def test_msmt17_bad_layout_and_lines(tmp_path):
    with pytest.raises(FileNotFoundError, match="list_train.txt"):
        MSMT17(root=str(tmp_path), verbose=False)
    base = _write_msmt(tmp_path)
    (base / "list_query.txt").write_text("0000/badname.jpg 0\n")
    with pytest.raises(ValueError, match="list_query.txt:1"):
        MSMT17(root=str(tmp_path), verbose=False)


# CUHK03: pid 1..4, two views each; new protocol: ids 1, 2 train, 3, 4 test
CUHK_NAMES = [f"1_{pid:03d}_{view}_{img:02d}.png" for pid in range(1, 5) for view in (1, 2)
              for img in (1, 2)]  # fmt: skip


def _write_cuhk03(root: Path) -> Path:
    base = root / "cuhk03"
    for kind in ("labeled", "detected"):
        write_images(base / f"images_{kind}", CUHK_NAMES)
    labels = np.array([int(n.split("_")[1]) for n in CUHK_NAMES], dtype=np.float64)
    index = np.arange(1, len(CUHK_NAMES) + 1, dtype=np.float64)  # 1-based, as in the .mat
    filelist = np.empty((len(CUHK_NAMES), 1), dtype=object)
    filelist[:, 0] = CUHK_NAMES
    savemat(
        base / "cuhk03_new_protocol_config_labeled.mat",
        {
            "filelist": filelist,
            "labels": labels[:, None],
            "train_idx": index[:8, None],
            "query_idx": index[[8, 12], None],
            "gallery_idx": index[[9, 10, 11, 13, 14, 15], None],
        },
    )
    return base


def test_cuhk03_new_protocol_mat(tmp_path):
    base = _write_cuhk03(tmp_path)
    dataset = CUHK03(root=str(tmp_path), cuhk03_labeled=True, verbose=False)
    assert dataset.num_train_pids == 2
    assert sorted({item[1] for item in dataset.train}) == [0, 1]
    assert [item[2] for item in dataset.train[:4]] == [0, 0, 1, 1]  # view 1 -> 0, 2 -> 1
    assert [item[1] for item in dataset.query] == [3, 4]
    assert dataset.query[0][0] == str(base / "images_labeled" / "1_003_1_01.png")
    assert len(dataset.gallery) == 6


def test_cuhk03_split_json_and_errors(tmp_path):
    base = _write_cuhk03(tmp_path)
    # detected boxes have no .mat here: a missing split file is a clear error
    with pytest.raises(FileNotFoundError, match="splits_new_detected.json"):
        CUHK03(root=str(tmp_path), verbose=False)
    # torchreid's JSON: absolute paths from another machine, only file names are used
    split = {
        "train": [[f"/elsewhere/{n}", int(n[2:5]) - 1, int(n[6]) - 1] for n in CUHK_NAMES[:8]],
        "query": [[f"/elsewhere/{CUHK_NAMES[8]}", 3, 0]],
        "gallery": [[f"/elsewhere/{n}", 3, 1] for n in CUHK_NAMES[10:12]],
    }
    (base / "splits_classic_detected.json").write_text(json.dumps([split, split]))
    dataset = CUHK03(root=str(tmp_path), cuhk03_classic_split=True, split_id=1, verbose=False)
    assert dataset.num_train_pids == 2
    assert dataset.train[0][0] == str(base / "images_detected" / CUHK_NAMES[0])
    with pytest.raises(ValueError, match="split_id"):
        CUHK03(root=str(tmp_path), cuhk03_classic_split=True, split_id=2, verbose=False)
    (base / "images_detected" / CUHK_NAMES[0]).unlink()
    with pytest.raises(FileNotFoundError, match="1 train image"):
        CUHK03(root=str(tmp_path), cuhk03_classic_split=True, verbose=False)
    with pytest.raises(FileNotFoundError, match="images_labeled"):
        CUHK03(root=str(tmp_path / "nothing"), verbose=False)
