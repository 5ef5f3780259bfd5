"""The layout's budgets and layering, read from the source (nothing is imported or run).

* every module <= 400 lines and every function <= 80 lines;
* no import cycle between the project's modules (module-level and function-level ``import``
  statements both count: a cycle hidden inside a function is still a cycle);
* imports go down the data path: ``trackers`` -> ``strongsort_reid``; inside
  ``strongsort_reid`` the leaf helpers (``utils``) import nothing above them, the weights
  catalogue and architectures (``models``) only ``utils``, the runtime layer (``inference``)
  nothing that writes files or trains; inside ``trackers`` the tracker core imports neither the
  MOTChallenge tools nor the application, and the tools do not import the application.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("strongsort_reid", "trackers")
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80

# module prefix -> module prefixes it must not import
FORBIDDEN = {
    "strongsort_reid": ("trackers",),
    "strongsort_reid.utils": (
        "strongsort_reid.models",
        "strongsort_reid.inference",
        "strongsort_reid.export",
        "strongsort_reid.data",
        "strongsort_reid.engine",
        "strongsort_reid.metrics",
        "strongsort_reid.commands",
        "strongsort_reid.cli",
    ),
    "strongsort_reid.models": (
        "strongsort_reid.inference",
        "strongsort_reid.export",
        "strongsort_reid.data",
        "strongsort_reid.engine",
        "strongsort_reid.commands",
    ),
    "strongsort_reid.inference": (
        "strongsort_reid.export",
        "strongsort_reid.data",
        "strongsort_reid.engine",
        "strongsort_reid.commands",
    ),
    "trackers.strongsort": (
        "trackers.app", "trackers.motchallenge", "trackers.integrations", "trackers.adapt",
    ),
    "trackers.cmc": (
        "trackers.app", "trackers.motchallenge", "trackers.integrations", "trackers.adapt",
    ),
    "trackers.motchallenge": ("trackers.app", "trackers.integrations", "trackers.adapt"),
    "trackers.app": ("trackers.integrations", "trackers.adapt"),
    "trackers.integrations": ("trackers.adapt",),
}
# Command-line programs wire the layers together: the MOTChallenge benchmark programs may build
# the application's detector and embedder, and strongsort-track's table lists adapt.
ALLOWED = {
    ("trackers.motchallenge.commands", "trackers.app"),
    ("trackers.app.cli", "trackers.adapt"),
}


def _source_files() -> Dict[str, Path]:
    """``{dotted module name: path}`` of every module of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


MODULES = _source_files()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> Set[str]:
    """Project modules that ``name`` imports anywhere in its body."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if _is_package(name) else name.rpartition(".")[0]
    found: Set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            # ``from pkg import sub`` imports the submodule when there is one.
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in MODULES:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _cycles() -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    components: List[List[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for child in sorted(GRAPH[node]):
            if child not in index:
                visit(child)
                low[node] = min(low[node], low[child])
            elif child in on_stack:
                low[node] = min(low[node], index[child])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(GRAPH):
        if node not in index:
            visit(node)
    return components


def test_no_import_cycles():
    assert _cycles() == []


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_imports_go_down_the_layers(layer):
    offending = []
    for name, targets in GRAPH.items():
        if name != layer and not name.startswith(layer + "."):
            continue
        for target in sorted(targets):
            if any(target == bad or target.startswith(bad + ".") for bad in FORBIDDEN[layer]):
                if not any(
                    _within(name, source) and _within(target, allowed)
                    for source, allowed in ALLOWED
                ):
                    offending.append(f"{name} -> {target}")
    assert offending == []


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def test_modules_and_functions_stay_small():
    too_long = []
    for name, path in MODULES.items():
        source = path.read_text(encoding="utf-8")
        lines = len(source.splitlines())
        if lines > MAX_MODULE_LINES:
            too_long.append(f"module {name}: {lines} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    too_long.append(f"function {name}.{node.name}: {length} lines")
    assert too_long == []


def test_the_checks_see_the_tree():
    """Guard against a vacuous pass: the graph holds the modules and edges we know exist."""
    assert "trackers.strongsort.strong_sort" in MODULES
    assert "strongsort_reid.utils.atomic" in GRAPH["strongsort_reid.utils.motchallenge"]
