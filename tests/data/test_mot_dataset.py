"""The MOTChallenge-derived ReID dataset, on ../shared MOT17-mini and on synthetic sequences."""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from shared_assets import shared_path

from strongsort_reid.data import ImageDataManager
from strongsort_reid.data.datasets import MOTReID

SEQUENCES = ["MOT17-05-FRCNN", "MOT17-09-FRCNN", "MOT17-10-FRCNN"]


def _gt_rows(seq_dir: Path) -> np.ndarray:
    return np.loadtxt(seq_dir / "gt" / "gt.txt", delimiter=",", ndmin=2)


def test_mot17_mini_crops_cached_once(tmp_path):
    root = shared_path("data/mot/MOT17-mini/train")
    cache = tmp_path / "cache"
    dataset = MOTReID(str(root), sequences=SEQUENCES, cache_dir=str(cache), verbose=False)
    assert dataset.sequences == SEQUENCES
    assert dataset.crops_written > 0 and dataset.crops_reused == 0
    crops = sorted(cache.rglob("*.jpg"))
    assert len(crops) == dataset.crops_written
    assert not list(cache.rglob("*.tmp*"))  # no temporary file of the atomic writes left
    mtimes = {p: p.stat().st_mtime_ns for p in crops}

    again = MOTReID(str(root), sequences=SEQUENCES, cache_dir=str(cache), verbose=False)
    assert again.crops_written == 0 and again.crops_reused == dataset.crops_written
    assert {p: p.stat().st_mtime_ns for p in sorted(cache.rglob("*.jpg"))} == mtimes
    assert again.train == dataset.train and again.gallery == dataset.gallery

    all_items = dataset.train + dataset.query + dataset.gallery
    assert len(all_items) == len(crops)
    # only frames that exist in img1/ are used
    for seq_index, name in enumerate(SEQUENCES):
        frames = {int(p.stem) for p in (root / name / "img1").glob("*.jpg")}
        crop_frames = {int(Path(p).stem.split("_")[1]) for p, _, c, _ in all_items
                       if c % len(SEQUENCES) == seq_index}  # fmt: skip
        assert crop_frames and crop_frames <= frames
    # a crop has the clipped ground-truth box size
    path, *_ = dataset.train[0]
    seq_name = Path(path).parent.name.rsplit("-", 1)[0]
    track_id, frame = (int(v) for v in Path(path).stem.split("_"))
    rows = _gt_rows(root / seq_name)
    x, y, w, h = rows[(rows[:, 0] == frame) & (rows[:, 1] == track_id)][0, 2:6]
    with Image.open(path) as crop:
        assert abs(crop.size[0] - w) <= 2 and abs(crop.size[1] - h) <= 2


def test_mot17_mini_filters_identities_and_cameras(tmp_path):
    root = shared_path("data/mot/MOT17-mini/train")
    dataset = MOTReID(str(root), cache_dir=str(tmp_path), verbose=False)
    num_sequences = len(dataset.sequences)
    assert num_sequences == 7
    # identity = (sequence, track): expected count from the filters applied to gt.txt
    expected = 0
    for name in dataset.sequences:
        rows = _gt_rows(root / name)
        frames = {int(p.stem) for p in (root / name / "img1").glob("*.jpg")}
        keep = (rows[:, 6] == 1) & (rows[:, 7] == 1) & (rows[:, 8] >= 0.3)
        keep &= np.isin(rows[:, 0], list(frames)) & (rows[:, 5] >= 32) & (rows[:, 4] >= 8)
        ids, counts = np.unique(rows[keep, 1], return_counts=True)
        expected += int((counts >= 2).sum())
    pids = {i[1] for i in dataset.train} | {i[1] for i in dataset.query + dataset.gallery}
    # clipping can shrink a few boxes below the size limits: allow a small difference
    assert abs(dataset.num_train_pids + len({i[1] for i in dataset.gallery}) - expected) <= 3
    assert len(pids) > 0
    assert dataset.num_train_cams == num_sequences
    # held-out identities: earlier frames in query (camid = sequence), later in gallery
    assert {i[2] for i in dataset.query} <= set(range(num_sequences))
    assert {i[2] for i in dataset.gallery} <= set(range(num_sequences, 2 * num_sequences))
    frames = defaultdict(lambda: ([], []))
    for subset, items in enumerate((dataset.query, dataset.gallery)):
        for path, pid, _, _ in items:
            frames[pid][subset].append(int(Path(path).stem.split("_")[1]))
    assert all(q and g and max(q) < min(g) for q, g in frames.values())
    assert not {i[1] for i in dataset.query} - {i[1] for i in dataset.gallery}


def test_mot_feeds_the_data_manager(tmp_path):
    root = shared_path("data/mot/MOT17-mini/train")
    manager = ImageDataManager(
        root=str(root), sources="mot", height=32, width=16, batch_size_train=8,
        batch_size_test=16, workers=0, train_sampler="RandomIdentitySampler", num_instances=4,
        seed=0, verbose=False,
        dataset_kwargs={"mot": {"sequences": SEQUENCES[:2], "cache_dir": str(tmp_path)}},
    )  # fmt: skip
    batch = next(iter(manager.train_loader))
    assert batch["img"].shape == (8, 3, 32, 16)
    assert len(set(batch["pid"].tolist())) == 2
    assert next(iter(manager.test_loader["mot"]["gallery"]))["img"].shape[1:] == (3, 32, 16)


def _synthetic_sequence(root: Path, gt_rows, frames=(1, 2, 3, 4), size=(60, 80)) -> Path:
    seq = root / "SEQ-01"
    (seq / "img1").mkdir(parents=True)
    (seq / "gt").mkdir()
    for frame in frames:
        pixels = np.full((*size, 3), frame * 40, dtype=np.uint8)
        Image.fromarray(pixels).save(seq / "img1" / f"{frame:06d}.jpg")
    (seq / "gt" / "gt.txt").write_text("".join(",".join(map(str, r)) + "\n" for r in gt_rows))
    return seq


