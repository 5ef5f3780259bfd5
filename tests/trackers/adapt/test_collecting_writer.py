"""adapt's tracking pass keeps only detected boxes for the mining: the predicted boxes that
bridge short misses (``output_predicted``) still go to the results file."""

from __future__ import annotations

import numpy as np

from trackers.adapt.tracking import CollectingWriter


def test_predicted_boxes_are_written_but_not_mined(tmp_path):
    writer = CollectingWriter(tmp_path / "tracks.txt")
    # [x1, y1, x2, y2, id, conf, cls, det_index]: track 2 is predicted (missed in this frame).
    tracks = np.array(
        [[10, 20, 50, 120, 1, 0.9, 0, 0], [60, 20, 100, 120, 2, 0.8, 0, -1]], dtype=np.float64
    )
    writer.write(7, tracks)
    writer.close()
    np.testing.assert_array_equal(writer.track_rows, [[7, 1, 10, 20, 50, 120, 0.9]])
    lines = (tmp_path / "tracks.txt").read_text().splitlines()
    assert [line.split(",")[1] for line in lines] == ["1", "2"]
