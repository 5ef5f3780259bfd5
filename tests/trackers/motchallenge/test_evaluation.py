"""TrackEval-based MOT evaluation on the shared MOT17-mini (gt covers only the first frames)."""

import shutil

import numpy as np
import pytest
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import read_gt, write_results
from trackers import StrongSORT
from trackers.motchallenge.evaluation import (
    evaluate_mot,
    evaluated_length,
    find_sequences,
    format_table,
)
from trackers.motchallenge.runs import track_sequence

pytest.importorskip("trackeval")

SEQS = ["MOT17-04-FRCNN", "MOT17-09-FRCNN"]


@pytest.fixture(scope="module")
def mot_root():
    return shared_path("data/mot/MOT17-mini/train")


def _gt_as_results(seq_dir, swap_after=None):
    gt = read_gt(seq_dir / "gt" / "gt.txt")
    gt = gt[(gt[:, 6] == 1) & (gt[:, 7] == 1)]
    rows = np.full((len(gt), 10), -1.0)
    rows[:, :6] = gt[:, :6]
    rows[:, 6] = 1.0
    if swap_after is not None:
        ids = np.unique(rows[:, 1])[:2]
        late = rows[:, 0] > swap_after
        first, second = late & (rows[:, 1] == ids[0]), late & (rows[:, 1] == ids[1])
        rows[first, 1], rows[second, 1] = ids[1], ids[0]
    return rows


def test_perfect_results_score_100(mot_root, tmp_path):
    for name in SEQS:
        write_results(tmp_path / f"{name}.txt", _gt_as_results(mot_root / name))
    scores = evaluate_mot(mot_root, tmp_path, SEQS)
    assert set(scores) == {*SEQS, "COMBINED"}
    for row in scores.values():
        for metric in ("HOTA", "DetA", "AssA", "MOTA", "IDF1"):
            assert row[metric] == pytest.approx(100.0)
        assert row["IDSW"] == 0
    assert scores["MOT17-04-FRCNN"]["frames"] == 8
    assert "HOTA" in format_table(scores)


def test_identity_swap_and_frames_beyond_gt(mot_root, tmp_path):
    name = "MOT17-04-FRCNN"
    rows = _gt_as_results(mot_root / name, swap_after=4)
    # Boxes in frames without ground truth (9..1050) are outside the evaluated range.
    late = rows[rows[:, 0] == 8].copy()
    late[:, 0] = 500
    write_results(tmp_path / f"{name}.txt", np.vstack([rows, late]))
    scores = evaluate_mot(mot_root, tmp_path, [name])[name]
    assert scores["IDSW"] >= 2 and scores["IDF1"] < 100 and scores["MOTA"] < 100
    assert scores["DetA"] == pytest.approx(100.0)
    assert evaluated_length(mot_root / name) == 8
    assert evaluated_length(mot_root / name, "seqinfo") == 1050
    full = evaluate_mot(mot_root, tmp_path, [name], frames="seqinfo")[name]
    assert full["frames"] == 1050 and full["MOTA"] < scores["MOTA"]  # frame 500 is now an FP


def test_sequence_selection_and_errors(mot_root, tmp_path):
    write_results(tmp_path / "MOT17-09-FRCNN.txt", _gt_as_results(mot_root / "MOT17-09-FRCNN"))
    names, missing = find_sequences(mot_root, tmp_path)
    assert names == ["MOT17-09-FRCNN"] and len(missing) == 6
    with pytest.warns(UserWarning, match="no results"):
        assert set(evaluate_mot(mot_root, tmp_path)) == {"MOT17-09-FRCNN", "COMBINED"}
    with pytest.raises(FileNotFoundError, match="no results for MOT17-02"):
        evaluate_mot(mot_root, tmp_path, ["MOT17-02-FRCNN"])
    with pytest.raises(FileNotFoundError, match="results"):
        evaluate_mot(mot_root, tmp_path / "nothing")
    with pytest.raises(ValueError, match="frames"):
        evaluated_length(mot_root / "MOT17-09-FRCNN", "all")


def test_tracker_output_is_scored(mot_root, tmp_path):
    """StrongSORT on det.txt with (random) precomputed features, then TrackEval."""
    seq_dir = tmp_path / "gt" / "MOT17-05-FRCNN"
    shutil.copytree(mot_root / "MOT17-05-FRCNN", seq_dir, ignore=shutil.ignore_patterns("img1"))
    count = sum(1 for _ in open(seq_dir / "det" / "det.txt"))
    features = tmp_path / "feats.npy"
    np.save(features, np.random.default_rng(0).standard_normal((count, 32)).astype(np.float32))
    tracker = StrongSORT(n_init=1)
    rows = track_sequence(seq_dir, tracker, features)
    assert tracker.stats["frames"] == 837 and rows[:, 0].max() <= 837
    write_results(tmp_path / "results" / "MOT17-05-FRCNN.txt", rows)
    scores = evaluate_mot(tmp_path / "gt", tmp_path / "results")
    assert 20 < scores["COMBINED"]["HOTA"] <= 100 and scores["COMBINED"]["frames"] == 6


def test_mot15_style_dev_sequences_are_scored(tmp_path):
    """MOT15 ground truth (10 columns, world coordinates instead of class/visibility) counts
    every row as a pedestrian; its own boxes as results score 100."""
    dev = shared_path("data/mot/dev")
    for name in ("TUD-Campus", "PETS09-S3MF1"):
        gt = read_gt(dev / name / "gt" / "gt.txt")
        rows = np.full((gt.shape[0], 10), -1.0)
        rows[:, :6], rows[:, 6] = gt[:, :6], 1.0
        write_results(tmp_path / f"{name}.txt", rows)
    scores = evaluate_mot(dev, tmp_path)
    assert scores["TUD-Campus"]["frames"] == 71 and scores["PETS09-S3MF1"]["frames"] == 107
    for row in scores.values():
        assert row["HOTA"] == pytest.approx(100.0) and row["IDSW"] == 0
