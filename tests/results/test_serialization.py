"""Records to JSON and back: the type hints drive the reader, and bad files fail by name."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import pytest

from results.config import AuditConfig
from results.records import TprAtFpr
from results.serialization import from_json_dict, to_json_dict
from results.vocabulary import RegimeKind


@dataclass
class _Inner:
    value: float
    kind: RegimeKind


@dataclass
class _Outer:
    name: str
    items: list[_Inner]
    by_name: dict[str, _Inner]
    levels: tuple[float, ...] = ()
    note: str | None = None
    extra: list[int] = field(default_factory=list)


def test_nested_records_round_trip_through_strict_json():
    record = _Outer(
        name="x",
        items=[_Inner(0.5, RegimeKind.FLOOD)],
        by_name={"a": _Inner(math.inf, RegimeKind.DP)},
        levels=(0.1, 0.3),
    )
    data = json.loads(json.dumps(to_json_dict(record), allow_nan=False))
    assert data["by_name"]["a"] == {"value": None, "kind": "dp"}
    back = from_json_dict(_Outer, data)
    assert back.items == [_Inner(0.5, RegimeKind.FLOOD)] and back.levels == (0.1, 0.3)
    assert math.isnan(back.by_name["a"].value) and back.by_name["a"].kind is RegimeKind.DP


def test_missing_fields_take_their_defaults():
    back = from_json_dict(_Outer, {"name": "x", "items": [], "by_name": {}})
    assert back.levels == () and back.note is None and back.extra == []


def test_unknown_fields_and_wrong_types_are_named():
    with pytest.raises(KeyError, match=r"_Outer: unknown field\(s\) surprise"):
        from_json_dict(_Outer, {"name": "x", "items": [], "by_name": {}, "surprise": 1})
    with pytest.raises(TypeError, match=r"_Outer.items\[0\].value: expected int or float"):
        from_json_dict(_Outer, {"name": "x", "items": [{"value": "high", "kind": "dp"}], "by_name": {}})
    with pytest.raises(TypeError, match="TprAtFpr.resolvable: expected bool"):
        from_json_dict(TprAtFpr, {"fpr": 0.01, "tpr": 0.1, "resolvable": 1})


def test_the_configuration_round_trips():
    config = AuditConfig(flood_levels=(0.05, 0.5), regimes=("standard", "dp:8"), seed=3)
    assert from_json_dict(AuditConfig, json.loads(json.dumps(to_json_dict(config)))) == config
