"""The tracking, evaluation and benchmark scripts run end to end (small inputs)."""

import runpy
from pathlib import Path

import numpy as np
import pytest
from shared_assets import shared_path

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"


def _main(name):
    return runpy.run_path(str(SCRIPTS / name), run_name="script_under_test")["main"]


@pytest.fixture(scope="module")
def mot_root():
    return shared_path("data/mot/MOT17-mini/train")


def test_track_then_eval(mot_root, tmp_path, capsys):
    pytest.importorskip("trackeval")
    seqs = ["MOT17-09-FRCNN", "MOT17-05-FRCNN"]
    features = tmp_path / "features"
    features.mkdir()
    rng = np.random.default_rng(0)
    for name in seqs:
        count = sum(1 for _ in open(mot_root / name / "det" / "det.txt"))
        np.save(features / f"{name}.npy", rng.standard_normal((count, 16)).astype(np.float32))
    results = tmp_path / "results"
    argv = [
        "--mot-root",
        str(mot_root),
        "--features-dir",
        str(features),
        "--output",
        str(results),
        "--seqs",
        *seqs,
        "--set",
        "cmc=null",
        "n_init=1",
        "--postprocess",
        "gsi",
        "--quiet",
    ]
    assert _main("track_mot.py")(argv) == 0
    assert sorted(p.name for p in results.glob("*.txt")) == sorted(f"{s}.txt" for s in seqs)
    assert (results / "strongsort.yaml").is_file()
    assert "MOT17-09-FRCNN: 525 frames" in capsys.readouterr().out

    json_path = tmp_path / "scores.json"
    argv = ["--gt-root", str(mot_root), "--results", str(results), "--json", str(json_path)]
    assert _main("eval_mot.py")(argv) == 0
    captured = capsys.readouterr()
    assert "COMBINED" in captured.out and "IDF1" in captured.out
    assert "no results for" in captured.err
    assert json_path.is_file()


def test_track_mot_rejects_unknown_sequences(mot_root, tmp_path):
    with pytest.raises(SystemExit, match="unknown sequences"):
        _main("track_mot.py")(
            ["--mot-root", str(mot_root), "--features-dir", str(tmp_path), "--seqs", "MOT99-01"]
        )


def test_bench_tracker_quick(mot_root, capsys):
    video = shared_path("data/video/street_1080p.mp4")
    argv = [
        "--mot-root",
        str(mot_root),
        "--seqs",
        "MOT17-02-FRCNN",
        "--runs",
        "1",
        "--max-frames",
        "40",
        "--ecc-frames",
        "3",
        "--stream-frames",
        "200",
        "--video",
        str(video),
        "--dim",
        "64",
    ]
    assert _main("bench_tracker.py")(argv) == 0
    out = capsys.readouterr().out
    for case in (
        "update MOT17-02 random",
        "update MOT17-02 coherent",
        "ECC 1920x1080",
        "long stream",
    ):
        assert case in out


def test_track_mot_ablation_step_and_effective_config_file(mot_root, tmp_path):
    import yaml

    name = "MOT17-09-FRCNN"
    features = tmp_path / "features"
    features.mkdir()
    count = sum(1 for _ in open(mot_root / name / "det" / "det.txt"))
    np.save(features / f"{name}.npy", np.ones((count, 4), dtype=np.float32))
    results = tmp_path / "results"
    argv = ["--mot-root", str(mot_root), "--features-dir", str(features), "--output", str(results)]
    argv += ["--seqs", name, "--ablation", "+ECC", "--set", "n_init=1", "--quiet"]
    assert _main("track_mot.py")(argv) == 0
    used = yaml.safe_load((results / "strongsort.yaml").read_text())
    # +ECC: DeepSORT's matching cascade and gallery, ECC on; --set wins over the step.
    assert (used["matching"], used["ema_alpha"], used["cmc"], used["nsa"]) == (
        "cascade",
        None,
        "ecc",
        False,
    )
    assert used["n_init"] == 1 and used["max_cos_dist"] == 0.4
    assert (results / f"{name}.txt").stat().st_size > 0
    with pytest.raises(SystemExit):
        _main("track_mot.py")([*argv[:-5], "--ablation", "NSA"])
