"""StrongSORT parameters: defaults, YAML file, validation."""

import dataclasses

import pytest
import yaml

from trackers import StrongSORT, StrongSORTConfig
from trackers.strongsort.config import DEFAULT_CONFIG_PATH


def test_shipped_yaml_equals_the_dataclass_defaults():
    values = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    defaults = StrongSORTConfig().to_dict()
    assert set(values) == set(defaults)
    assert StrongSORTConfig.from_yaml(DEFAULT_CONFIG_PATH) == StrongSORTConfig()


def test_defaults_are_the_paper_configuration():
    cfg = StrongSORTConfig()
    assert (cfg.ema_alpha, cfg.mc_lambda, cfg.gating_threshold) == (0.9, 0.98, 9.4877)
    assert (cfg.max_age, cfg.n_init, cfg.max_iou_dist) == (30, 3, 0.7)
    assert cfg.matching == "global" and cfg.cmc == "ecc" and cfg.nsa
    assert cfg.feature_budget == 1
    assert dataclasses.replace(cfg, ema_alpha=None).feature_budget == cfg.nn_budget


def test_yaml_with_overrides_and_unknown_keys(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("max_age: 10\ncmc: null\n")
    cfg = StrongSORTConfig.from_yaml(path, n_init=1)
    assert (cfg.max_age, cfg.cmc, cfg.n_init) == (10, None, 1)
    path.write_text("max_agee: 10\n")
    with pytest.raises(ValueError, match="max_agee"):
        StrongSORTConfig.from_yaml(path)
    with pytest.raises(FileNotFoundError):
        StrongSORTConfig.from_yaml(tmp_path / "missing.yaml")
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ValueError, match="mapping"):
        StrongSORTConfig.from_yaml(path)


@pytest.mark.parametrize(
    "name, value",
    [
        ("max_age", -1),
        ("n_init", 0),
        ("max_iou_dist", 1.5),
        ("ema_alpha", 2.0),
        ("mc_lambda", -0.1),
        ("matching", "greedy"),
        ("cmc", "orb"),
        ("assignment_solver", "hungarian"),
        ("min_conf", float("nan")),
        ("max_cos_dist", "0.2"),
        ("ecc_scale", 0.0),
    ],
)
def test_invalid_values_name_the_parameter(name, value):
    with pytest.raises(ValueError, match=name):
        StrongSORTConfig(**{name: value})


def test_tracker_accepts_config_objects_mappings_and_paths(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("max_age: 7\n")
    assert StrongSORT(config=path, n_init=2).config.max_age == 7
    assert StrongSORT(config={"max_age": 8}).config.max_age == 8
    assert StrongSORT(config=StrongSORTConfig(max_age=9), cmc=None).config.cmc is None
    assert StrongSORT.from_yaml(path).config.max_age == 7
    with pytest.raises(ValueError, match="unknown"):
        StrongSORT(max_ag=3)
    with pytest.raises(ValueError, match="config"):
        StrongSORT(config=3)
