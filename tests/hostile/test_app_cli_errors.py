"""Issue #17: every ``strongsort-track`` command turns expected errors into one line on stderr
and exit status 2 (a bug still shows its traceback)."""

import errno

import pytest
from shared_assets import shared_path

from trackers.app import cli


def _run(capsys, *argv):
    code = cli.main(list(argv))
    return code, capsys.readouterr().err.strip()


def test_subcommand_user_errors_are_one_line_exit_2(tmp_path, capsys):
    root = shared_path("data/mot/MOT17-mini/train")
    features = ["--features-dir", str(tmp_path), "--output", str(tmp_path / "out")]
    cases = [
        (["track-mot", "--mot-root", str(tmp_path / "nowhere"), *features], "not found"),
        (["track-mot", "--mot-root", str(root), *features, "--set", "max_age"], "KEY=VALUE"),
        (["eval-mot", "--gt-root", str(tmp_path / "gt"), "--results", str(tmp_path)], "gt"),
    ]
    for argv, message in cases:
        code, err = _run(capsys, *argv)
        assert code == 2, (argv, err)
        assert err.startswith(f"strongsort-track {argv[0]}: error: ") and message in err
        assert len(err.splitlines()) == 1, err


class TrackEvalException(Exception):
    """Stands in for TrackEval's exception (matched by name)."""


@pytest.mark.parametrize(
    "error, expected",
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "runs/seq.txt"),
            "runs/seq.txt: No space left on device",
        ),
        (TrackEvalException("two boxes with the same id"), "two boxes with the same id"),
        (ValueError("first line\n  second line"), "first line; second line"),
    ],
)
def test_expected_errors_of_any_command_become_one_line(monkeypatch, capsys, error, expected):
    def fail(argv):
        raise error

    monkeypatch.setitem(cli.COMMANDS, "bench", (fail, "fails"))
    code, err = _run(capsys, "bench")
    assert code == 2 and err == f"strongsort-track bench: error: {expected}"


def test_ctrl_c_in_a_subcommand_exits_130_and_bugs_keep_their_traceback(monkeypatch, capsys):
    def interrupted(argv):
        raise KeyboardInterrupt

    def bug(argv):
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "bench", (interrupted, "stops"))
    assert _run(capsys, "bench") == (130, "strongsort-track bench: interrupted")
    monkeypatch.setitem(cli.COMMANDS, "bench", (bug, "breaks"))
    with pytest.raises(ZeroDivisionError):
        cli.main(["bench"])
