"""Records to strict JSON and back, driven by the dataclasses' type hints.

One generic reader replaces a hand-written ``from_dict`` per record: a field of type
``list[EpochRecord]`` is read as such because its annotation says so. Strict JSON has no
NaN or infinity; they are written as ``null`` and read back as NaN where the field is a
plain ``float`` (``float | None`` fields keep None).

    >>> from results.records import Curve
    >>> to_json_dict(Curve(x=[0.0, 1.0], y=[0.0, float("nan")]))
    {'x': [0.0, 1.0], 'y': [0.0, None]}
    >>> from_json_dict(Curve, {"x": [0.0], "y": [None]}).y
    [nan]
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import math
import types
import typing
from typing import Any, TypeVar

Record = TypeVar("Record")


def to_json_dict(record: Any, *, strict: bool = True) -> Any:
    """A dataclass (or list, dict, enum, number) as JSON-ready Python values; NaN and
    infinities as None when ``strict`` (strict JSON), kept as they are otherwise (for
    ``json.dumps(allow_nan=True)``, whose reading gives back the same record exactly)."""
    if dataclasses.is_dataclass(record) and not isinstance(record, type):
        return {f.name: to_json_dict(getattr(record, f.name), strict=strict) for f in dataclasses.fields(record)}
    if isinstance(record, enum.Enum):
        return record.value
    if isinstance(record, dict):
        return {str(key): to_json_dict(value, strict=strict) for key, value in record.items()}
    if isinstance(record, (list, tuple)):
        return [to_json_dict(value, strict=strict) for value in record]
    if strict and isinstance(record, float) and not math.isfinite(record):
        return None
    return record


def from_json_dict(cls: type[Record], data: Any) -> Record:
    """Read ``data`` (parsed JSON) as an instance of the dataclass ``cls``.

    Fields missing from ``data`` take their defaults (files written before the field
    existed); unknown keys raise ``KeyError`` naming them, and values of the wrong type
    ``TypeError``.
    """
    return _read(cls, data, path=cls.__name__)


def _read(kind: Any, value: Any, *, path: str) -> Any:
    origin, args = _shape(kind)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _read(inner, value, path=path)
    if origin in (list, tuple):
        _expect(value, list, path)
        if origin is tuple and args and args[-1] is not Ellipsis:
            return tuple(_read(a, v, path=f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        items = _scalars(item, value)
        if items is None:
            items = [_read(item, v, path=f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        _expect(value, dict, path)
        return {k: _read(args[1], v, path=f"{path}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(kind):
        _expect(value, dict, path)
        hints = _hints(kind)
        unknown = sorted(set(value) - set(hints))
        if unknown:
            raise KeyError(f"{path}: unknown field(s) {', '.join(unknown)}")
        return kind(**{name: _read(hints[name], v, path=f"{path}.{name}") for name, v in value.items()})
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(value)
    if kind is float:
        if value is None:
            return math.nan
        _expect(value, (int, float), path)
        return float(value)
    if kind is int:
        _expect(value, int, path)
        return value
    if kind in (str, bool):
        _expect(value, kind, path)
        return value
    return value  # Any, or an unparameterised container: taken as it is


def _expect(value: Any, kinds: type | tuple[type, ...], path: str) -> None:
    # bool is an int in Python; a JSON true is never a number here.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in _as_tuple(kinds)):
        raise TypeError(f"{path}: expected {_names(kinds)}, got {type(value).__name__} {value!r:.60}")


def _as_tuple(kinds: type | tuple[type, ...]) -> tuple[type, ...]:
    return kinds if isinstance(kinds, tuple) else (kinds,)


def _names(kinds: type | tuple[type, ...]) -> str:
    return " or ".join(k.__name__ for k in _as_tuple(kinds))


def _scalars(kind: Any, values: list) -> list | None:
    """A list of numbers or strings read in one pass (ROC curves and histograms hold
    hundreds of thousands of them); None when any value is not plainly valid, so the caller
    reads item by item and names the bad one."""
    if kind is float:
        if all(type(v) is float or type(v) is int or v is None for v in values):
            return [math.nan if v is None else float(v) for v in values]
    elif kind is int or kind is str or kind is bool:
        if all(type(v) is kind for v in values):
            return list(values)
    return None


@functools.cache
def _shape(kind: Any) -> tuple[Any, tuple[Any, ...]]:
    return typing.get_origin(kind), typing.get_args(kind)


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)
