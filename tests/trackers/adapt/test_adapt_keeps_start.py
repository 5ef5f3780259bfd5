"""``adapt`` with its default validation on a source with too few pseudo-identities to show a
gain: no fine-tune, the starting checkpoint is written unchanged and the report says why. The
tracking is replaced by six synthetic tracks on a dev sequence's first 20 frames (the crops are
cut from the real frames)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
from shared_assets import shared_path

from strongsort_reid.models.weights import resolve_weights
from trackers.adapt import api
from trackers.adapt.tracking import TrackingSettings

FRAMES = 20


def _six_people(*_args, **_kwargs):
    """Track rows ``[frame, id, x1, y1, x2, y2, conf]``: six side-by-side people in every frame."""
    rows = [
        [frame, person, 10 + 100 * person, 50, 60 + 100 * person, 200, 0.9]
        for frame in range(1, FRAMES + 1)
        for person in range(6)
    ]
    return np.asarray(rows, dtype=np.float64), 25.0, SimpleNamespace(frames=FRAMES, stage_ms={})


def test_too_few_identities_to_validate_keep_the_starting_weights(tmp_path, reid_home, monkeypatch):
    monkeypatch.setattr(api, "track_source", _six_people)
    lines = []
    result = api.adapt(
        shared_path("data/mot/dev/TUD-Campus"),
        output=tmp_path,
        tracking=TrackingSettings("unused.pt", max_frames=FRAMES),
        evaluate=False,
        say=lines.append,
    )
    (round_,) = result.rounds
    assert round_.mining["identities"] == 6 and round_.mining["crops_written"] == 6 * 12
    assert round_.stopped_by == "not validated" and round_.epochs == []
    assert not round_.validation["adopted"] and "too few" in round_.validation["reason"]
    assert result.weights.read_bytes() == resolve_weights("osnet_x0_25_msmt17").read_bytes()
    assert any(line.startswith("kept the starting weights") for line in lines)
    report = json.loads(result.report_json.read_text())
    assert report["rounds"][0]["validation"]["adopted"] is False
    assert "kept the starting weights" in result.report_text.read_text()
