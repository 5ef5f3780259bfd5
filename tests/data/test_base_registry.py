"""ImageDataset base behaviour: items, combining, registry, undecodable images."""

from __future__ import annotations

import logging

import pytest
import torch
from reid_synthetic import make_market, write_image

from strongsort_reid.data import (
    ImageDataset,
    available_image_datasets,
    datasets,
    init_image_dataset,
    register_image_dataset,
)
from strongsort_reid.data.datasets.base import MAX_REPLACEMENT_ATTEMPTS


def _items(tmp_path, spec):
    """``spec``: list of (name, pid, camid) -> 3-tuples with real image files."""
    return [(str(write_image(tmp_path / name, seed=i)), pid, cam) for i, (name, pid, cam) in
            enumerate(spec)]  # fmt: skip


def test_three_tuples_get_dsetid_and_counts(tmp_path):
    train = _items(tmp_path, [("a.jpg", 0, 0), ("b.jpg", 1, 2)])
    dataset = ImageDataset(train, [], [], verbose=False)
    assert dataset.train[1][1:] == (1, 2, 0)
    assert (dataset.num_train_pids, dataset.num_train_cams, dataset.num_datasets) == (2, 2, 1)
    with pytest.raises(ValueError, match=r"train\[0\]"):
        ImageDataset([("x.jpg", 0)], [], [], verbose=False)
    with pytest.raises(ValueError, match="mode"):
        ImageDataset(train, [], [], mode="val", verbose=False)


def test_getitem_returns_torchreid_dict(tmp_path):
    train = _items(tmp_path, [("a.jpg", 0, 0), ("b.jpg", 1, 1)])
    dataset = ImageDataset(train, [], [], transform=lambda im: torch.zeros(3, *im.size[::-1]),
                           verbose=False)  # fmt: skip
    sample = dataset[1]
    assert set(sample) == {"img", "pid", "camid", "impath", "dsetid", "skipped"}
    assert sample["img"].shape == (3, 24, 12)
    assert (sample["pid"], sample["camid"], sample["impath"], sample["skipped"]) == (
        1, 1, train[1][0], 0,
    )  # fmt: skip


def test_add_shifts_pids_cameras_and_dataset_ids(tmp_path):
    first = ImageDataset(_items(tmp_path, [("a.jpg", 0, 0), ("b.jpg", 1, 1)]), [], [],
                         verbose=False)  # fmt: skip
    second = ImageDataset(_items(tmp_path, [("c.jpg", 0, 0), ("d.jpg", 0, 3)]), [], [],
                          verbose=False)  # fmt: skip
    combined = sum([first, second])
    assert [item[1:] for item in combined.train] == [(0, 0, 0), (1, 1, 0), (2, 2, 1), (2, 5, 1)]
    assert (combined.num_train_pids, combined.num_train_cams, combined.num_datasets) == (3, 4, 2)
    assert sum([first]) is first


def test_registry(tmp_path, monkeypatch):
    # a private copy of the registry, so the test's name does not leak into other tests
    monkeypatch.setattr(datasets, "_IMAGE_DATASETS", dict(datasets._IMAGE_DATASETS))
    make_market(tmp_path)

    class MyData(ImageDataset):
        def __init__(self, root="", **kwargs):
            items = [(str(write_image(tmp_path / "mine.jpg")), 0, 0)]
            super().__init__(items, items, items, **kwargs)

    register_image_dataset("my_test_data", MyData)
    assert "my_test_data" in available_image_datasets()
    dataset = init_image_dataset("my_test_data", root=str(tmp_path), verbose=False)
    assert dataset.num_train_pids == 1
    with pytest.raises(ValueError, match="already exists"):
        register_image_dataset("my_test_data", MyData)
    with pytest.raises(ValueError, match="already exists"):
        register_image_dataset("market1501", MyData)
    with pytest.raises(TypeError, match="ImageDataset subclass"):
        register_image_dataset("not_a_dataset", dict)
    with pytest.raises(ValueError, match="available:.*market1501"):
        init_image_dataset("market1502", root=str(tmp_path))
    assert len(init_image_dataset("market1501", root=str(tmp_path), verbose=False).train) == 4


def test_undecodable_images_are_replaced_and_counted(tmp_path, caplog):
    spec = [("p0_a.jpg", 0, 0), ("p0_b.jpg", 0, 1), ("p0_c.jpg", 0, 2), ("p1_a.jpg", 1, 0)]
    train = _items(tmp_path, spec)
    (tmp_path / "p0_a.jpg").write_bytes(b"definitely not a jpeg")
    truncated = (tmp_path / "p0_b.jpg").read_bytes()
    (tmp_path / "p0_b.jpg").write_bytes(truncated[: len(truncated) // 2])
    dataset = ImageDataset(train, [], [], verbose=False)
    with caplog.at_level(logging.WARNING):
        sample = dataset[0]
    # both bad files of pid 0 are skipped and replaced by the good image of the same pid
    assert sample["impath"] == train[2][0] and sample["pid"] == 0 and sample["skipped"] == 2
    assert dataset.num_skipped == 2
    assert sum("undecodable" in r.message for r in caplog.records) == 2
    # a known-bad file is skipped without a second warning, and still counted in the sample
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert dataset[1]["skipped"] == 1
    assert not caplog.records and dataset.num_skipped == 2
    # a full pass never raises
    assert [dataset[i]["skipped"] for i in range(len(dataset))] == [2, 1, 0, 0]


def test_all_images_broken_is_an_error(tmp_path):
    train = [(str(tmp_path / f"missing{i}.jpg"), 0, 0) for i in range(3)]
    dataset = ImageDataset(train, [], [], verbose=False)
    with pytest.raises(RuntimeError, match=f"{MAX_REPLACEMENT_ATTEMPTS} images in a row"):
        dataset[0]


def test_unknown_dataset_option_lists_the_valid_ones(tmp_path):
    from strongsort_reid.data.datasets import init_image_dataset

    with pytest.raises(ValueError) as error:
        init_image_dataset("mot", root=str(tmp_path), min_visiblity=0.5)
    message = str(error.value)
    assert "unknown option(s) ['min_visiblity'] for dataset 'mot'" in message
    assert "min_visibility" in message and "cache_dir" in message and "combineall" in message


def test_an_unidentifiable_file_is_a_decode_error_even_after_ultralytics_patched_pil(tmp_path):
    """ultralytics replaces Image.open with one that imports the optional pi-heif plugin for
    files Pillow cannot identify; a missing plugin must still count as an undecodable image."""
    pytest.importorskip("ultralytics")
    import ultralytics.utils.patches  # noqa: F401 - applies the patch, as the tracker's detector does

    from strongsort_reid.data.datasets.base import DECODE_ERRORS, read_image_rgb

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image at all")
    with pytest.raises(DECODE_ERRORS):
        read_image_rgb(str(bad))
