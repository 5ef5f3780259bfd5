"""AFLink: the model, its inputs, the linking rules, training and the shipped weights."""

import numpy as np
import pytest
import torch
from shared_assets import shared_path

from trackers.motchallenge.commands import train_aflink as command
from trackers.motchallenge.postprocess.aflink import (
    DEFAULT_WEIGHTS,
    INPUT_LENGTH,
    AFLinkModel,
    aflink,
    load_aflink,
    pair_inputs,
)
from trackers.motchallenge.postprocess.aflink_train import (
    cut_track,
    gt_tracks,
    sample_pairs,
    train_aflink,
)


def walk(identity, frames, x0, speed=2.0, y=100.0):
    frames = np.asarray(list(frames), dtype=float)
    rows = np.full((frames.size, 10), -1.0)
    rows[:, 0], rows[:, 1] = frames, identity
    rows[:, 2], rows[:, 3] = x0 + speed * (frames - frames[0]), y
    rows[:, 4], rows[:, 5], rows[:, 6] = 50.0, 120.0, 1.0
    return rows


class ConstantModel(AFLinkModel):
    """A model that calls every pair the same object with probability ``value``."""

    def __init__(self, value):
        super().__init__()
        self.value, self.pairs = value, 0

    def probability(self, former, latter):
        self.pairs += len(former)
        return np.full(len(former), self.value)


@pytest.fixture
def gt_file(tmp_path):
    """A small ground truth: three people walking for 60 frames, one of them for 20."""
    tracks = [walk(1, range(1, 61), 0), walk(2, range(1, 61), 300, -1.5)]
    tracks += [walk(3, range(5, 65), 100, 0.5, 300), walk(4, range(1, 21), 500)]
    rows = np.concatenate(tracks)[:, :9]
    rows[:, 6:9] = 1
    path = tmp_path / "seq" / "gt" / "gt.txt"
    path.parent.mkdir(parents=True)
    np.savetxt(path, rows, delimiter=",", fmt="%.2f")
    return path


def test_model_and_inputs_have_the_papers_shapes():
    short, long = walk(1, range(1, 11), 0)[:, [0, 2, 3]], walk(2, range(1, 51), 0)[:, [0, 2, 3]]
    former, latter = pair_inputs([(short, long), (long, short)])
    assert former.shape == latter.shape == (2, 1, INPUT_LENGTH, 3)
    assert former.dtype == np.float32 and np.abs(former).max() <= 1.0 + 1e-6
    assert (former[0, 0, :20] == former[0, 0, 0]).all()  # a short former is padded in front
    logits = AFLinkModel().eval()(torch.from_numpy(former), torch.from_numpy(latter))
    assert logits.shape == (2, 2)


def test_gates_and_threshold_decide_which_pairs_link():
    rows = np.concatenate(
        [
            walk(1, range(1, 21), 0),
            walk(2, range(25, 40), 48),  # 4 frames later, nearby: a candidate
            walk(3, range(80, 90), 48),  # 60 frames later: beyond the time gate
            walk(4, range(22, 30), 400),  # far away: beyond the space gate
        ]
    )
    model = ConstantModel(0.99)
    out = aflink(rows, model)
    assert model.pairs == 1  # only 1 -> 2 reached the model
    assert sorted(np.unique(out[:, 1]).tolist()) == [1, 3, 4]
    assert (out[out[:, 0] >= 25][:, 1] != 2).all()
    unsure = aflink(rows, ConstantModel(0.9))
    assert sorted(np.unique(unsure[:, 1]).tolist()) == [1, 2, 3, 4]


def test_the_shipped_weights_link_split_tracks_and_refuse_a_u_turn():
    """Regression test of ``trackers/weights/aflink.pth`` on the ground truth it was trained on
    (see trackers/weights/README.md): most tracks split in the middle, 8 frames cut out, are
    joined again; a walker who turns back on the spot is not."""
    assert DEFAULT_WEIGHTS.is_file(), "ship trackers/weights/aflink.pth"
    model = load_aflink()
    dev = shared_path("data/mot/dev")
    tracks = [t for path in sorted(dev.glob("*/gt/gt.txt")) for t in gt_tracks(path)]
    joined = 0
    for track in tracks:
        middle = len(track) // 2
        rows = np.full((len(track) - 8, 10), -1.0)
        rows[:, [0, 2, 3]] = np.concatenate([track[: middle - 4], track[middle + 4 :]])
        rows[:, 1] = np.r_[np.ones(middle - 4), np.full(len(track) - middle - 4, 2)]
        rows[:, 4:7] = 1.0
        joined += len(np.unique(aflink(rows, model)[:, 1])) == 1
    assert len(tracks) == 12 and joined >= len(tracks) // 2
    u_turn = np.concatenate([walk(1, range(1, 31), 0, 4.0), walk(2, range(34, 64), 60, -4.0)])
    u_turn[:, 2:4] += np.random.default_rng(0).normal(0, 2, (len(u_turn), 2))
    assert np.unique(aflink(u_turn, model)[:, 1]).tolist() == [1, 2]


def test_load_aflink_rejects_other_weights(tmp_path):
    path = tmp_path / "other.pth"
    torch.save({"state_dict": torch.nn.Linear(2, 2).state_dict()}, path)
    with pytest.raises(ValueError, match="does not hold AFLink weights"):
        load_aflink(path)
    with pytest.raises(FileNotFoundError):
        load_aflink(tmp_path / "missing.pth")


def test_cuts_and_pairs_follow_the_recipe(gt_file):
    tracks = gt_tracks(gt_file)
    assert [len(t) for t in tracks] == [60, 60, 60]  # the 20-frame track is too short
    rng = np.random.default_rng(0)
    for _ in range(50):
        earlier, later = cut_track(tracks[0], rng)
        assert len(earlier) and len(later) and earlier[-1, 0] < later[0, 0]
    pairs, labels = sample_pairs(tracks, 4, rng)
    assert labels.tolist() == [1, 0, 0, 0, 0] * 4 and len(pairs) == 20


def test_training_is_seeded_and_the_command_writes_loadable_weights(gt_file, tmp_path, capsys):
    first = train_aflink([gt_file], steps=2, cuts_per_step=2, seed=3, check_cuts=4)
    again = train_aflink([gt_file], steps=2, cuts_per_step=2, seed=3, check_cuts=4)
    for a, b in zip(first.model.state_dict().values(), again.model.state_dict().values()):
        assert torch.equal(a, b)
    assert first.tracks == 3 and len(first.losses) == 2 and 0 <= first.accuracy <= 1
    output = tmp_path / "aflink.pth"
    root = str(gt_file.parents[2])
    argv = ["--mot-root", root, "--output", str(output), "--steps", "2", "--batch", "2"]
    argv += ["--check-cuts", "4"]
    assert command.main([*argv, "--quiet"]) == 0
    assert "trained on 3 tracks of 1 sequence(s)" in capsys.readouterr().out
    assert isinstance(load_aflink(output), AFLinkModel)
    assert command.main([*argv, "--seqs", "nope", "--quiet"]) == 2
    assert "no sequence ['nope']" in capsys.readouterr().err
    assert command.main([*argv, "--steps", "0", "--quiet"]) == 2
