"""Typed dataclass configurations from nested dicts and ``section.key=value`` overrides.

The machinery behind :mod:`.config`'s recipes, independent of which dataclasses a recipe has:
values are checked against the fields' type hints (``int -> float`` and YAML's ``5e-4``
strings are converted), and an unknown key is an error that names the closest valid key and
lists them all.
"""

from __future__ import annotations

import dataclasses
import difflib
import typing
from typing import Any, Dict, List, Mapping, Sequence, Union

import yaml

__all__ = ["ConfigError", "apply_dotted_overrides", "build_dataclass"]


class ConfigError(ValueError):
    """A recipe has an unknown key or a value of the wrong type."""


def _valid_keys_message(cls: type, prefix: str, key: str) -> str:
    """The error message for the unknown key ``prefix + key`` of ``cls``, with a close match."""
    names = [f.name for f in dataclasses.fields(cls)]
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean '{prefix}{close[0]}'?)" if close else ""
    listed = ", ".join(f"{prefix}{name}" for name in names)
    return f"unknown config key '{prefix}{key}'{hint}; valid keys: {listed}"


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Check ``value`` against the type ``hint`` (converting int -> float and YAML's
    ``5e-4`` strings -> float); raise :class:`ConfigError` naming ``key`` otherwise."""
    origin = typing.get_origin(hint)
    if origin is Union:  # Optional[X]
        if value is None:
            return None
        (inner,) = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        return _coerce(value, inner, key)
    if origin in (list, List):
        if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
            value = [value]  # a single name where a list is expected
        (inner,) = typing.get_args(hint)
        return [_coerce(item, inner, f"{key}[{i}]") for i, item in enumerate(value)]
    if origin in (dict, Dict):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a mapping, got {value!r}")
        return dict(value)
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
    elif hint is str:
        if isinstance(value, str):
            return value
    elif dataclasses.is_dataclass(hint):
        if isinstance(value, Mapping):
            return build_dataclass(hint, value, f"{key}.")
    else:
        return value
    raise ConfigError(f"{key} must be {getattr(hint, '__name__', hint)}, got {value!r}")


def build_dataclass(cls: type, values: Mapping[str, Any], prefix: str = "") -> Any:
    """``cls(**values)`` with every value checked against ``cls``'s type hints; nested
    dataclass fields are built from nested mappings, missing keys take their defaults.

    Args:
        cls: A dataclass.
        values: ``{field: value}``.
        prefix: Dotted path of ``cls`` in the whole config, for error messages (``"train."``).

    Raises:
        ConfigError: an unknown key (the message lists the valid ones) or a mistyped value.
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"{prefix or 'the config'} must be a mapping, got {values!r}")
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for key, value in values.items():
        if key not in hints:
            raise ConfigError(_valid_keys_message(cls, prefix, str(key)))
        kwargs[key] = _coerce(value, hints[key], f"{prefix}{key}")
    return cls(**kwargs)


def parse_yaml(text: str, source: str) -> Any:
    """``yaml.safe_load(text)``; a syntax error is a :class:`ConfigError` naming ``source``
    (a file or an override) and the line and column of the problem."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or type(exc).__name__
        raise ConfigError(f"{source} is not valid YAML{where}: {problem}") from None


def apply_dotted_overrides(
    root: type, values: Dict[str, Any], overrides: Sequence[str]
) -> Dict[str, Any]:
    """Apply ``section.key=value`` overrides (values parsed as YAML) to the nested dicts
    ``values`` of the dataclass ``root``, in place, and return ``values``.

    ``section.mapping_field.key[.key...]=value`` sets one entry of a mapping field
    (``data.dataset_kwargs``), creating the inner mappings as needed.

    Raises:
        ConfigError: an override without ``=``, an unknown section/key, or a path through a
            mapping entry that is not a mapping.
    """
    for override in overrides:
        dotted, sep, raw = override.partition("=")
        if not sep or not dotted.strip():
            raise ConfigError(f"override {override!r} must look like section.key=value")
        parts = dotted.strip().split(".")
        cls: Any = root
        target = values
        for depth, part in enumerate(parts):
            hints = typing.get_type_hints(cls) if dataclasses.is_dataclass(cls) else {}
            prefix = ".".join(parts[:depth]) + ("." if depth else "")
            if part not in hints:
                raise ConfigError(_valid_keys_message(cls, prefix, part))
            if depth == len(parts) - 1:
                target[part] = parse_yaml(raw, f"override {override!r}")
            elif typing.get_origin(hints[part]) in (dict, Dict):
                # A mapping field (data.dataset_kwargs): the rest of the path names its keys.
                value = parse_yaml(raw, f"override {override!r}")
                _set_nested(target, parts[: depth + 1], parts[depth + 1 :], value)
                break
            else:
                cls = hints[part]
                if not dataclasses.is_dataclass(cls):
                    raise ConfigError(
                        f"{prefix}{part} is a value, not a section: set it as {prefix}{part}=..."
                    )
                target = target.setdefault(part, {})
    return values


def _set_nested(
    target: Dict[str, Any], path: Sequence[str], keys: Sequence[str], value: Any
) -> None:
    """Set ``target[path[-1]][keys[0]]...[keys[-1]] = value``, creating mappings on the way
    and keeping the other entries (``data.dataset_kwargs.mot.frame_stride=1``).

    Raises:
        ConfigError: a mapping on the way already holds a non-mapping value.
    """
    walked = list(path[:-1])
    for key in [path[-1], *keys[:-1]]:
        walked.append(key)
        if target.get(key) is None:
            target[key] = {}
        if not isinstance(target[key], dict):
            raise ConfigError(
                f"{'.'.join(walked)} is {target[key]!r}, not a mapping: cannot set "
                f"{'.'.join([*path, *keys])}"
            )
        target = target[key]
    target[keys[-1]] = value
