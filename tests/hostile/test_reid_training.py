"""Training never loses the trained weights to the evaluation (issue #17, case 4).

``data.dataset_kwargs.folder.test_ratio=0`` ("train on everything") used to train, then fail
with "the evaluation loader yielded no batches" and save nothing; any failing final evaluation
lost the checkpoint. The checkpoint is now written before every evaluation.
"""

from __future__ import annotations

import logging
import math

import pytest
import torch
from reid_hostile import fast_overrides, write_folder_dataset

from strongsort_reid.cli import main
from strongsort_reid.commands import train as train_command
from strongsort_reid.engine.config import load_config
from strongsort_reid.engine.evaluator import EvaluationMixin
from strongsort_reid.engine.recipe import run_recipe
from strongsort_reid.utils.checkpoint import load_checkpoint


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models: one intra-op thread is faster on a loaded machine."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_folder_dataset(tmp_path_factory.mktemp("folder_dataset"))


def _assert_finite_checkpoint(path):
    state = load_checkpoint(path)
    tensors = [v for v in state["state_dict"].values() if v.is_floating_point()]
    assert tensors and all(torch.isfinite(v).all() for v in tensors)
    return state


def test_training_on_everything_saves_the_checkpoint_and_skips_evaluation(
    data_root, tmp_path, caplog
):
    config = load_config(None, fast_overrides(data_root, tmp_path / "run", test_ratio=0))
    with caplog.at_level(logging.INFO):
        result = run_recipe(config)

    assert result.checkpoint == tmp_path / "run" / "model" / "model.pth.tar-1"
    state = _assert_finite_checkpoint(result.checkpoint)
    assert state["epoch"] == 1 and math.isnan(state["rank1"]), "nothing was evaluated"
    assert result.results == {}
    skipped = [r.message for r in caplog.records if "evaluation skipped" in r.message]
    assert skipped and "no query and no gallery images" in skipped[0]
    assert "test_ratio=0" in skipped[0]


@pytest.mark.parametrize("max_epoch, eval_freq", [(1, -1), (2, 1)], ids=["final", "periodic"])
def test_a_failing_evaluation_keeps_the_weights_it_followed(
    data_root, tmp_path, caplog, monkeypatch, max_epoch, eval_freq
):
    def broken_evaluation(self, name, *args):
        raise ValueError(f"{name}: evaluation broke")

    monkeypatch.setattr(EvaluationMixin, "_evaluate", broken_evaluation)
    overrides = fast_overrides(data_root, tmp_path / "run", test_ratio=0.5)
    overrides += [f"train.max_epoch={max_epoch}", f"test.eval_freq={eval_freq}"]
    with pytest.raises(ValueError, match="evaluation broke"):
        run_recipe(load_config(None, overrides))

    # The evaluation after epoch 1 failed (the last one, or a periodic one): its weights stay.
    checkpoint = tmp_path / "run" / "model" / "model.pth.tar-1"
    assert sorted(p.name for p in checkpoint.parent.iterdir()) == [checkpoint.name]
    assert _assert_finite_checkpoint(checkpoint)["epoch"] == 1
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert any(str(checkpoint) in message and "epoch 1 failed" in message for message in errors)


def test_a_successful_evaluation_records_its_rank1_in_the_checkpoint(data_root, tmp_path):
    config = load_config(None, fast_overrides(data_root, tmp_path / "run", test_ratio=0.5))
    result = run_recipe(config)
    state = _assert_finite_checkpoint(result.checkpoint)
    assert 0.0 <= state["rank1"] <= 1.0 and state["rank1"] == result.results["folder"].rank1


def test_eval_with_no_test_images_is_one_clear_error(data_root, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(train_command, "_setup_logging", lambda save_dir, quiet: None)
    argv = ["eval", *fast_overrides(data_root, tmp_path / "run", test_ratio=0)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "strongsort-reid eval: error: nothing to evaluate: no test set has both query and "
        "gallery images (folder; a folder or mot dataset with test_ratio=0 holds out no "
        "identities)"
    ]
