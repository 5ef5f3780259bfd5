"""MOTChallenge I/O: seqinfo, det.txt + features, gt, results round trip."""

import os

import numpy as np
import pytest
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import (
    MOTDetections,
    image_paths,
    list_sequences,
    read_gt,
    read_results,
    read_seqinfo,
    tracks_to_rows,
    write_results,
)


@pytest.fixture(scope="module")
def mot_root():
    return shared_path("data/mot/MOT17-mini/train")


def test_reads_the_shared_sequences(mot_root):
    sequences = list_sequences(mot_root)
    assert len(sequences) == 7
    seq = mot_root / "MOT17-04-FRCNN"
    info = read_seqinfo(seq)
    assert (info.name, info.seq_length, info.im_width, info.im_height) == (
        "MOT17-04-FRCNN",
        1050,
        1920,
        1080,
    )
    assert info.frame_rate == 30 and info.im_ext == ".jpg"
    assert list(image_paths(seq, info)) == list(range(1, 9))
    dets = MOTDetections(seq / "det" / "det.txt")
    assert dets.last_frame == 1050 and dets.features is None
    boxes, features = dets.frame(1)
    assert boxes.shape[1] == 6 and features is None and len(boxes) > 10
    assert np.all(boxes[:, 2] > boxes[:, 0]) and np.all(boxes[:, 5] == 0)
    gt = read_gt(seq / "gt" / "gt.txt")
    assert gt.shape[1] == 9 and gt[:, 0].max() == 8


def test_detections_sorted_by_frame_with_aligned_features(tmp_path):
    det = tmp_path / "det.txt"
    det.write_text("3,-1,10,20,30,40,0.9\n1,-1,0,0,5,5,0.5\n3,-1,1,2,3,4,0.8\n")
    features = np.arange(3 * 4, dtype=np.float32).reshape(3, 4)
    np.save(tmp_path / "f.npy", features)
    dets = MOTDetections(det, tmp_path / "f.npy")
    boxes, feats = dets.frame(3)
    np.testing.assert_allclose(boxes[:, :5], [[10, 20, 40, 60, 0.9], [1, 2, 4, 6, 0.8]])
    np.testing.assert_array_equal(feats, features[[0, 2]])
    boxes, feats = dets.frame(2)
    assert boxes.shape == (0, 6) and feats.shape == (0, 4)
    np.save(tmp_path / "bad.npy", features[:2])
    with pytest.raises(ValueError, match="shape"):
        MOTDetections(det, tmp_path / "bad.npy")
    with pytest.raises(FileNotFoundError, match="features"):
        MOTDetections(det, tmp_path / "none.npy")


def test_results_round_trip(tmp_path):
    tracks = np.array([[10.0, 20.0, 40.0, 80.0, 7, 0.5, 0, 3], [0, 0, 5, 5, 2, 1.0, 0, -1]])
    rows = np.vstack([tracks_to_rows(2, tracks), tracks_to_rows(1, tracks[:1])])
    path = write_results(tmp_path / "sub" / "seq.txt", rows)
    text = path.read_text().splitlines()
    assert text[0] == "1,7,10.00,20.00,30.00,60.00,0.50,-1,-1,-1"
    assert [line.split(",")[:2] for line in text] == [["1", "7"], ["2", "2"], ["2", "7"]]
    back = read_results(path)
    assert back.shape == (3, 10)
    np.testing.assert_allclose(back[2, :7], [2, 7, 10, 20, 30, 60, 0.5])
    assert os.listdir(tmp_path / "sub") == ["seq.txt"]  # no temporary file left behind


def test_write_is_atomic_on_failure(tmp_path):
    path = tmp_path / "seq.txt"
    write_results(path, tracks_to_rows(1, np.array([[0, 0, 1, 1, 1, 1.0]])))
    before = path.read_text()
    with pytest.raises(ValueError, match="NaN"):
        write_results(path, np.full((1, 10), np.nan))
    assert path.read_text() == before
    empty = write_results(tmp_path / "empty.txt", np.empty((0, 10)))
    assert empty.read_text() == "" and read_results(empty).shape == (0, 10)


def test_bad_files_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="seqinfo"):
        read_seqinfo(tmp_path)
    (tmp_path / "seqinfo.ini").write_text("[Sequence]\nname=x\nframeRate=abc\n")
    with pytest.raises(ValueError, match="seqinfo|invalid"):
        read_seqinfo(tmp_path)
    (tmp_path / "det.txt").write_text("1,-1,0,0\n")
    with pytest.raises(ValueError, match="columns"):
        MOTDetections(tmp_path / "det.txt")
    (tmp_path / "det.txt").write_text("1,-1,a,b,c,d,e\n")
    with pytest.raises(ValueError, match="numeric"):
        MOTDetections(tmp_path / "det.txt")
    with pytest.raises(FileNotFoundError, match="ground-truth"):
        read_gt(tmp_path / "gt.txt")
    with pytest.raises(FileNotFoundError):
        list_sequences(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="tracks"):
        tracks_to_rows(1, np.zeros((2, 3)))


def test_the_tools_package_re_exports_the_one_reader_and_writer():
    import strongsort_reid.utils.motchallenge as formats
    import trackers.motchallenge as tools

    for name in tools.__all__:
        assert getattr(tools, name) is getattr(formats, name)


def test_ground_truth_with_fewer_columns_is_filled_with_ones(tmp_path):
    path = tmp_path / "gt.txt"
    path.write_text("1,1,10,20,30,40\n2,1,11,21,30,40\n", encoding="utf-8")
    rows = read_gt(path)
    assert rows.shape == (2, 9)
    np.testing.assert_array_equal(rows[0], [1, 1, 10, 20, 30, 40, 1, 1, 1])
    path.write_text("2,1,11,21,30,40,0,7\n", encoding="utf-8")
    np.testing.assert_array_equal(read_gt(path)[0, 6:], [0, 7, 1])
    path.write_text("1,1,10,20,30\n", encoding="utf-8")
    with pytest.raises(ValueError, match="at least 6 columns"):
        read_gt(path)


def test_mot15_ground_truth_rows_are_pedestrians(tmp_path):
    path = tmp_path / "gt.txt"
    rows = "1,1,399,182,121,229,1,-1,-1,-1\n1,2,282,201,92,184,0,-1,-1,-1\n"
    path.write_text(rows, encoding="utf-8")
    rows = read_gt(path)
    np.testing.assert_array_equal(rows[:, 6:], [[1, 1, 1], [0, 1, 1]])


def test_the_dev_sequences_ground_truth_is_all_pedestrians():
    for name in ("TUD-Campus", "PETS09-S3MF1"):
        rows = read_gt(shared_path(f"data/mot/dev/{name}/gt/gt.txt"))
        assert rows.shape[0] > 300 and (rows[:, 7] == 1).all() and (rows[:, 8] == 1).all()
