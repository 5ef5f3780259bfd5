"""The development benchmark: cache once, replay exactly, score, tune (on TUD-Campus, 71 frames)."""

from __future__ import annotations

import argparse
import sys

import cv2
import numpy as np
import pytest
import yaml
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import tracks_to_rows
from trackers import StrongSORT, StrongSORTConfig
from trackers.motchallenge.commands import bench, tune
from trackers.motchallenge.devcache import tracked_frames
from trackers.motchallenge.replay import MEAN, replay, score_config

pytest.importorskip("trackeval")
SEQ = "TUD-Campus"


@pytest.fixture(scope="module")
def dev_root():
    return shared_path("data/mot/dev")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("bench-cache")


@pytest.fixture(scope="module")
def sequences(dev_root, cache, shared_reid_home):
    args = argparse.Namespace(
        mot_root=dev_root,
        seqs=[SEQ],
        det_file=False,
        yolo_model=str(shared_path("data/detectors/yolov8n_int8.onnx")),
        reid_model="osnet_x0_25_msmt17",
        conf_floor=0.1,
        cache=cache,
        quiet=True,
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STRONGSORT_REID_HOME", str(shared_reid_home))
        return bench.load_sequences(args, lambda _m: None)


def test_the_cache_holds_every_frame_box_and_warp(sequences):
    (sequence,) = sequences
    assert sequence.frames == 71 and sequence.warps.shape == (71, 2, 3)
    assert sequence.dets.shape[0] == sequence.embs.shape[0] > 71 * 3
    assert sequence.dets[:, 4].min() >= 0.1
    np.testing.assert_allclose(np.linalg.norm(sequence.embs, axis=1), 1.0, atol=1e-4)
    assert sequence.warp_ok[1:].mean() > 0.9 and not sequence.warp_ok[0]


def test_replay_equals_tracking_the_frames_live(sequences, dev_root):
    """Cached camera motion and embeddings give exactly the live tracker's output."""
    (sequence,) = sequences
    config = StrongSORTConfig()  # cmc="ecc": the live run estimates ECC on the frames
    rows, ms = replay(sequence, config)
    live = StrongSORT(config=config)
    expected = []
    for number, path in tracked_frames(dev_root / SEQ).items():
        dets, embs = sequence.frame(number)
        tracks = live.update(dets, cv2.imread(str(path)), embs)
        expected.append(tracks_to_rows(number, tracks))
    np.testing.assert_array_equal(rows, np.concatenate(expected))
    assert 0 < ms < 50


def test_scores_and_the_ablation_table(sequences, dev_root, cache, capsys):
    scores = score_config(sequences, StrongSORTConfig(), dev_root)
    assert set(scores) == {SEQ, MEAN} and 40 < scores[SEQ]["HOTA"] < 80
    argv = ["--mot-root", str(dev_root), "--seqs", SEQ, "--cache", str(cache), "--quiet"]
    argv += ["--yolo-model", str(shared_path("data/detectors/yolov8n_int8.onnx"))]
    assert bench.main([*argv, "--ablation-table"]) == 0
    table = capsys.readouterr().out.splitlines()
    labels = [line.split("|")[1].strip() for line in table[2:]]
    assert labels == ["DeepSORT", "+BoT", "+ECC", "+NSA", "+EMA", "+MC", "+woC", "config"]
    assert bench.main([*argv, "--set", "no_such_key=1"]) == 2


def test_tune_starts_from_the_config_is_seeded_and_writes_a_loadable_yaml(
    sequences, dev_root, cache, tmp_path, capsys
):
    argv = ["--mot-root", str(dev_root), "--seqs", SEQ, "--cache", str(cache), "--quiet"]
    argv += ["--yolo-model", str(shared_path("data/detectors/yolov8n_int8.onnx"))]
    argv += ["--trials", "6", "--fix", "cmc=null", "max_age=40"]
    assert tune.main([*argv, "--output", str(tmp_path / "a.yaml")]) == 0
    first = capsys.readouterr().out
    assert tune.main([*argv, "--output", str(tmp_path / "b.yaml")]) == 0
    second = capsys.readouterr().out
    assert (
        second.split("best (trial")[1].split("wrote")[0]
        == first.split("best (trial")[1].split("wrote")[0]
    )
    config = StrongSORTConfig.from_yaml(tmp_path / "a.yaml")
    assert config.cmc is None and config.max_age == 40
    rows = {line.split("|")[1].strip(): line for line in first.splitlines() if "|" in line}
    start_hota = float(rows["start"].split("|")[-5])
    best_hota = float(rows["best"].split("|")[-5])
    assert best_hota >= start_hota
    assert yaml.safe_load((tmp_path / "a.yaml").read_text())["max_age"] == 40


def test_pareto_front_and_missing_optuna(sequences, dev_root, monkeypatch, capsys):
    from trackers.motchallenge.tune import tune as run_tune

    result = run_tune(sequences, dev_root, StrongSORTConfig(cmc=None), 4, "pareto", seed=1)
    assert result.front and result.best is result.front[0]
    monkeypatch.setitem(sys.modules, "optuna", None)
    with pytest.raises(ImportError, match="strongsort-reid\\[tune\\]"):
        run_tune(sequences, dev_root, StrongSORTConfig(), 2)
