"""Typed reads of one flow field, each raising a :class:`BadValue` that names
the field's path and line. Used by :mod:`switchboard.ivr.loader`."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping
from datetime import date, datetime
from typing import Any, NoReturn

from switchboard.ivr.errors import BadValue, FlowError
from switchboard.ivr.hours import merge, parse_range
from switchboard.ivr.model import DIGITS, LANGUAGES, Check, Intervals, Prompt
from switchboard.ivr.source import Document
from switchboard.ivr.values import ATTRIBUTE, check_template

READ_ONLY = ("caller", "called", "interaction_id")
_NUMBER = re.compile(r"^\+?[0-9]{2,20}$")


class Fields:
    """Field readers bound to a parsed document (for line numbers)."""

    def __init__(self, doc: Document | None, source: str) -> None:
        self.doc = doc
        self.source = source
        self.step: str | None = None  # the step being read, for error.step

    def fail(self, path: str, message: str, cls: type[FlowError] = BadValue) -> NoReturn:
        line = self.doc.line(path) if self.doc is not None else None
        raise cls(message, field=path, step=self.step, line=line, source=self.source)

    def keys(self, value: Any, path: str, allowed: Collection[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping")
        for key in value:
            if key not in allowed:
                self.fail(f"{path}.{key}" if path else str(key), "unknown field; expected one of "
                          + ", ".join(sorted(allowed)))
        return value

    def text(self, value: Any, path: str, *, template: bool = False) -> str:
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "must be a non-empty string")
        if template:
            try:
                check_template(value)
            except ValueError as exc:
                self.fail(path, str(exc))
        return value

    def ident(self, value: Any, path: str) -> str:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)  # a step id written as a number (options: {1: 2})
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "must be a non-empty string")
        return value

    def attribute(self, value: Any, path: str, *, writable: bool = False) -> str:
        if not isinstance(value, str) or not ATTRIBUTE.match(value):
            self.fail(path, f"{value!r} is not an attribute name (letters, digits, _ and ., "
                      "starting with a letter or _)")
        if writable and value in READ_ONLY:
            self.fail(path, f"{value!r} is read-only (set by the call)")
        return value

    def number(self, value: Any, path: str, *, low: float, high: float) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or not low < value <= high:
            self.fail(path, f"must be a number of seconds above {low:g} and at most "
                      f"{high:g}, got {value!r}")
        return float(value)

    def whole(self, value: Any, path: str, *, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            self.fail(path, f"must be a whole number from {low} to {high}, got {value!r}")
        return value

    def flag(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"must be true or false, got {value!r}")
        return value

    def key(self, value: Any, path: str, *, allow_none: bool = False) -> str | None:
        if value is None and allow_none:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 9:
            value = str(value)
        if not isinstance(value, str) or len(value) != 1 or value not in DIGITS:
            self.fail(path, f"must be one key of 0-9, * or # (quote * and #), got {value!r}")
        return value

    def language(self, value: Any, path: str) -> str:
        if value not in LANGUAGES:
            self.fail(path, f"unknown language {value!r}; use one of {', '.join(LANGUAGES)}")
        assert isinstance(value, str)
        return value

    def phone(self, value: Any, path: str) -> str:
        text = self.text(value, path)
        if not _NUMBER.match(text):
            self.fail(path, f"{text!r} is not a phone number (digits, an optional leading +)")
        return text

    def skills(self, value: Any, path: str) -> Mapping[str, int]:
        if not isinstance(value, dict):
            self.fail(path, "must be a mapping of skill name to level 1..10")
        out: dict[str, int] = {}
        for name, level in value.items():
            self.text(name, path, template=True)
            out[name] = self.whole(level, f"{path}.{name}", low=1, high=10)
        return out

    def prompt(self, value: Any, path: str, default_lang: str) -> Prompt:
        """A prompt: a string (TTS in the flow's language), or a mapping with
        ``say`` (a string, or language -> string), ``lang`` and/or ``file``."""
        if isinstance(value, str):
            return Prompt(texts={default_lang: self.text(value, path, template=True)})
        data = self.keys(value, path, ("say", "lang", "file"))
        if "say" not in data and "file" not in data:
            self.fail(path, "give say (text to speak) or file (an audio file)")
        file = self.text(data["file"], f"{path}.file", template=True) if "file" in data \
            else None
        texts: dict[str, str] = {}
        say = data.get("say")
        if isinstance(say, dict):
            if "lang" in data:
                self.fail(f"{path}.lang", "lang goes with a single text; say already names "
                          "the language of each text")
            for lang, text in say.items():
                self.language(lang, f"{path}.say.{lang}")
                texts[lang] = self.text(text, f"{path}.say.{lang}", template=True)
            if not texts:
                self.fail(f"{path}.say", "give at least one language")
        elif say is not None:
            lang = self.language(data["lang"], f"{path}.lang") if "lang" in data \
                else default_lang
            texts[lang] = self.text(say, f"{path}.say", template=True)
        elif "lang" in data:
            self.fail(f"{path}.lang", "lang goes with say")
        return Prompt(texts=texts, file=file)

    def checks(self, value: Any, path: str) -> tuple[Check, ...]:
        """``validate`` of a collect step: luhn, {regex: P}, {range: [LOW, HIGH]} or a list."""
        if value is None:
            return ()
        items = value if isinstance(value, list) else [value]
        out = []
        for i, item in enumerate(items):
            p = f"{path}[{i}]" if isinstance(value, list) else path
            if item == "luhn":
                out.append(Check("luhn"))
                continue
            if not isinstance(item, dict) or len(item) != 1 \
                    or next(iter(item)) not in ("regex", "range"):
                self.fail(p, "must be luhn, {regex: PATTERN} or {range: [LOW, HIGH]}")
            kind, arg = next(iter(item.items()))
            if kind == "regex":
                pattern = self.text(arg, f"{p}.regex")
                try:
                    re.compile(pattern)
                except re.error as exc:
                    self.fail(f"{p}.regex", f"not a valid regular expression: {exc}")
                out.append(Check("regex", pattern=pattern))
            else:
                if not isinstance(arg, list) or len(arg) != 2:
                    self.fail(f"{p}.range", "must be [LOW, HIGH]")
                lo = self.whole(arg[0], f"{p}.range[0]", low=0, high=10**18)
                hi = self.whole(arg[1], f"{p}.range[1]", low=0, high=10**18)
                if hi < lo:
                    self.fail(f"{p}.range", f"HIGH ({hi}) is below LOW ({lo})")
                out.append(Check("range", low=lo, high=hi))
        return tuple(out)

    def ranges(self, value: Any, path: str) -> Intervals:
        """Opening hours of a day: a list of HH:MM-HH:MM ranges, one range, or closed."""
        if value == "closed" or value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list):
            self.fail(path, "must be a list of ranges like 08:30-12:00, or closed")
        out = []
        for i, item in enumerate(items):
            try:
                out.append(parse_range(item if isinstance(item, str) else repr(item)))
            except ValueError as exc:
                self.fail(f"{path}[{i}]", str(exc))
        return merge(out)

    def day(self, value: Any, path: str) -> date:
        """A date (YAML gives one for 2025-12-25; JSON gives the text)."""
        if isinstance(value, datetime):
            self.fail(path, f"{value} is a time; give a date like 2025-12-25")
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(path, f"{value!r} is not a date like 2025-12-25")
