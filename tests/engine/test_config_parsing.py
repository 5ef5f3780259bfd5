"""The recipe machinery on its own dataclasses: typed building and dotted overrides."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import pytest

from strongsort_reid.engine.config_parsing import (
    ConfigError,
    apply_dotted_overrides,
    build_dataclass,
)


@dataclass
class Inner:
    rate: float = 0.1
    names: List[str] = field(default_factory=list)
    extra: Dict[str, Any] = field(default_factory=dict)


@dataclass
class Outer:
    inner: Inner = field(default_factory=Inner)
    size: Optional[int] = None


def test_build_converts_and_nests():
    built = build_dataclass(Outer, {"inner": {"rate": "5e-4", "names": "a"}, "size": 3})
    assert built == Outer(Inner(rate=5e-4, names=["a"]), size=3)


def test_build_names_the_bad_key_and_the_closest_valid_one():
    with pytest.raises(ConfigError, match=r"'inner\.rat'.*did you mean 'inner\.rate'"):
        build_dataclass(Outer, {"inner": {"rat": 1}})
    with pytest.raises(ConfigError, match="size must be int"):
        build_dataclass(Outer, {"size": "big"})


def test_overrides_set_values_and_mapping_entries_in_place():
    values = {"inner": {"extra": {"a": {"keep": 1}}}}
    apply_dotted_overrides(Outer, values, ["size=4", "inner.names=[x, y]", "inner.extra.a.b=2"])
    assert values["size"] == 4
    assert values["inner"] == {"names": ["x", "y"], "extra": {"a": {"keep": 1, "b": 2}}}
    with pytest.raises(ConfigError, match="is a value, not a section"):
        apply_dotted_overrides(Outer, {}, ["size.x=1"])
