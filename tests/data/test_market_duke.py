"""Market-1501 and DukeMTMC-reID parsing rules on tiny synthetic folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from reid_synthetic import MARKET_FILES, make_market, write_images

from strongsort_reid.data.datasets import DukeMTMCreID, Market1501


def _pids(items):
    return sorted({item[1] for item in items})


def test_market_parsing_rules(tmp_path):
    make_market(tmp_path)
    dataset = Market1501(root=str(tmp_path), verbose=False)

    # junk (-1) dropped everywhere; distractors (0) only in the gallery
    assert len(dataset.train) == 4
    assert _pids(dataset.train) == [0, 1]  # 0002, 0007 relabelled
    assert _pids(dataset.query) == [1, 3]
    assert _pids(dataset.gallery) == [0, 1, 3]
    assert all(item[1] != -1 for item in dataset.gallery)
    # camids are 0-based: c1 -> 0, c6 -> 5
    assert sorted({item[2] for item in dataset.train}) == [0, 1, 2, 5]
    assert dataset.num_train_pids == 2
    assert dataset.num_train_cams == 4
    assert all(len(item) == 4 and item[3] == 0 for item in dataset.train)
    # train relabelling keeps the order of the original pids and files
    first = [item for item in dataset.train if Path(item[0]).name.startswith("0002_")]
    assert {item[1] for item in first} == {0}


def test_market_combineall_skips_junk_and_distractors(tmp_path):
    make_market(tmp_path)
    dataset = Market1501(root=str(tmp_path), combineall=True, verbose=False)
    # 4 train + 2 query + 2 gallery images of ids 0001/0003 (0000 and -1 left out)
    assert len(dataset.train) == 8
    assert dataset.num_train_pids == 4
    assert _pids(dataset.train) == [0, 1, 2, 3]
    names = {Path(p).name: pid for p, pid, _, _ in dataset.train}
    assert names["0001_c1s1_001051_00.jpg"] == names["0001_c4s1_000151_01.jpg"]


@pytest.mark.parametrize("subdir", ["market1501/Market-1501-v15.09.15", "Market-1501-v15.09.15"])
def test_market_accepts_nested_and_direct_roots(tmp_path, subdir):
    data_dir = make_market(tmp_path, subdir=subdir)
    assert len(Market1501(root=str(tmp_path), verbose=False).train) == 4
    assert len(Market1501(root=str(data_dir), verbose=False).train) == 4


def test_market_500k_adds_distractor_gallery(tmp_path):
    files = dict(MARKET_FILES, images=["0000_c3s1_000001_01.jpg", "0000_c4s1_000002_01.jpg"])
    make_market(tmp_path, files=files)
    plain = Market1501(root=str(tmp_path), verbose=False)
    extended = Market1501(root=str(tmp_path), market1501_500k=True, verbose=False)
    assert len(extended.gallery) == len(plain.gallery) + 2


def test_market_missing_root_names_layout(tmp_path):
    with pytest.raises(FileNotFoundError, match="(?s)does not exist.*bounding_box_train"):
        Market1501(root=str(tmp_path / "nowhere"), verbose=False)
    with pytest.raises(FileNotFoundError, match="bounding_box_test"):
        Market1501(root=str(tmp_path), verbose=False)


def test_market_without_images_names_layout(tmp_path):
    for folder in ("bounding_box_train", "query", "bounding_box_test"):
        (tmp_path / "market1501" / folder).mkdir(parents=True)
    with pytest.raises(FileNotFoundError, match="no images found for the train set"):
        Market1501(root=str(tmp_path), verbose=False)


def test_market_rejects_camera_zero(tmp_path):
    files = dict(MARKET_FILES, query=["0001_c0s1_001051_00.jpg"])
    make_market(tmp_path, files=files)
    with pytest.raises(ValueError, match="c0"):
        Market1501(root=str(tmp_path), verbose=False)


def test_market_summary_table(tmp_path, capsys):
    make_market(tmp_path)
    Market1501(root=str(tmp_path))
    out = capsys.readouterr().out
    assert "=> Loaded Market1501" in out
    assert "subset   | # ids | # images | # cameras" in out
    assert "  train    |     2 |        4 |         4" in out
    assert "  gallery  |     3 |        3 |         3" in out


def test_unknown_keyword_is_an_error(tmp_path):
    make_market(tmp_path)
    with pytest.raises(TypeError, match="min_visibility"):
        Market1501(root=str(tmp_path), verbose=False, min_visibility=0.5)
    # shared manager options are accepted and ignored
    Market1501(root=str(tmp_path), verbose=False, split_id=0, cuhk03_labeled=True)


def test_duke_parsing(tmp_path):
    base = tmp_path / "dukemtmc-reid" / "DukeMTMC-reID"
    write_images(
        base / "bounding_box_train",
        ["0001_c2_f0046182.jpg", "0001_c8_f0046190.jpg", "0005_c1_f0000001.jpg"],
    )
    write_images(base / "query", ["0002_c1_f0044158.jpg"])
    write_images(base / "bounding_box_test", ["0002_c3_f0044999.jpg", "7000_c5_f0000002.jpg"])
    dataset = DukeMTMCreID(root=str(tmp_path), verbose=False)
    assert [(item[1], item[2]) for item in dataset.train] == [(0, 1), (0, 7), (1, 0)]
    assert dataset.num_train_cams == 3
    assert _pids(dataset.gallery) == [2, 7000]
    with pytest.raises(FileNotFoundError, match="DukeMTMC-reID"):
        DukeMTMCreID(root=str(tmp_path / "empty"), verbose=False)
