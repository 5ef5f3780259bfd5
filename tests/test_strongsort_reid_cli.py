"""``strongsort-reid``: one entry point dispatching to the train / eval / export / weights tools."""

import shutil
import subprocess
from pathlib import Path

import pytest
from shared_assets import shared_path

from strongsort_reid.cli import COMMANDS, main

REPO = Path(__file__).resolve().parents[1]


def test_usage_lists_every_command(capsys):
    assert main([]) == 2
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    assert all(name in out for name in COMMANDS)
    assert main(["fly"]) == 2
    assert "unknown command 'fly'" in capsys.readouterr().err


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_answers_help(command, capsys):
    # Each command's module must exist and parse --help without running anything.
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_weights_says_which_file_each_name_resolves_to(capsys, monkeypatch, tmp_path):
    from strongsort_reid.weights import BUNDLED_DIR

    monkeypatch.setenv("STRONGSORT_REID_HOME", str(tmp_path))
    assert main(["weights"]) == 0
    lines = dict(line.split("\t") for line in capsys.readouterr().out.splitlines() if "\t" in line)
    assert lines["osnet_x0_25_msmt17"] == str(BUNDLED_DIR / "osnet_x0_25_msmt17.pth")
    assert lines["osnet_x1_0_market1501"].startswith("download https://")
    (tmp_path / "osnet_x1_0_market1501.pth").write_bytes(b"user copy")
    assert main(["weights", "--local"]) == 0
    assert capsys.readouterr().out.split() == [
        "osnet_x0_25_msmt17",
        str(BUNDLED_DIR / "osnet_x0_25_msmt17.pth"),
        "osnet_x1_0_market1501",
        str(tmp_path / "osnet_x1_0_market1501.pth"),
    ]


def test_eval_scores_weights_on_a_mot_derived_test_split(tmp_path, capsys):
    root = shared_path("data/mot/MOT17-mini/train")
    weights = shared_path("data/reid/osnet_x0_25_msmt17.pth")
    argv = [
        "eval",
        "--config",
        str(REPO / "configs" / "osnet_x0_25_msmt17_finetune_mot.yaml"),
        f"data.root={root}",
        f"model.load_weights={weights}",
        "data.dataset_kwargs.mot.frame_stride=1",
        "data.workers=0",
        f"save_dir={tmp_path}",
        "--quiet",
    ]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "mAP:" in out and "Rank-1" in out
    assert not list((tmp_path / "model").glob("model.pth.tar-*"))  # evaluation only


@pytest.mark.parametrize("command", ["track-mot", "eval-mot"])
def test_mot_tools_moved_to_strongsort_track(command, capsys):
    assert main([command, "--mot-root", "somewhere"]) == 2
    err = capsys.readouterr().err
    assert err == f"strongsort-reid: {command!r} moved: run strongsort-track {command} ...\n"


@pytest.mark.skipif(shutil.which("strongsort-reid") is None, reason="package not installed")
def test_console_entry_point_is_installed():
    result = subprocess.run(
        ["strongsort-reid", "export", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "--format" in result.stdout
