"""JSON encoding of the engine's commands and configuration dataclasses.

The engine input log stores each command as ``(name, payload)``:
``command_to_json`` gives the class name and a JSON-ready dict of its fields;
``command_from_json`` rebuilds an equal command. Nested dataclasses (customer,
agent and queue configurations, expansion steps, overflow rules) and enums are
rebuilt from the field type hints, so the round trip is exact; floats survive
JSON unchanged (Python writes the shortest repr that reads back the same).
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any

from switchboard.domain import commands as c
from switchboard.domain.errors import ValidationError

COMMANDS: dict[str, type[c.Command]] = {
    cls.__name__: cls
    for cls in vars(c).values()
    if isinstance(cls, type) and issubclass(cls, c.Command) and cls is not c.Command
}


def to_json(value: Any) -> Any:
    """A JSON-ready copy of a dataclass, enum, mapping, tuple or plain value."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {(k.value if isinstance(k, enum.Enum) else k): to_json(v)
                for k, v in value.items()}
    if isinstance(value, frozenset | set):
        return [to_json(v) for v in sorted(value)]
    if isinstance(value, tuple | list):
        return [to_json(v) for v in value]
    return value


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    hints = _HINTS.get(cls)
    if hints is None:
        hints = _HINTS[cls] = typing.get_type_hints(cls)
    return hints


def _decode(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in typing.get_args(hint) if a is not type(None)]
        return _decode(kept[0], value) if len(kept) == 1 else value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return from_json(hint, value)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return hint(value)
    if origin is tuple:
        return tuple(_decode(typing.get_args(hint)[0], v) for v in value)
    if origin is frozenset:
        (arg,) = typing.get_args(hint)
        return frozenset(_decode(arg, v) for v in value)
    return value


def from_json(cls: type[Any], data: Mapping[str, Any]) -> Any:
    """Rebuild a dataclass of type ``cls`` from :func:`to_json` output."""
    if not isinstance(data, Mapping):
        raise ValidationError(f"{cls.__name__} must be an object")
    hints = _hints(cls)
    kwargs = {name: _decode(hints[name], value) for name, value in data.items()
              if name in hints}
    unknown = set(data) - set(hints)
    if unknown:
        raise ValidationError(f"unknown field for {cls.__name__}", field=sorted(unknown)[0])
    return cls(**kwargs)


def command_to_json(command: c.Command) -> tuple[str, dict[str, Any]]:
    """``(class name, fields)`` of an engine command."""
    name = type(command).__name__
    if COMMANDS.get(name) is not type(command):
        raise ValidationError(f"unknown command {name}", field="command")
    payload = to_json(command)
    assert isinstance(payload, dict)
    return name, payload


def command_from_json(name: str, payload: Mapping[str, Any]) -> c.Command:
    """The command that :func:`command_to_json` encoded as ``(name, payload)``."""
    cls = COMMANDS.get(name)
    if cls is None:
        raise ValidationError(f"unknown command {name!r}", field="command")
    command: c.Command = from_json(cls, payload)
    return command
