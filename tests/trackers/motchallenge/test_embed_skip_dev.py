"""``embed_skip`` on a real sequence: fewer crops embedded, the same identities (TUD-Campus,
public detections, the shared OSNet x0.25 on the real frames)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from shared_assets import shared_path

from strongsort_reid.inference import build_extractor
from strongsort_reid.utils.motchallenge import MOTDetections, tracks_to_rows, write_results
from trackers import StrongSORT
from trackers.app.loop import embed_tracked
from trackers.motchallenge.devcache import tracked_frames
from trackers.motchallenge.evaluation import evaluate_mot

pytest.importorskip("trackeval")
SEQ = "TUD-Campus"


def track(seq_dir, tracker, embs_of):
    """MOT rows of ``tracker`` over the sequence, ``embs_of(number, dets, image)`` giving the
    ``embs`` of each frame."""
    detections, rows = MOTDetections(seq_dir / "det" / "det.txt"), []
    for number, path in tracked_frames(seq_dir).items():
        dets, image = detections.frame(number)[0], cv2.imread(str(path))
        tracks = tracker.update(dets, image, embs_of(number, dets, image))
        rows.append(tracks_to_rows(number, tracks))
    return np.concatenate(rows)


def test_embed_skip_embeds_fewer_crops_and_keeps_the_identities(tmp_path):
    seq_dir = shared_path(f"data/mot/dev/{SEQ}")
    extractor = build_extractor(
        shared_path("data/reid/osnet_x0_25_msmt17.pth"), device="cpu", backend="torch"
    )
    embedded = {}

    def embed_all(number, dets, image):  # the demo's embed stage, every tracked row
        embedded[number] = embed_tracked(extractor, everything, image, dets)
        return embedded[number]

    # The paper's life cycle (tentative births in frame 1 too), on which the 10% bar below was
    # set: 306 of 342 crops; with confirm_first_frame 311 of 342, the same identities.
    everything = StrongSORT(cmc=None, embed_skip=False, confirm_first_frame=False)
    skipping = StrongSORT(cmc=None, embed_skip=True, confirm_first_frame=False)
    results = {
        "all": track(seq_dir, everything, embed_all),
        # The same crops' embeddings: the tracker reads only the rows it needs.
        "skip": track(seq_dir, skipping, lambda number, _dets, _image: embedded[number]),
    }
    scores = {}
    for name, rows in results.items():
        write_results(tmp_path / name / f"{SEQ}.txt", rows)
        scores[name] = evaluate_mot(seq_dir.parent, tmp_path / name, [SEQ])[SEQ]
    crops = {name: t.stats["embedded"] for name, t in (("all", everything), ("skip", skipping))}
    assert skipping.stats["embedded"] + skipping.stats["reused"] == crops["all"] > 300
    assert crops["skip"] < 0.9 * crops["all"]
    assert abs(scores["skip"]["IDF1"] - scores["all"]["IDF1"]) <= 1.0
    assert scores["skip"]["IDSW"] <= scores["all"]["IDSW"]
