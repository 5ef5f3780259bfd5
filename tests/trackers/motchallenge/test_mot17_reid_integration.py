"""End to end on MOT17-mini: public detections, OSNet-x0.25 (MSMT17) embeddings from the
FeatureExtractor on the real frames, ECC on, then TrackEval scores."""

import pytest
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import write_results
from trackers import StrongSORT
from trackers.motchallenge.evaluation import evaluate_mot
from trackers.motchallenge.runs import track_sequence

pytest.importorskip("trackeval")
pytest.importorskip("torch")  # the FeatureExtractor

SEQS = ["MOT17-04-FRCNN", "MOT17-09-FRCNN"]


def test_tracks_mot17_mini_with_osnet_features_and_scores(tmp_path):
    mot_root = shared_path("data/mot/MOT17-mini/train")
    weights = shared_path("data/reid/osnet_x0_25_msmt17.pth")
    # The architecture is inferred from the registered weight name (the file stem).
    tracker = StrongSORT(reid_weights=weights, device="cpu")
    for name in SEQS:
        tracker.reset()
        rows = track_sequence(mot_root / name, tracker)
        frames = tracker.stats["frames"]
        assert frames == len(list((mot_root / name / "img1").glob("*.jpg")))
        assert tracker.stats["cmc_failures"] == 0
        # People in view in frame 1 are confirmed at once (confirm_first_frame).
        assert rows.shape[0] > 0 and rows[:, 0].min() == 1
        write_results(tmp_path / f"{name}.txt", rows)
    scores = evaluate_mot(mot_root, tmp_path, SEQS)
    combined = scores["COMBINED"]
    # Later births output only from their n_init-th hit, so scores are modest; a broken
    # pipeline (wrong boxes, unstable identities) scores far lower.
    assert combined["DetA"] > 25 and combined["AssA"] > 50 and combined["IDSW"] <= 5
