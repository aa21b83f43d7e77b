"""Small pure helpers: ``{attribute}`` templates and the checks on collected digits."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from switchboard.ivr.model import Check

NAME = r"[A-Za-z_][A-Za-z0-9_.]*"
_TOKEN = re.compile(r"\{\{|\}\}|\{(" + NAME + r")\}|[{}]")
ATTRIBUTE = re.compile(r"^" + NAME + r"$")


def check_template(text: str) -> None:
    """Raise ValueError if ``text`` has a brace that is not ``{name}``, ``{{`` or ``}}``."""
    for m in _TOKEN.finditer(text):
        if m.group(0) in ("{", "}"):
            raise ValueError(f"stray {m.group(0)!r} at character {m.start() + 1}: write "
                             "{attribute} for a value, {{ or }} for a brace")


def placeholders(text: str) -> list[str]:
    """The attribute names a template refers to."""
    return [m.group(1) for m in _TOKEN.finditer(text) if m.group(1)]


def render(text: str, attributes: Mapping[str, Any]) -> str:
    """Replace ``{name}`` with the attribute's value (empty when it has none)."""

    def one(m: re.Match[str]) -> str:
        token = m.group(0)
        if token == "{{":
            return "{"
        if token == "}}":
            return "}"
        name = m.group(1)
        value = attributes.get(name) if name else None
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    return _TOKEN.sub(one, text)


def luhn_ok(digits: str) -> bool:
    """The Luhn (mod 10) check of ISO/IEC 7812-1, used by card and many
    account numbers: from the right, double every second digit, subtract 9
    from results above 9; the sum must be a multiple of 10."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def passes(check: Check, digits: str) -> bool:
    """Whether ``digits`` passes one check."""
    if check.kind == "luhn":
        return luhn_ok(digits)
    if check.kind == "regex":
        assert check.pattern is not None
        return re.fullmatch(check.pattern, digits) is not None
    if check.kind == "range":
        if not digits.isdigit():
            return False
        value = int(digits)
        return (check.low is None or value >= check.low) and \
            (check.high is None or value <= check.high)
    raise ValueError(f"unknown check {check.kind!r}")


def mask(digits: str, keep: int = 4) -> str:
    """All but the last ``keep`` characters replaced by ``*`` (for sensitive input)."""
    if len(digits) <= keep:
        return "*" * len(digits)
    return "*" * (len(digits) - keep) + digits[-keep:]
