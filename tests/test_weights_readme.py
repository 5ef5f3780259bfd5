"""weights/README.md lists exactly what the weight registry holds."""

from __future__ import annotations

from pathlib import Path

from strongsort_reid.commands.weights import main, readme_text

ROOT = Path(__file__).resolve().parents[1]


def test_weights_readme_is_in_sync_with_the_registry():
    assert (ROOT / "weights" / "README.md").read_text(encoding="utf-8") == readme_text(), (
        "run: strongsort-reid weights --write-readme weights/README.md"
    )


def test_write_readme_writes_the_same_text(tmp_path):
    assert main(["--write-readme", str(tmp_path / "README.md")]) == 0
    assert (tmp_path / "README.md").read_text(encoding="utf-8") == readme_text()
