"""The demo's --postprocess: offline steps on the saved MOT text into <name>_post.txt, the
online file kept as it was; link (which needs every detection's embedding) refused."""

from __future__ import annotations

import argparse

import numpy as np
import pytest
from shared_assets import shared_path

from strongsort_reid.utils.motchallenge import read_results, write_results
from trackers.app.cli import main
from trackers.app.offline import parse_chain, post_path, postprocess_results


def test_parse_chain_accepts_aflink_and_gsi_and_refuses_link_and_unknown_steps():
    assert parse_chain("aflink,gsi") == ("aflink", "gsi")
    assert parse_chain("none") == ()
    with pytest.raises(argparse.ArgumentTypeError, match="track-mot --postprocess link"):
        parse_chain("link,gsi")
    with pytest.raises(argparse.ArgumentTypeError, match="unknown post-processing step"):
        parse_chain("gsi,smooth")


def test_gsi_fills_the_gap_of_a_results_file_into_the_post_file(tmp_path):
    frames = [1, 2, 3, 7, 8]  # frames 4-6 missed
    rows = np.array([[f, 1, 10.0 * f, 20, 30, 60, 1, -1, -1, -1] for f in frames])
    results = write_results(tmp_path / "cam.txt", rows)
    written = postprocess_results(results, ("gsi",))
    assert written == post_path(results) == tmp_path / "cam_post.txt"
    post = read_results(written)
    assert post[:, 0].tolist() == list(range(1, 9))
    np.testing.assert_allclose(post[3:6, 2], [40, 50, 60], atol=1.0)  # along the motion
    np.testing.assert_array_equal(read_results(results), rows)  # the online file is kept


def test_demo_writes_the_post_processed_results_beside_the_online_ones(tmp_path, reid_home):
    seq = shared_path("data/mot/MOT17-mini/train/MOT17-04-FRCNN")
    out = tmp_path / "mot"
    argv = ["--source", str(seq), "--det-file", str(seq / "det" / "det.txt"), "--no-save"]
    argv += ["--postprocess", "aflink,gsi", "--output", str(out), "--device", "cpu", "--quiet"]
    assert main(argv) == 0
    online, post = (read_results(out / name) for name in ("MOT17-04-FRCNN.txt",
                                                          "MOT17-04-FRCNN_post.txt"))
    assert len(post) >= len(online) > 0
    assert set(post[:, 0]) <= set(range(1, int(online[:, 0].max()) + 1))


def test_postprocess_needs_the_saved_text(tmp_path, capsys):
    seq = shared_path("data/mot/MOT17-mini/train/MOT17-04-FRCNN")
    argv = ["--source", str(seq), "--det-file", str(seq / "det" / "det.txt"), "--no-save"]
    argv += ["--no-save-txt", "--postprocess", "gsi", "--output", str(tmp_path / "o")]
    assert main(argv) == 2
    assert "drop --no-save-txt" in capsys.readouterr().err
