"""``strongsort-track adapt`` end to end on the first 20 frames of a dev sequence (its det.txt,
one epoch at half resolution, no held-out validation): weights and report written, the weights
load where ReID weights are accepted, and a second run with the same seed writes identical
weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from shared_assets import shared_path

from strongsort_reid.utils.checkpoint import load_checkpoint
from trackers import StrongSORT
from trackers.app.cli import main

SEQ = "TUD-Campus"


def _adapt(output, seed: int = 3) -> int:
    seq = shared_path(f"data/mot/dev/{SEQ}")
    return main(
        ["adapt", "--source", str(seq), "--det-file", str(seq / "det" / "det.txt")]
        + ["--output", str(output), "--max-frames", "20", "--max-epochs", "1"]
        + ["--min-frames", "5", "--samples", "6", "--seed", str(seed), "--minutes", "1"]
        + ["--reid-backend", "torch", "--no-evaluate", "--quiet", "--holdout", "0"]
        + ["--set", "data.height=128", "data.width=64"]  # a quarter of the compute
    )


@pytest.fixture(scope="module")
def adapted(tmp_path_factory, shared_reid_home):
    output = tmp_path_factory.mktemp("adapt")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STRONGSORT_REID_HOME", str(shared_reid_home))
        assert _adapt(output) == 0
    return output


def test_adapt_writes_weights_crops_and_report(adapted):
    report = json.loads((adapted / "report.json").read_text())
    (round_,) = report["rounds"]
    mining = round_["mining"]
    assert mining["identities"] >= 2 and mining["negative_pairs"] >= 1
    crops = sorted((adapted / "round1" / "crops").glob("*/*.jpg"))
    assert mining["crops_written"] == len(crops) == mining["crops"]
    assert len({crop.parent.name for crop in crops}) == mining["identities"]
    assert round_["frames"] == 20
    assert {"detect", "embed", "track"} <= set(round_["tracking_stage_ms"])
    assert round_["tracking_seconds"] > 0 and round_["mining_seconds"] > 0
    assert report["comparison_seconds"] == 0  # --no-evaluate, no CUHK01
    (epoch,) = round_["epochs"]
    assert {"loss", "loss_t", "loss_d", "valid_triplets", "seconds"} <= set(epoch)
    assert report["weights"] == str(adapted / "osnet_x0_25_adapted.pth")
    assert report["tracking"] is None and report["wall_seconds"] > 0
    assert round_["validation"] is None and "held_out_identities" not in mining
    assert "pseudo-identities" in (adapted / "report.txt").read_text()


def test_adapted_weights_moved_and_load_in_the_tracker(adapted, reid_home):
    weights = adapted / "osnet_x0_25_adapted.pth"
    tuned = load_checkpoint(weights)["state_dict"]
    start = load_checkpoint(reid_home / "osnet_x0_25_msmt17.pth")
    start = start.get("state_dict", start)
    changed = [k for k in start if "classifier" not in k and not torch.equal(start[k], tuned[k])]
    assert changed, "fine-tuning changed no backbone weight"
    tracker = StrongSORT(reid_weights=weights)
    frame = np.zeros((240, 320, 3), dtype=np.uint8)
    dets = np.array([[10, 10, 60, 150, 0.9, 0], [200, 20, 260, 180, 0.8, 0]], dtype=np.float32)
    tracker.update(dets, frame)
    embedding = tracker.embedder.from_frame(frame, dets[:, :4])
    assert np.asarray(embedding).shape == (2, 512)


def test_same_seed_gives_identical_weights(adapted, tmp_path, reid_home):
    assert _adapt(tmp_path) == 0
    first = load_checkpoint(adapted / "osnet_x0_25_adapted.pth")["state_dict"]
    second = load_checkpoint(tmp_path / "osnet_x0_25_adapted.pth")["state_dict"]
    assert first.keys() == second.keys()
    assert all(torch.equal(first[key], second[key]) for key in first)


def test_too_short_a_source_is_a_user_error(tmp_path, reid_home, capsys):
    seq = shared_path(f"data/mot/dev/{SEQ}")
    status = main(
        ["adapt", "--source", str(seq), "--det-file", str(seq / "det" / "det.txt")]
        + ["--output", str(tmp_path), "--max-frames", "3", "--reid-backend", "torch", "--quiet"]
    )
    assert status == 2
    assert "pseudo-identities" in capsys.readouterr().err
