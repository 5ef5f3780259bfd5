"""The one atomic-write helper: all or nothing, normal permissions, no temporary files left."""

import os
import stat

import pytest

from strongsort_reid.utils.atomic import atomic_path, atomic_write_bytes, atomic_write_text


def test_success_replaces_the_file_and_leaves_nothing_else(tmp_path):
    target = tmp_path / "sub" / "model.pth"
    atomic_write_bytes(target, b"old")
    with atomic_path(target) as temp:
        assert temp.parent == target.parent and temp.suffix == ".pth" and temp.exists()
        temp.write_bytes(b"new")
        assert target.read_bytes() == b"old"  # nothing visible before the block ends
    assert target.read_bytes() == b"new"
    assert sorted(p.name for p in target.parent.iterdir()) == ["model.pth"]


def test_an_error_keeps_the_old_file_and_removes_the_temporary(tmp_path):
    target = atomic_write_text(tmp_path / "results.txt", "complete\n")
    with pytest.raises(RuntimeError), atomic_path(target) as temp:
        temp.write_text("half", encoding="utf-8")
        raise RuntimeError("interrupted")
    assert target.read_text(encoding="utf-8") == "complete\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.txt"]


def test_written_files_get_the_umask_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        target = atomic_write_text(tmp_path / "config.yaml", "a: 1\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o644
