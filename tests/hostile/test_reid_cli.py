"""``strongsort-reid``: every expected error is one message and exit status 2 (#17, case 8).

Broken YAML, a recipe that is a folder, an unknown model, a checkpoint of another architecture,
a save folder that is a file, a text file as weights, NaN weights, an unwritable README used to
end in a traceback (or exit status 1). Bugs still show their traceback.
"""

from __future__ import annotations

import pytest
import torch
from reid_hostile import fast_overrides, poisoned_copy, write_folder_dataset

from strongsort_reid.cli import main
from strongsort_reid.commands import train as train_command
from strongsort_reid.engine import NonFiniteLossError
from strongsort_reid.models import build_model


@pytest.fixture(autouse=True)
def no_log_files(monkeypatch):
    """Keep the root logger as pytest set it up (the command would add a file handler)."""
    monkeypatch.setattr(train_command, "_setup_logging", lambda save_dir, quiet: None)


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    return write_folder_dataset(tmp_path_factory.mktemp("folder_dataset"))


def _error_line(capsys, prog="strongsort-reid train"):
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines and lines[-1].startswith(f"{prog}: error: "), err
    return lines[-1]


def test_broken_yaml_recipe(tmp_path, capsys):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("model:\n  name: [osnet_x0_25\n")
    with pytest.raises(SystemExit) as info:
        main(["train", "--config", str(recipe)])
    assert info.value.code == 2
    line = _error_line(capsys)
    assert f"config file {recipe} is not valid YAML (line 3, column 1)" in line


def test_broken_yaml_override_and_a_folder_as_recipe(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "train.lr=[0.1"])
    assert info.value.code == 2
    assert "override 'train.lr=[0.1' is not valid YAML" in _error_line(capsys)
    with pytest.raises(SystemExit) as info:
        main(["train", "--config", str(tmp_path)])
    assert info.value.code == 2
    assert f"config file {tmp_path} is a directory" in _error_line(capsys)


def _train(capsys, data_root, tmp_path, *extra, command="train"):
    argv = [command, *fast_overrides(data_root, tmp_path / "run", test_ratio=0), *extra]
    code = main(argv)
    return code, _error_line(capsys, f"strongsort-reid {command}")


def test_unknown_model_name_without_key_error_quotes(data_root, tmp_path, capsys):
    code, line = _train(capsys, data_root, tmp_path, "model.name=osnet_x9")
    assert code == 2
    assert line.startswith("strongsort-reid train: error: Unknown model 'osnet_x9'. Available")


def test_resuming_a_checkpoint_of_another_architecture(data_root, tmp_path, capsys):
    other = tmp_path / "model.pth.tar-1"
    state = build_model("osnet_x0_5", num_classes=4, pretrained=False).state_dict()
    torch.save({"state_dict": state, "epoch": 1}, other)
    code, line = _train(capsys, data_root, tmp_path, f"model.resume={other}")
    assert code == 2
    assert f"{other} does not fit the model being trained (OSNet): size mismatch" in line
    assert "same model.name" in line


def test_save_dir_that_is_a_file(data_root, tmp_path, capsys):
    blocker = tmp_path / "run"
    blocker.write_text("a file where the run folder should go")
    code, line = _train(capsys, data_root, tmp_path)
    assert code == 2 and line.endswith(f"error: save_dir {blocker} is a file, not a folder")


@pytest.mark.parametrize("bad", ["text", "nan"])
def test_bad_initial_weights_fail_before_training(data_root, tmp_path, capsys, bad):
    if bad == "text":
        weights = tmp_path / "weights.pth"
        weights.write_text("not weights\n")
        expected = "is not a PyTorch checkpoint: it is a text file"
    else:
        weights = poisoned_copy(tmp_path / "weights.pth", "conv1.conv.weight", float("nan"))
        expected = "holds non-finite weights: tensor 'conv1.conv.weight'"
    code, line = _train(capsys, data_root, tmp_path, f"model.load_weights={weights}")
    assert code == 2 and str(weights) in line and expected in line
    assert not (tmp_path / "run" / "model").exists(), "nothing was trained"


def test_nan_loss_is_one_message_with_status_2(data_root, tmp_path, capsys, monkeypatch):
    def diverging(config):
        raise NonFiniteLossError("loss is nan at epoch 1, iteration 1: training stopped")

    monkeypatch.setattr(train_command, "run_recipe", diverging)
    code, line = _train(capsys, data_root, tmp_path)
    assert code == 2 and line.endswith("loss is nan at epoch 1, iteration 1: training stopped")


def test_ctrl_c_is_status_130_and_a_bug_keeps_its_traceback(
    data_root, tmp_path, capsys, monkeypatch
):
    def interrupted(config):
        raise KeyboardInterrupt

    monkeypatch.setattr(train_command, "run_recipe", interrupted)
    assert main(["train", *fast_overrides(data_root, tmp_path, test_ratio=0)]) == 130
    assert capsys.readouterr().err == "strongsort-reid train: interrupted\n"

    def buggy(config):
        raise AttributeError("'NoneType' object has no attribute 'state_dict'")

    monkeypatch.setattr(train_command, "run_recipe", buggy)
    with pytest.raises(AttributeError):
        main(["train", *fast_overrides(data_root, tmp_path, test_ratio=0)])


def test_weights_readme_into_an_unwritable_place(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["weights", "--write-readme", str(blocker / "README.md")]) == 2
    assert str(blocker) in _error_line(capsys, "strongsort-reid weights")


def test_weights_listing_says_which_names_are_checksum_verified(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("STRONGSORT_REID_HOME", str(tmp_path))
    assert main(["weights"]) == 0
    note = capsys.readouterr().out.strip().splitlines()[-1]
    assert note.startswith("Checked against a published sha256: osnet_x0_25_market1501, ")
    assert "no published checksum" in note


def test_export_refuses_nan_weights_with_one_message(tmp_path, capsys):
    weights = poisoned_copy(tmp_path / "weights.pth", "conv1.conv.weight", float("nan"))
    argv = ["export", "--model", "osnet_x0_25", "--weights", str(weights), "--format", "onnx",
            "--output", str(tmp_path / "out.onnx")]  # fmt: skip
    assert main(argv) != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1
    assert str(weights) in err and "non-finite weights: tensor 'conv1.conv.weight'" in err
    assert not (tmp_path / "out.onnx").exists()
