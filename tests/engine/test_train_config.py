"""Recipes: every shipped YAML loads; unknown keys and bad values fail with clear messages."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import torch

from strongsort_reid.engine.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[2]
RECIPES = sorted((REPO / "configs").glob("*.yaml"))


def load_script(name: str):
    """The module behind ``scripts/<name>.py`` (the file itself is a thin launcher)."""
    assert (REPO / "scripts" / f"{name}.py").is_file()
    return importlib.import_module("strongsort_reid.commands.train")


def test_the_three_recipes_ship_and_load():
    names = {path.stem for path in RECIPES}
    assert {
        "osnet_x1_0_market1501_softmax",
        "resnet50_bot_market1501",
        "osnet_x0_25_msmt17_finetune_mot",
    } <= names
    for path in RECIPES:
        load_config(path)


def test_bag_of_tricks_recipe_has_the_tricks():
    config = load_config(REPO / "configs" / "resnet50_bot_market1501.yaml")
    assert config.model.bnneck and config.model.last_stride == 1
    assert config.loss.name == "triplet" and config.loss.label_smooth
    assert "random_erase" in config.data.transforms
    assert config.train.warmup_epochs == 10 and config.train.lr == pytest.approx(3.5e-4)
    assert config.data.train_sampler == "RandomIdentitySampler"


def test_overrides_are_parsed_as_yaml_and_typed():
    config = load_config(
        REPO / "configs" / "osnet_x0_25_msmt17_finetune_mot.yaml",
        ["train.max_epoch=1", "train.lr=1e-4", "data.sources=mot", "test.ranks=[1, 5]",
         "data.dataset_kwargs={mot: {min_visibility: 0.9}}", "model.last_stride=null"],
    )
    assert config.train.max_epoch == 1 and config.train.lr == pytest.approx(1e-4)
    assert config.data.sources == ["mot"] and config.test.ranks == [1, 5]
    assert config.data.dataset_kwargs == {"mot": {"min_visibility": 0.9}}


@pytest.mark.parametrize(
    "override, message",
    [
        ("train.max_epok=3", "key 'train.max_epok' (did you mean 'train.max_epoch'?)"),
        ("trian.lr=1", "valid keys: model, data, loss, train, test, save_dir, use_gpu"),
        ("train.lr=fast", "train.lr must be float"),
        ("train.max_epoch=2.5", "train.max_epoch must be int"),
        ("loss.name=arcface", "loss.name must be one of"),
        ("test.dist_metric=manhattan", "test.dist_metric must be one of"),
        ("model.name.depth=3", "model.name is a value"),
        ("max_epoch", "must look like section.key=value"),
    ],
)
def test_bad_overrides_raise_config_errors(override, message):
    with pytest.raises(ConfigError) as error:
        load_config(None, [override])
    assert message in str(error.value)


def test_unknown_key_in_a_file_lists_the_valid_keys(tmp_path):
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text("model:\n  name: osnet_x0_25\n  dropout: 0.5\n")
    with pytest.raises(ConfigError, match="valid keys: model.name, model.pretrained"):
        load_config(recipe)
    with pytest.raises(FileNotFoundError):
        load_config(tmp_path / "missing.yaml")


def test_script_reports_config_errors_without_a_traceback(capsys):
    script = load_script("train_reid")
    with pytest.raises(SystemExit) as exit_info:
        script.main(["--config", str(RECIPES[0]), "train.epochs=3"])
    assert exit_info.value.code == 2
    assert "valid keys: train.optim" in capsys.readouterr().err


def test_dotted_overrides_reach_into_dataset_kwargs():
    recipe = REPO / "configs" / "osnet_x0_25_msmt17_finetune_mot.yaml"
    config = load_config(
        recipe, ["data.dataset_kwargs.mot.frame_stride=1", "data.dataset_kwargs.mot.sequences=[a]"]
    )
    # Only the named entries change; the recipe's other mot options stay.
    assert config.data.dataset_kwargs["mot"] == {
        "min_visibility": 0.5, "min_height": 50, "frame_stride": 1, "min_samples": 4,
        "test_ratio": 0.2, "sequences": ["a"],
    }  # fmt: skip
    config = load_config(None, ["data.dataset_kwargs.folder.camera=subfolder"])
    assert config.data.dataset_kwargs == {"folder": {"camera": "subfolder"}}
    with pytest.raises(ConfigError, match="data.dataset_kwargs.mot is 3, not a mapping"):
        load_config(None, ["data.dataset_kwargs.mot=3", "data.dataset_kwargs.mot.x=1"])


def _script_failure(monkeypatch, capsys, error):
    script = load_script("train_reid")

    def failing_run(config):
        raise error

    monkeypatch.setattr(script, "run_recipe", failing_run)
    monkeypatch.setattr(script, "_setup_logging", lambda save_dir, quiet: None)
    code = script.main([])
    return code, capsys.readouterr()


def test_script_stops_on_nan_loss_with_a_message_not_a_traceback(monkeypatch, capsys):
    from strongsort_reid.engine import NonFiniteLossError

    message = "loss is nan at epoch 3, iteration 7: training stopped. Last good checkpoint: x"
    code, captured = _script_failure(monkeypatch, capsys, NonFiniteLossError(message))
    assert code == 2
    assert f"strongsort-reid train: error: {message}" in captured.err
    assert "Traceback" not in captured.err and "Checkpoint:" not in captured.out


def test_script_reports_a_missing_dataset_root(monkeypatch, capsys):
    message = "market1501: dataset root '/nowhere' does not exist; expected layout: ..."
    code, captured = _script_failure(monkeypatch, capsys, FileNotFoundError(message))
    assert code == 2 and f"strongsort-reid train: error: {message}" in captured.err


def test_bag_of_tricks_recipe_builds_a_last_stride_one_bnneck_resnet():
    from strongsort_reid.engine.model_options import has_bnneck
    from strongsort_reid.engine.recipe import build_reid_model

    config = load_config(REPO / "configs" / "resnet50_bot_market1501.yaml",
                         ["model.pretrained=false"])  # fmt: skip
    model = build_reid_model(config, num_classes=10).eval()
    assert has_bnneck(model) and model.layer4[0].conv2.stride == (1, 1)
    with torch.no_grad():
        maps = model(torch.rand(1, 3, 256, 128), return_featuremaps=True)
    assert maps.shape[-2:] == (16, 8)  # stride 16 overall instead of 32
