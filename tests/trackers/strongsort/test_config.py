"""StrongSORT parameters: defaults, YAML file, validation."""

import dataclasses

import pytest
import yaml

from trackers import StrongSORT, StrongSORTConfig
from trackers.strongsort.config import DEFAULT_CONFIG_PATH, ablation_overrides


def test_shipped_yaml_equals_the_dataclass_defaults():
    values = yaml.safe_load(DEFAULT_CONFIG_PATH.read_text())
    defaults = StrongSORTConfig().to_dict()
    assert set(values) == set(defaults)
    assert StrongSORTConfig.from_yaml(DEFAULT_CONFIG_PATH) == StrongSORTConfig()


def test_defaults_are_the_paper_configuration_plus_the_dev_benchmark_switches():
    cfg = StrongSORTConfig()
    assert (cfg.ema_alpha, cfg.mc_lambda, cfg.gating_threshold) == (0.9, 0.98, 9.4877)
    assert (cfg.max_age, cfg.n_init, cfg.max_iou_dist) == (30, 3, 0.7)
    paper = StrongSORTConfig(**ablation_overrides("+woC"))
    additions = dict(
        output_predicted=3,
        ema_adaptive=True,
        reentry_max_age=300,
        embed_skip=True,
        confirm_first_frame=True,
    )
    assert paper.n_init == 3 and paper.output_predicted == 0 and paper.reentry_max_age == 0
    assert not paper.ema_adaptive and paper.conf_boost is None and paper.low_conf is None
    assert not paper.confirm_first_frame
    assert dataclasses.replace(paper, **additions) == cfg
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


def test_ablation_path_from_deepsort_ends_at_the_defaults():
    from trackers.strongsort.config import ABLATION_STEPS, ablation_overrides

    assert list(ABLATION_STEPS) == ["DeepSORT", "+BoT", "+ECC", "+NSA", "+EMA", "+MC", "+woC"]
    deepsort = StrongSORTConfig(**ablation_overrides("DeepSORT"))
    assert (deepsort.ema_alpha, deepsort.mc_lambda, deepsort.nsa) == (None, None, False)
    assert (deepsort.matching, deepsort.cmc, deepsort.nn_budget) == ("cascade", None, 100)
    assert deepsort.max_cos_dist == 0.3
    paper = dict(n_init=3, output_predicted=0, ema_adaptive=False, reentry_max_age=0)
    paper.update(embed_skip=False, confirm_first_frame=False)
    assert StrongSORTConfig(**ablation_overrides("+woC")) == StrongSORTConfig(**paper)
    previous = deepsort
    for step, change in list(ABLATION_STEPS.items())[1:]:
        current = StrongSORTConfig(**ablation_overrides(step))
        differs = {k for k, v in current.to_dict().items() if previous.to_dict()[k] != v}
        assert differs == set(change), step  # each step switches exactly its own component
        previous = current
    with pytest.raises(KeyError, match=r"\+NSA"):
        ablation_overrides("NSA")


def test_every_ablation_step_is_documented_and_loads_from_yaml(tmp_path):
    from trackers.strongsort import config as config_module

    doc = config_module.__doc__
    for step, change in config_module.ABLATION_STEPS.items():
        assert step in doc
        for key, value in change.items():
            text = f'{key}="{value}"' if isinstance(value, str) else f"{key}={value}"
            assert text in doc, (step, text)
        path = tmp_path / f"{step.strip('+')}.yaml"
        path.write_text(yaml.safe_dump(config_module.ablation_overrides(step)))
        cfg = StrongSORTConfig.from_yaml(path)
        assert cfg == StrongSORTConfig(**config_module.ablation_overrides(step))
        tracker = StrongSORT(config=path)
        for t in range(4):
            boxes = [[10 + 2 * t, 10, 60 + 2 * t, 110]]
            out = tracker.update([[*boxes[0], 0.9, 0]], embs=[[1.0, 0.0]])
        assert out[:, 4].tolist() == [1], step
