"""The post-processing chain: parsing, order, files, and its use by track-mot and bench."""

import numpy as np
import pytest
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import MOTDetections, read_results, write_results
from trackers import StrongSORTConfig
from trackers.app.cli import main
from trackers.motchallenge.commands import track_mot
from trackers.motchallenge.commands.bench import Postprocessing
from trackers.motchallenge.devcache import CachedSequence
from trackers.motchallenge.postprocess import DetectionFeatures, apply_postprocess, parse_steps
from trackers.motchallenge.replay import MEAN, score_config

SEQ = "TUD-Campus"


def walk(identity, frames, x0, speed=2.0):
    frames = np.asarray(list(frames), dtype=float)
    rows = np.full((frames.size, 10), -1.0)
    rows[:, 0], rows[:, 1] = frames, identity
    rows[:, 2], rows[:, 3] = x0 + speed * (frames - frames[0]), 100.0
    rows[:, 4], rows[:, 5], rows[:, 6] = 60.0, 120.0, 1.0
    return rows


def as_detections(rows, embeddings):
    boxes = np.concatenate([rows[:, 2:4], rows[:, 2:4] + rows[:, 4:6]], axis=1)
    return DetectionFeatures(rows[:, 0], boxes, embeddings)


@pytest.mark.parametrize(
    "text, steps",
    [
        ("aflink,gsi", ("aflink", "gsi")),
        (" GSI , link ", ("gsi", "link")),
        ("none", ()),
        ("", ()),
        (None, ()),
        (["link"], ("link",)),
    ],
)
def test_parse_steps(text, steps):
    assert parse_steps(text) == steps


@pytest.mark.parametrize("text, message", [("gsi,magic", "unknown"), ("gsi,gsi", "repeat")])
def test_parse_steps_rejects_bad_chains(text, message):
    with pytest.raises(ValueError, match=message):
        parse_steps(text)


def test_the_order_of_the_steps_matters_and_files_are_read_and_written(tmp_path):
    # one person broken into ids 1 and 2 by a 5-frame gap
    rows = np.concatenate([walk(1, range(1, 21), 0), walk(2, range(26, 41), 50)])
    features = as_detections(rows, np.tile([1.0, 0.0, 0.0], (len(rows), 1)))
    source = write_results(tmp_path / "in.txt", rows)
    linked_then_filled = apply_postprocess(
        source, "link,gsi", features, frame_rate=25, destination=tmp_path / "out.txt"
    )
    assert np.unique(linked_then_filled[:, 1]).tolist() == [1]
    assert len(linked_then_filled) == len(rows) + 5  # the gap is interpolated
    np.testing.assert_allclose(read_results(tmp_path / "out.txt"), linked_then_filled, atol=0.01)
    filled_then_linked = apply_postprocess(rows, ["gsi", "link"], features, frame_rate=25)
    assert np.unique(filled_then_linked[:, 1]).tolist() == [1]
    assert len(filled_then_linked) == len(rows)  # GSI saw two ids: nothing to fill
    with pytest.raises(ValueError, match="needs features"):
        apply_postprocess(rows, "link")
    np.testing.assert_array_equal(apply_postprocess(rows, "none"), rows)


@pytest.fixture(scope="module")
def dev_root():
    return shared_path("data/mot/dev")


def test_track_mot_runs_the_whole_chain(dev_root, tmp_path, capsys):
    count = len(MOTDetections(dev_root / SEQ / "det" / "det.txt").frames)
    features = tmp_path / "features"
    features.mkdir()
    rng = np.random.default_rng(0)
    np.save(features / f"{SEQ}.npy", rng.standard_normal((count, 8)).astype(np.float32))
    argv = ["track-mot", "--mot-root", str(dev_root), "--seqs", SEQ, "--quiet"]
    argv += ["--features-dir", str(features), "--set", "cmc=null"]
    argv += ["--output", str(tmp_path / "post")]
    assert main([*argv, "--postprocess", "aflink,link,gsi"]) == 0
    post = read_results(tmp_path / "post" / f"{SEQ}.txt")
    assert post[:, 0].max() <= 71 and len(np.unique(post[:, 1])) >= 2
    assert len(np.unique(post[:, :2], axis=0)) == len(post)  # one box per id and frame
    with pytest.raises(SystemExit):
        track_mot.parse_args([*argv[1:], "--postprocess", "aflink,magic"])
    assert "unknown post-processing step" in capsys.readouterr().err


def test_bench_scoring_with_a_chain_matches_the_plain_scores(dev_root):
    pytest.importorskip("trackeval")
    detections = MOTDetections(dev_root / SEQ / "det" / "det.txt")
    frames = 71
    keep = detections.frames <= frames
    rng = np.random.default_rng(1)
    embs = rng.standard_normal((int(keep.sum()), 8)).astype(np.float32)
    sequence = CachedSequence(
        name=SEQ,
        seq_dir=dev_root / SEQ,
        frames=frames,
        det_frames=detections.frames[keep],
        dets=detections.boxes[keep].astype(np.float32),
        embs=embs / np.linalg.norm(embs, axis=1, keepdims=True),
        warps=np.repeat(np.eye(2, 3)[None], frames, axis=0),
        warp_ok=np.zeros(frames, dtype=bool),
    )
    config = StrongSORTConfig(cmc=None)
    post = Postprocessing([sequence], None)
    plain = post.score(config, dev_root, ())
    expected = score_config([sequence], config, dev_root)
    for column in ("HOTA", "IDF1", "IDSW"):
        assert plain[SEQ][column] == expected[SEQ][column]
    chained = post.score(config, dev_root, ("aflink", "link", "gsi"))
    assert set(chained) == {SEQ, MEAN} and 20 < chained[MEAN]["HOTA"] < 90


class BoxEmbedder:
    """Embeds each box by its position (and checks it receives a real BGR frame)."""

    def from_frame(self, frame, boxes):
        assert frame.ndim == 3 and frame.shape[2] == 3
        return np.c_[boxes[:, :2], np.ones(len(boxes))].astype(np.float32)


def test_track_mot_link_features_from_the_embedder_on_the_result_boxes(dev_root):
    rows = np.concatenate([walk(1, [1, 2, 3], 10), walk(2, [2, 3], 300)])
    tracker = type("Tracker", (), {"embedder": BoxEmbedder()})()
    features = track_mot.link_features(rows, dev_root / SEQ, None, tracker)
    found = features.for_rows(rows)
    expected = np.c_[rows[:, 2:4], np.ones(len(rows))]
    np.testing.assert_allclose(found, expected / np.linalg.norm(expected, axis=1, keepdims=True))


def test_gsi_turns_on_bytes_low_confidence_stage_but_ablation_steps_stay_the_paper():
    from argparse import Namespace

    from trackers.motchallenge.commands.bench import configured
    from trackers.motchallenge.postprocess import tracker_settings
    from trackers.strongsort.config import DEFAULT_CONFIG_PATH, ablation_overrides

    assert tracker_settings(parse_steps("aflink")) == {}
    settings = tracker_settings(parse_steps("aflink,gsi"))
    assert settings == {"output_predicted": 0, "low_conf": 0.1, "low_max_iou_dist": 0.5}
    args = Namespace(config=DEFAULT_CONFIG_PATH, ablation=None, set=["low_max_iou_dist=0.3"])
    config = configured(args, chain=("gsi",))
    assert (config.low_conf, config.output_predicted, config.low_max_iou_dist) == (0.1, 0, 0.3)
    paper = configured(args, step="+woC", chain=("gsi",))
    assert paper == StrongSORTConfig(**ablation_overrides("+woC"), low_max_iou_dist=0.3)
