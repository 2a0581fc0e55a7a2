"""Configuration files: ``--config FILE.toml`` in, the effective ``config.toml`` out.

Keys are the configuration's field names (the command line's option names with
underscores). Unknown keys and values of the wrong type are errors that name the key, the
value and what it should be, before anything trains.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import typing
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from audit.errors import AuditInputError
from results.config import AuditConfig, config_fields
from results.files import write_text


def load_config_file(path: str | Path) -> dict[str, Any]:
    """Read a TOML file of configuration fields; returns them with tuples for list fields.

    Unknown keys are an error that lists the valid ones, so a typo never goes unnoticed;
    a value of the wrong type (``epochs = 2.5``, ``flood_levels = 0.3`` where a list is
    expected, ``output_dir = 5``) is an error naming the key and the expected type.
    """
    path = Path(path)
    if not path.is_file():
        raise AuditInputError(f"config file {path} does not exist: check the --config path (a TOML file of option = value lines)")
    try:
        values = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise AuditInputError(f"config file {path} is not valid TOML: {error}") from None
    unknown = sorted(set(values) - set(config_fields()))
    if unknown:
        raise AuditInputError(
            f"config file {path} has unknown keys {', '.join(unknown)}; valid keys: {', '.join(config_fields())}"
        )
    return {key: _checked_value(key, value, source=str(path)) for key, value in values.items()}


def check_field_types(config: AuditConfig, *, source: str = "the configuration") -> None:
    """Raise :class:`AuditInputError` for the first field whose value has the wrong type."""
    for field in dataclasses.fields(AuditConfig):
        _checked_value(field.name, getattr(config, field.name), source=source)


def write_config_toml(path: Path, config: AuditConfig) -> None:
    """The effective configuration as TOML that ``--config`` reads back."""
    lines = [f"{f.name} = {_toml_value(getattr(config, f.name))}" for f in dataclasses.fields(config)]
    write_text(path, "# effective configuration of this run (python -m audit.run --config THIS_FILE)\n" + "\n".join(lines) + "\n")


def _checked_value(key: str, value: Any, *, source: str) -> Any:
    """``value`` as the type field ``key`` declares (ints are accepted for floats, lists for
    tuples), or an error naming the key, the value and the expected type."""
    expected = typing.get_type_hints(AuditConfig)[key]
    if typing.get_origin(expected) is dict:
        if not isinstance(value, dict) or not all(isinstance(k, str) and k.isidentifier() for k in value):
            raise AuditInputError(
                f"{key} in {source} must be a table of name = value pairs, got {value!r} "
                f"(e.g. [{key}] with width = 64 below it)"
            )
        return dict(value)
    if typing.get_origin(expected) is tuple:
        (item,) = {a for a in typing.get_args(expected) if a is not Ellipsis}
        if not isinstance(value, (list, tuple)) or not all(_is_a(v, item) for v in value):
            raise AuditInputError(
                f"{key} in {source} must be a list of {_type_name(item)}s, got {value!r} "
                f"(e.g. {key} = [{_example(item)}])"
            )
        return tuple(float(v) if item is float else v for v in value)
    if not _is_a(value, expected):
        raise AuditInputError(f"{key} in {source} must be a {_type_name(expected)}, got {value!r}")
    return float(value) if expected is float else value


def _is_a(value: Any, kind: type) -> bool:
    if kind is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def _type_name(kind: type) -> str:
    return {float: "number", int: "whole number", str: "string", bool: "boolean (true or false)"}[kind]


def _example(kind: type) -> str:
    return {float: "0.1, 0.3", int: "1, 2", str: '"standard", "flood:0.3"', bool: "true"}[kind]


def _toml_value(value: Any) -> str:
    # JSON's spelling of strings, numbers, booleans and arrays is valid TOML; a table is
    # written inline ({ width = 64 }), which TOML spells differently from a JSON object.
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{key} = {_toml_value(item)}" for key, item in value.items()) + " }"
    return json.dumps(list(value) if isinstance(value, tuple) else value)
