"""README.md stays true: its Python snippets' imports run, and every module path, dotted name
and repository file it mentions exists."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SNIPPETS = re.findall(r"```python\n(.*?)```", README, flags=re.S)
# `strongsort_reid.utils.complexity` or `strongsort_reid.export.compat.openvino_core()`
DOTTED = sorted(
    set(re.findall(r"`((?:strongsort_reid|trackers)(?:\.\w+)+)(?:\([^`]*\))?`", README))
)
# `trackers/strongsort/config.py`, `configs/`, `scripts/bench_demo.py` (files of this checkout);
# the layout tree's indented lines name folders relative to their parent, so they are left out.
FILES = sorted(
    set(
        re.findall(
            r"(?<![\w./-])((?:strongsort_reid|trackers|scripts|configs|weights|demo|tests)"
            r"/[\w./-]*)",
            re.sub(r"(?m)^  [\w.]+/.*$", "", README),
        )
    )
)


def _import_lines(snippet: str):
    """The snippet's import statements as source lines."""
    tree = ast.parse(snippet)
    return [
        ast.get_source_segment(snippet, node)
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]


def _resolve(dotted: str):
    """Import the longest module prefix of ``dotted`` and walk the remaining attributes."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attribute in parts[cut:]:
            value = getattr(value, attribute)
        return value
    raise ModuleNotFoundError(dotted)


def test_the_readme_has_snippets_and_names():
    assert len(SNIPPETS) >= 4 and DOTTED and FILES


@pytest.mark.parametrize("number", range(len(SNIPPETS)))
def test_snippet_imports_run(number):
    lines = _import_lines(SNIPPETS[number])
    namespace: dict = {}
    for line in lines:
        exec(compile(line, f"README.md snippet {number}", "exec"), namespace)


@pytest.mark.parametrize("dotted", DOTTED)
def test_dotted_names_resolve(dotted):
    assert _resolve(dotted) is not None


@pytest.mark.parametrize("path", FILES)
def test_mentioned_files_exist(path):
    assert (ROOT / path.rstrip(".")).exists(), f"README.md mentions {path}, which does not exist"
