"""Branch rules and lookup results: the data side of the interpreter."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from switchboard.ivr.model import Rule

MAX_DEPTH = 4
MAX_KEYS = 200


def _same(a: Any, b: Any) -> bool:
    """Equality that treats "2" and 2 alike (keys are text, YAML values are not)."""
    if a is None or b is None:
        return a is b
    if type(a) is type(b):
        return bool(a == b)
    return _text(a) == _text(b)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def matches(rule: Rule, value: Any) -> bool:
    """Whether attribute ``value`` satisfies ``rule``."""
    present = value is not None and value != ""
    if rule.op == "exists":
        return present
    if rule.op == "missing":
        return not present
    if rule.op == "equals":
        return _same(value, rule.value)
    if rule.op == "not_equals":
        return not _same(value, rule.value)
    if rule.op == "in":
        return any(_same(value, v) for v in rule.value)
    number = _number(value)
    if number is None:
        return False
    limit = float(rule.value)
    return number > limit if rule.op == "above" else number < limit


def flatten(data: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """A lookup's result as flat attributes: ``{"name": "Ada", "tier": {"level": 2}}``
    under ``customer`` gives ``customer.name`` and ``customer.tier.level``.
    Values other than text, numbers, true/false and lists of those are left
    out; nesting stops at 4 levels and the result at 200 keys."""
    out: dict[str, Any] = {}

    def walk(node: Mapping[str, Any], path: str, depth: int) -> None:
        for key, value in node.items():
            if len(out) >= MAX_KEYS:
                return
            name = f"{path}.{key}"
            if isinstance(value, Mapping):
                if depth < MAX_DEPTH:
                    walk(value, name, depth + 1)
            elif isinstance(value, str | int | float | bool) or value is None:
                if not (isinstance(value, float) and not math.isfinite(value)):
                    out[name] = value
            elif isinstance(value, list | tuple) and all(
                    isinstance(v, str | int | float | bool) for v in value):
                out[name] = list(value)

    walk(data, prefix, 1)
    return out
