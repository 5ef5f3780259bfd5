"""``strongsort-track track-mot`` and ``eval-mot`` run end to end (small inputs)."""

import numpy as np
import pytest
from shared_assets import shared_path

from trackers.app.cli import main


def _main(name):
    """The subcommand ``name`` as a ``main(argv)`` function."""
    return lambda argv: main([name, *argv])


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
    assert _main("track-mot")(argv) == 0
    assert sorted(p.name for p in results.glob("*.txt")) == sorted(f"{s}.txt" for s in seqs)
    assert (results / "strongsort.yaml").is_file()
    assert "MOT17-09-FRCNN: 525 frames" in capsys.readouterr().out

    json_path = tmp_path / "scores.json"
    argv = ["--gt-root", str(mot_root), "--results", str(results), "--json", str(json_path)]
    assert _main("eval-mot")(argv) == 0
    captured = capsys.readouterr()
    assert "COMBINED" in captured.out and "IDF1" in captured.out
    assert "no results for" in captured.err
    assert json_path.is_file()


def test_track_mot_rejects_unknown_sequences(mot_root, tmp_path, capsys):
    code = _main("track-mot")(
        ["--mot-root", str(mot_root), "--features-dir", str(tmp_path), "--seqs", "MOT99-01"]
    )
    assert code == 2 and "unknown sequences ['MOT99-01']" in capsys.readouterr().err


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
    assert _main("track-mot")(argv) == 0
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
        _main("track-mot")([*argv[:-5], "--ablation", "NSA"])