def test_mot_filters_on_synthetic_gt(tmp_path):
    rows = []
    for frame in (1, 2, 3, 4, 5):  # frame 5 has no image
        rows += [
            [frame, 1, 10, 5, 12, 40, 1, 1, 1.0],  # kept
            [frame, 2, 30, 5, 12, 40, 1, 1, 0.1],  # too occluded
            [frame, 3, 30, 5, 12, 40, 0, 1, 1.0],  # not considered
            [frame, 4, 30, 5, 12, 40, 1, 3, 1.0],  # not a pedestrian (car)
            [frame, 5, 30, 5, 12, 20, 1, 1, 1.0],  # too small
            [frame, 6, -8, 30, 16, 40, 1, 1, 1.0],  # clipped to 8 x 30: width ok, height short
            [frame, 7, 70, 10, 30, 45, 1, 1, 0.5],  # clipped to 10 x 45: kept
        ]
    _synthetic_sequence(tmp_path / "data", rows)
    dataset = MOTReID(
        str(tmp_path / "data"), cache_dir=str(tmp_path / "cache"), test_ratio=0.0, verbose=False
    )
    assert dataset.num_train_pids == 2 and len(dataset.train) == 8
    assert dataset.query == [] and dataset.gallery == []
    sizes = {Path(p).stem.split("_")[0]: Image.open(p).size for p, *_ in dataset.train}
    assert sizes == {"000001": (12, 40), "000007": (10, 45)}

    strided = MOTReID(str(tmp_path / "data"), cache_dir=str(tmp_path / "cache"), test_ratio=0.0,
                      frame_stride=2, verbose=False)  # fmt: skip
    assert len(strided.train) == 4  # frames 1 and 3
    assert strided.crops_written == 0


def test_mot_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="(?s)does not exist.*gt/gt.txt"):
        MOTReID(str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="no sequence folder"):
        MOTReID(str(tmp_path))
    _synthetic_sequence(tmp_path, [[1, 1, 10, 5, 12, 40, 1, 1, 1.0]])
    with pytest.raises(ValueError, match="available"):
        MOTReID(str(tmp_path), sequences=["MOT17-02"], cache_dir=str(tmp_path / "c"))
    with pytest.raises(FileNotFoundError, match="no identity with >= 2 crops"):
        MOTReID(str(tmp_path), cache_dir=str(tmp_path / "c"))
    with pytest.raises(ValueError, match="min_visibility"):
        MOTReID(str(tmp_path), min_visibility=2.0)
    os.remove(tmp_path / "SEQ-01" / "gt" / "gt.txt")
    (tmp_path / "SEQ-01" / "gt" / "gt.txt").write_text("1,2,3\n")
    with pytest.raises(ValueError, match="6 columns"):
        MOTReID(str(tmp_path), cache_dir=str(tmp_path / "c"))


def test_mot_default_cache_is_under_the_package_home(tmp_path, monkeypatch):
    monkeypatch.setenv("STRONGSORT_REID_HOME", str(tmp_path / "home"))
    rows = [[f, 1, 10, 5, 12, 40, 1, 1, 1.0] for f in (1, 2)]
    _synthetic_sequence(tmp_path / "data", rows)
    dataset = MOTReID(str(tmp_path / "data"), sequences="SEQ-01", test_ratio=0.0, verbose=False)
    assert dataset.cache_dir == (tmp_path / "home" / "mot_reid_crops").resolve()
    assert all(Path(p).is_relative_to(dataset.cache_dir) for p, *_ in dataset.train)


def test_mot_unreadable_frame_is_skipped(tmp_path):
    rows = [[f, 1, 10, 5, 12, 40, 1, 1, 1.0] for f in (1, 2, 3, 4)]
    seq = _synthetic_sequence(tmp_path / "data", rows)
    (seq / "img1" / "000002.jpg").write_bytes(b"broken")
    dataset = MOTReID(str(tmp_path / "data"), cache_dir=str(tmp_path / "c"), test_ratio=0.0,
                      verbose=False)  # fmt: skip
    assert dataset.num_unreadable_frames == 1 and len(dataset.train) == 3


def test_mot_reads_the_frame_folder_and_size_from_seqinfo(tmp_path):
    rows = [[f, 1, 10, 5, 12, 40, 1, 1, 1.0] for f in (1, 2)]
    seq = _synthetic_sequence(tmp_path / "data", rows)
    (seq / "img1").rename(seq / "frames")
    for path in (seq / "frames").glob("*.jpg"):
        Image.open(path).save(path.with_suffix(".png"))
        path.unlink()
    # imWidth narrower than the frames: boxes are clipped to the size seqinfo.ini states.
    (seq / "seqinfo.ini").write_text(
        "[Sequence]\nname=SEQ-01\nimDir=frames\nframeRate=30\nseqLength=4\n"
        "imWidth=20\nimHeight=60\nimExt=.png\n"
    )
    dataset = MOTReID(str(tmp_path / "data"), cache_dir=str(tmp_path / "c"), test_ratio=0.0,
                      verbose=False)  # fmt: skip
    assert len(dataset.train) == 2
    assert {Image.open(p).size for p, *_ in dataset.train} == {(10, 40)}

    (seq / "seqinfo.ini").write_text("[Sequence]\nimDir=frames\n")  # not MOTChallenge's keys
    with pytest.raises(ValueError, match="seqinfo.ini"):
        MOTReID(str(tmp_path / "data"), cache_dir=str(tmp_path / "c"), verbose=False)
