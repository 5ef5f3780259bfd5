"""Hostile inputs to ``eval-mot``: one clear ``ValueError``/``FileNotFoundError``, never a score of
0.00 with exit 0 nor a TrackEval traceback (issue #17, cases 7 and 8).

The sequences are made here (5 frames, 2 people), so these tests need no shared data.
"""

import numpy as np
import pytest

from strongsort_reid.utils.motchallenge import write_results
from trackers.motchallenge.commands import eval_mot
from trackers.motchallenge.evaluation import evaluate_mot

pytest.importorskip("trackeval")

SEQINFO = (
    "[Sequence]\nname=SEQ\nimDir=img1\nframeRate=30\nseqLength={length}\n"
    "imWidth=640\nimHeight=480\nimExt=.jpg\n"
)


def _gt_rows():
    """``(10, 9)`` gt rows: ids 1 and 2 walking right over frames 1..5."""
    rows = []
    for frame in range(1, 6):
        for track_id, y in ((1, 50.0), (2, 250.0)):
            rows.append([frame, track_id, 10.0 * frame, y, 40.0, 100.0, 1, 1, 1.0])
    return np.array(rows)


def _sequence(root, length=5, gt=None):
    """A sequence ``root/gt/SEQ`` and its perfect results ``root/results/SEQ.txt``."""
    seq = root / "gt" / "SEQ"
    (seq / "gt").mkdir(parents=True)
    (seq / "seqinfo.ini").write_text(SEQINFO.format(length=length))
    gt = _gt_rows() if gt is None else gt
    lines = [",".join(f"{v:g}" for v in row) for row in gt]
    (seq / "gt" / "gt.txt").write_text("\n".join(lines) + "\n")
    results = np.full((len(gt), 10), -1.0)
    results[:, :6], results[:, 6] = gt[:, :6], 1.0
    write_results(root / "results" / "SEQ.txt", results)
    return root / "gt", root / "results"


def test_the_synthetic_sequence_scores_100(tmp_path):
    gt_root, results = _sequence(tmp_path)
    scores = evaluate_mot(gt_root, results)
    assert scores["SEQ"]["HOTA"] == pytest.approx(100.0) and scores["SEQ"]["frames"] == 5


@pytest.mark.parametrize("length", [0, -3])
def test_non_positive_seq_length_is_an_error_not_a_zero_score(tmp_path, capsys, length):
    gt_root, results = _sequence(tmp_path, length=length)
    with pytest.raises(ValueError, match=r"seqinfo\.ini: seqLength must be in 1\.\.1000000"):
        eval_mot.main(["--gt-root", str(gt_root), "--results", str(results)])
    assert "0.00" not in capsys.readouterr().out


def test_missing_gt_root_is_one_file_not_found_line(tmp_path):
    (tmp_path / "results").mkdir()
    argv = ["--gt-root", str(tmp_path / "nowhere"), "--results", str(tmp_path / "results")]
    with pytest.raises(FileNotFoundError, match="gt_root folder not found") as info:
        eval_mot.main(argv)
    assert "\n" not in str(info.value)


def test_duplicate_ids_in_one_gt_frame_name_the_line(tmp_path):
    gt = _gt_rows()
    gt[3, 1] = 1  # frame 2 now holds id 1 twice (lines 3 and 4)
    gt_root, results = _sequence(tmp_path, gt=gt)
    gt_file = gt_root / "SEQ" / "gt" / "gt.txt"
    with pytest.raises(ValueError, match=rf"{gt_file}:4: second box of id 1 in frame 2"):
        evaluate_mot(gt_root, results)


def test_duplicate_ids_in_one_results_frame_name_the_line(tmp_path):
    gt_root, results = _sequence(tmp_path)
    path = results / "SEQ.txt"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, lines[0]]) + "\n")
    with pytest.raises(ValueError, match=rf"{path}:11: second box of id 1 in frame 1"):
        eval_mot.main(["--gt-root", str(gt_root), "--results", str(results)])


def test_nan_in_results_names_the_line(tmp_path):
    gt_root, results = _sequence(tmp_path)
    path = results / "SEQ.txt"
    lines = path.read_text().splitlines()
    lines[2] = "2,1,nan,50,40,100,1,-1,-1,-1"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"{path}:3: values must not be NaN or inf"):
        evaluate_mot(gt_root, results)


def test_what_trackeval_rejects_is_a_value_error_without_traceback(tmp_path, capfd):
    gt = _gt_rows()
    gt[:, 7] = 99  # no such MOTChallenge class
    gt_root, results = _sequence(tmp_path, gt=gt)
    with pytest.raises(ValueError, match="TrackEval cannot evaluate .*invalid gt classes"):
        evaluate_mot(gt_root, results)
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err
