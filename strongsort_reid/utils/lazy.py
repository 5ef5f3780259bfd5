"""Lazy re-exports: a package names what it offers but imports it on first access.

This keeps ``import strongsort_reid`` (and its subpackages) free of torch, OpenCV and the
optional runtimes until a name that needs them is used.
"""

from __future__ import annotations

import importlib
import sys
from typing import Callable, List, Mapping, Tuple


def lazy_exports(
    module_name: str, table: Mapping[str, str]
) -> Tuple[Callable[[str], object], Callable[[], List[str]]]:
    """``(__getattr__, __dir__)`` for a module that re-exports ``table``'s names lazily.

    Args:
        module_name: The re-exporting module (its ``__name__``).
        table: Re-exported name -> the module that defines it.

    Use as ``__getattr__, __dir__ = lazy_exports(__name__, {...})`` (PEP 562); a name is
    imported once, then cached in the module's namespace.
    """
    module = sys.modules[module_name]

    def __getattr__(name: str):
        if name in table:
            value = getattr(importlib.import_module(table[name]), name)
            setattr(module, name, value)
            return value
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    def __dir__() -> List[str]:
        return sorted(set(vars(module)) | set(table))

    return __getattr__, __dir__
