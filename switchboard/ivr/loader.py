"""Flow text to a validated :class:`~switchboard.ivr.model.Flow`.

:func:`parse_flow` takes YAML or JSON text (the caller reads the file),
:func:`load_flow` data already parsed (an API body). Both check every field,
then the graph (:mod:`switchboard.ivr.validate`), and raise a
:class:`~switchboard.ivr.errors.FlowError` naming the step, field and line.
The format is documented in docs/ivr.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from datetime import date
from typing import Any

from switchboard.ivr import model as m
from switchboard.ivr.errors import MissingFallback, UnknownStepType
from switchboard.ivr.fields import Fields
from switchboard.ivr.hours import WEEKDAYS, zone
from switchboard.ivr.source import Document
from switchboard.ivr.validate import check_graph

TOP_KEYS = ("name", "description", "start", "language", "max_prompt_s", "steps")
ASK_KEYS = ("type", "prompt", "timeout_s", "retries", "invalid", "no_input", "barge_in")
STEP_KEYS: Mapping[str, tuple[str, ...]] = {
    "play": ("type", "prompt", "barge_in", "next"),
    "menu": (*ASK_KEYS, "options", "fallback"),
    "collect": (*ASK_KEYS, "into", "min_length", "max_length", "terminator",
                "inter_digit_timeout_s", "validate", "sensitive", "next", "fallback"),
    "callback": (*ASK_KEYS, "queue", "priority", "skills", "accept_key", "decline_key",
                 "phone", "accepted", "declined"),
    "survey": (*ASK_KEYS, "survey", "next", "fallback"),
    "hours": ("type", "timezone", "weekly", "holidays", "calendar", "open", "closed",
              "holiday"),
    "set": ("type", "values", "next"),
    "branch": ("type", "rules", "default"),
    "lookup": ("type", "source", "url", "method", "params", "timeout_s", "into", "next",
               "fallback"),
    "enqueue": ("type", "queue", "priority", "skills", "attributes", "preferred_agent",
                "after_call", "if_refused"),
    "voicemail": ("type", "queue", "greeting", "max_s", "beep", "terminator"),
    "transfer": ("type", "number", "caller_id", "ring_timeout_s"),
    "hangup": ("type", "reason"),
}
# The field that says where a waiting step goes when the caller keys nothing valid
# (or the data does not come): leaving it out is a MissingFallback.
FALLBACK_FIELD = {"menu": "fallback", "collect": "fallback", "survey": "fallback",
                  "callback": "declined", "lookup": "fallback", "hours": "closed",
                  "branch": "default"}
RULE_OPS = ("equals", "not_equals", "in", "above", "below", "exists", "missing")
_STEP_ID = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def parse_flow(text: str, *, source: str = "flow",
               known_queues: Collection[str] | None = None,
               known_calendars: Collection[str] | None = None) -> m.Flow:
    """Parse and validate flow text (YAML or JSON); ``source`` names it in errors
    (a file name). With ``known_queues``, queue names must be among them; with
    ``known_calendars``, so must the calendars that hours steps name.

    Raises :class:`~switchboard.ivr.errors.FlowError` (a ValidationError)."""
    doc = Document(text, source)
    return _Loader(Fields(doc, source), known_queues, known_calendars).flow(doc.data)


def load_flow(data: Mapping[str, Any], *, source: str = "flow",
              known_queues: Collection[str] | None = None,
              known_calendars: Collection[str] | None = None) -> m.Flow:
    """Validate flow data already parsed (from JSON, say); errors have no line."""
    return _Loader(Fields(None, source), known_queues, known_calendars).flow(dict(data))


def digest(data: Mapping[str, Any]) -> str:
    """SHA-256 of the canonical JSON of the flow's data."""
    canon = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                       default=str)
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


class _Loader:
    def __init__(self, f: Fields, known_queues: Collection[str] | None,
                 known_calendars: Collection[str] | None = None) -> None:
        self.f = f
        self.known_queues = known_queues
        self.known_calendars = known_calendars
        self.lang = "en"
        self.builders: dict[str, Callable[[str, dict[str, Any], str], m.Step]] = {
            "play": self.play, "menu": self.menu, "collect": self.collect,
            "callback": self.callback, "survey": self.survey, "hours": self.hours,
            "set": self.set_attributes, "branch": self.branch, "lookup": self.lookup,
            "enqueue": self.enqueue, "voicemail": self.voicemail, "transfer": self.transfer,
            "hangup": self.hangup,
        }

    def flow(self, data: dict[str, Any]) -> m.Flow:
        f = self.f
        f.keys(data, "", TOP_KEYS)
        for name in ("name", "start", "steps"):
            if name not in data:
                f.fail(name, "is required")
        name = f.ident(data["name"], "name")
        self.lang = f.language(data.get("language", "en"), "language")
        max_prompt = f.number(data.get("max_prompt_s", 300), "max_prompt_s", low=0, high=3600)
        description = data.get("description", "")
        if not isinstance(description, str):
            f.fail("description", "must be text")
        raw_steps = data["steps"]
        if not isinstance(raw_steps, dict) or not raw_steps:
            f.fail("steps", "must be a mapping of step id to step, with at least one step")
        steps: dict[str, m.Step] = {}
        for step_id, raw in raw_steps.items():
            steps[step_id] = self.step(step_id, raw)
        f.step = None
        start = f.ident(data["start"], "start")
        flow = m.Flow(name=name, start=start, language=self.lang, steps=steps,
                      max_prompt_s=max_prompt, digest=digest(data), description=description)
        check_graph(flow, f)
        return flow

    def step(self, step_id: str, raw: Any) -> m.Step:
        f = self.f
        path = f"steps.{step_id}"
        f.step = step_id
        if not _STEP_ID.match(step_id):
            f.fail(path, "a step id is 1 to 64 letters, digits, _, . or -")
        if not isinstance(raw, dict):
            f.fail(path, "must be a mapping with a type")
        kind = raw.get("type")
        if not isinstance(kind, str) or kind not in STEP_KEYS:
            f.fail(f"{path}.type", f"unknown step type {kind!r}; use one of "
                   + ", ".join(STEP_KEYS), UnknownStepType)
        f.keys(raw, path, STEP_KEYS[kind])
        fallback = FALLBACK_FIELD.get(kind)
        if fallback is not None and fallback not in raw:
            f.fail(path, f"a {kind} step needs {fallback}: the step to go to when "
                   + ("no rule matches" if kind == "branch" else
                      "it is closed" if kind == "hours" else
                      "the data does not come" if kind == "lookup" else
                      "the caller keys nothing valid"),
                   MissingFallback)
        return self.builders[kind](step_id, raw, path)

    # ------------------------------------------------------------ field groups
    def target(self, raw: dict[str, Any], path: str, name: str) -> str:
        if name not in raw:
            self.f.fail(path, f"{name} is required")
        return self.f.ident(raw[name], f"{path}.{name}")

    def opt_target(self, raw: dict[str, Any], path: str, name: str) -> str | None:
        return self.f.ident(raw[name], f"{path}.{name}") if name in raw else None

    def prompt(self, raw: dict[str, Any], path: str, name: str = "prompt") -> m.Prompt:
        if name not in raw:
            self.f.fail(path, f"{name} is required")
        return self.f.prompt(raw[name], f"{path}.{name}", self.lang)

    def opt_prompt(self, raw: dict[str, Any], path: str, name: str) -> m.Prompt | None:
        return self.prompt(raw, path, name) if name in raw else None

    def ask(self, raw: dict[str, Any], path: str, *, timeout: float = 5.0) -> dict[str, Any]:
        f = self.f
        return dict(
            prompt=self.prompt(raw, path),
            timeout_s=f.number(raw.get("timeout_s", timeout), f"{path}.timeout_s",
                               low=0, high=600),
            retries=f.whole(raw.get("retries", 2), f"{path}.retries", low=0, high=10),
            invalid=self.opt_prompt(raw, path, "invalid"),
            no_input=self.opt_prompt(raw, path, "no_input"),
            barge_in=f.flag(raw.get("barge_in", True), f"{path}.barge_in"),
        )

    def queue(self, raw: dict[str, Any], path: str) -> str:
        if "queue" not in raw:
            self.f.fail(path, "queue is required")
        queue = self.f.ident(raw["queue"], f"{path}.queue")
        if self.known_queues is not None and queue not in self.known_queues:
            self.f.fail(f"{path}.queue", f"unknown queue {queue!r}; known queues: "
                        + ", ".join(sorted(self.known_queues)))
        return queue

    def priority(self, raw: dict[str, Any], path: str) -> int | None:
        if "priority" not in raw:
            return None
        return self.f.whole(raw["priority"], f"{path}.priority", low=-1000, high=1000)

    # ------------------------------------------------------------------ steps
    def play(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        return m.Play(id=sid, line=self.line(path),
                      prompt=self.prompt(raw, path),
                      barge_in=self.f.flag(raw.get("barge_in", False), f"{path}.barge_in"),
                      next=self.target(raw, path, "next"))

    def menu(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        options = raw.get("options")
        if not isinstance(options, dict) or not options:
            f.fail(f"{path}.options", "must map keys (0-9, * or #) to step ids")
        parsed = {}
        for key, target in options.items():
            k = f.key(key, f"{path}.options.{key}")
            assert k is not None
            parsed[k] = f.ident(target, f"{path}.options.{key}")
        return m.Menu(id=sid, line=self.line(path), options=parsed,
                      fallback=self.target(raw, path, "fallback"), **self.ask(raw, path))

    def collect(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        low = f.whole(raw.get("min_length", 1), f"{path}.min_length", low=1, high=64)
        high = f.whole(raw.get("max_length", 20), f"{path}.max_length", low=1, high=64)
        if high < low:
            f.fail(f"{path}.max_length", f"must be at least min_length ({low}), got {high}")
        if "into" not in raw:
            f.fail(path, "into is required: the attribute that keeps the digits")
        return m.Collect(
            id=sid, line=self.line(path), **self.ask(raw, path, timeout=8.0),
            into=f.attribute(raw["into"], f"{path}.into", writable=True),
            min_length=low, max_length=high,
            terminator=f.key(raw.get("terminator", "#"), f"{path}.terminator",
                             allow_none=True),
            inter_digit_timeout_s=f.number(raw.get("inter_digit_timeout_s", 4),
                                           f"{path}.inter_digit_timeout_s", low=0, high=600),
            checks=f.checks(raw.get("validate"), f"{path}.validate"),
            sensitive=f.flag(raw.get("sensitive", False), f"{path}.sensitive"),
            next=self.target(raw, path, "next"), fallback=self.target(raw, path, "fallback"))

    def callback(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        accept = f.key(raw.get("accept_key", "1"), f"{path}.accept_key")
        decline = f.key(raw.get("decline_key", "2"), f"{path}.decline_key")
        if accept == decline:
            f.fail(f"{path}.decline_key", "must differ from accept_key")
        assert accept is not None and decline is not None
        return m.Callback(
            id=sid, line=self.line(path), **self.ask(raw, path), queue=self.queue(raw, path),
            priority=self.priority(raw, path),
            skills=f.skills(raw.get("skills", {}), f"{path}.skills"),
            accept_key=accept, decline_key=decline,
            phone=f.text(raw.get("phone", "{caller}"), f"{path}.phone", template=True),
            accepted=self.target(raw, path, "accepted"),
            fallback=self.target(raw, path, "declined"))

    def survey(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        if raw.get("survey", "csat") != "csat":
            self.f.fail(f"{path}.survey", "only csat (a score from 1 to 5) is supported")
        return m.Survey(id=sid, line=self.line(path), **self.ask(raw, path),
                        next=self.target(raw, path, "next"),
                        fallback=self.target(raw, path, "fallback"))

    def hours(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        if "calendar" in raw:
            return self.calendar_hours(sid, raw, path)
        tz = f.text(raw.get("timezone"), f"{path}.timezone")
        try:
            zone(tz)
        except ValueError as exc:
            f.fail(f"{path}.timezone", str(exc))
        weekly_raw = f.keys(raw.get("weekly", {}), f"{path}.weekly", WEEKDAYS)
        weekly = {WEEKDAYS.index(day): f.ranges(v, f"{path}.weekly.{day}")
                  for day, v in weekly_raw.items()}
        holidays: dict[date, m.Intervals] = {}
        listing = raw.get("holidays", [])
        if not isinstance(listing, list):
            f.fail(f"{path}.holidays", "must be a list of dates or {date, hours}")
        for i, item in enumerate(listing):
            p = f"{path}.holidays[{i}]"
            ranges: m.Intervals = ()
            if isinstance(item, dict):
                f.keys(item, p, ("date", "hours"))
                ranges = f.ranges(item.get("hours", []), f"{p}.hours")
                item = item.get("date")
            day = f.day(item, p)
            if day in holidays:
                f.fail(p, f"{day.isoformat()} is listed twice")
            holidays[day] = ranges
        return m.Hours(id=sid, line=self.line(path), timezone=tz, weekly=weekly,
                       holidays=holidays, open=self.target(raw, path, "open"),
                       closed=self.target(raw, path, "closed"),
                       holiday=self.opt_target(raw, path, "holiday"))

    def calendar_hours(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        """An hours step that names a calendar (the administration's business
        hours) instead of listing its own hours."""
        f = self.f
        for inline in ("timezone", "weekly", "holidays"):
            if inline in raw:
                f.fail(f"{path}.{inline}", "give either calendar or timezone, weekly and "
                       "holidays, not both")
        name = f.text(raw["calendar"], f"{path}.calendar")
        if self.known_calendars is not None and name not in self.known_calendars:
            f.fail(f"{path}.calendar", f"unknown calendar {name!r}; known calendars: "
                   + (", ".join(sorted(self.known_calendars)) or "none"))
        return m.Hours(id=sid, line=self.line(path), calendar=name,
                       open=self.target(raw, path, "open"),
                       closed=self.target(raw, path, "closed"),
                       holiday=self.opt_target(raw, path, "holiday"))

    def set_attributes(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        values = raw.get("values")
        if not isinstance(values, dict) or not values:
            f.fail(f"{path}.values", "must map attribute names to values")
        out: dict[str, Any] = {}
        for name, value in values.items():
            p = f"{path}.values.{name}"
            f.attribute(name, p, writable=True)
            if isinstance(value, str):
                if value:
                    f.text(value, p, template=True)
            elif value is not None and not isinstance(value, bool | int | float):
                f.fail(p, "must be text, a number, true/false or null")
            if name == "language" and isinstance(value, str) and "{" not in value:
                f.language(value, p)
            out[name] = value
        return m.SetAttributes(id=sid, line=self.line(path), values=out,
                               next=self.target(raw, path, "next"))

    def branch(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        items = raw.get("rules")
        if not isinstance(items, list) or not items:
            f.fail(f"{path}.rules", "must be a list of rules {attr, <op>: value, next}")
        rules = []
        for i, item in enumerate(items):
            p = f"{path}.rules[{i}]"
            f.keys(item, p, ("attr", "next", *RULE_OPS))
            ops = [op for op in RULE_OPS if op in item]
            if len(ops) != 1:
                f.fail(p, "give exactly one of " + ", ".join(RULE_OPS))
            op, value = ops[0], item[ops[0]]
            if op in ("above", "below") and (isinstance(value, bool)
                                             or not isinstance(value, int | float)):
                f.fail(f"{p}.{op}", f"must be a number, got {value!r}")
            if op == "in" and not isinstance(value, list):
                f.fail(f"{p}.in", "must be a list of values")
            if op in ("exists", "missing") and value is not True:
                f.fail(f"{p}.{op}", "write exists: true (or missing: true)")
            rules.append(m.Rule(attr=f.attribute(item.get("attr"), f"{p}.attr"), op=op,
                                value=tuple(value) if op == "in" else value,
                                next=self.target(item, p, "next")))
        return m.Branch(id=sid, line=self.line(path), rules=tuple(rules),
                        default=self.target(raw, path, "default"))

    def lookup(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        source = raw.get("source")
        if source not in ("webhook", "contacts"):
            f.fail(f"{path}.source", f"must be webhook or contacts, got {source!r}")
        url = None
        if source == "webhook":
            url = f.text(raw.get("url"), f"{path}.url", template=True)
            if not url.startswith(("http://", "https://")):
                f.fail(f"{path}.url", "must start with http:// or https://")
        elif "url" in raw:
            f.fail(f"{path}.url", "only a webhook lookup has a url")
        method = raw.get("method", "GET")
        if method not in ("GET", "POST"):
            f.fail(f"{path}.method", f"must be GET or POST, got {method!r}")
        params = raw.get("params", {})
        if not isinstance(params, dict):
            f.fail(f"{path}.params", "must map names to values or {attribute} templates")
        return m.Lookup(
            id=sid, line=self.line(path), source=source, url=url, method=method,
            params={k: f.text(v, f"{path}.params.{k}", template=True) for k, v in params.items()},
            timeout_s=f.number(raw.get("timeout_s", 3), f"{path}.timeout_s", low=0, high=30),
            into=f.attribute(raw.get("into"), f"{path}.into", writable=True),
            next=self.target(raw, path, "next"), fallback=self.target(raw, path, "fallback"))

    def enqueue(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        attrs = raw.get("attributes")
        if attrs is not None:
            if not isinstance(attrs, list):
                f.fail(f"{path}.attributes", "must be a list of attribute names")
            attrs = tuple(f.attribute(a, f"{path}.attributes[{i}]")
                          for i, a in enumerate(attrs))
        agent = raw.get("preferred_agent")
        return m.Enqueue(
            id=sid, line=self.line(path), queue=self.queue(raw, path),
            priority=self.priority(raw, path),
            skills=f.skills(raw.get("skills", {}), f"{path}.skills"), attributes=attrs,
            preferred_agent=None if agent is None else
            f.text(agent, f"{path}.preferred_agent", template=True),
            after_call=self.opt_target(raw, path, "after_call"),
            if_refused=self.opt_target(raw, path, "if_refused"))

    def voicemail(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        return m.Voicemail(
            id=sid, line=self.line(path), queue=self.queue(raw, path),
            greeting=self.opt_prompt(raw, path, "greeting"),
            max_s=f.number(raw.get("max_s", 120), f"{path}.max_s", low=0, high=3600),
            beep=f.flag(raw.get("beep", True), f"{path}.beep"),
            terminator=f.key(raw.get("terminator", "#"), f"{path}.terminator", allow_none=True))

    def transfer(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        f = self.f
        caller_id = raw.get("caller_id")
        return m.Transfer(
            id=sid, line=self.line(path), number=f.phone(raw.get("number"), f"{path}.number"),
            caller_id=None if caller_id is None else f.phone(caller_id, f"{path}.caller_id"),
            ring_timeout_s=f.number(raw.get("ring_timeout_s", 30), f"{path}.ring_timeout_s",
                                    low=0, high=600))

    def hangup(self, sid: str, raw: dict[str, Any], path: str) -> m.Step:
        return m.Hangup(id=sid, line=self.line(path),
                        reason=self.f.ident(raw.get("reason", "normal"), f"{path}.reason"))

    def line(self, path: str) -> int | None:
        return self.f.doc.line(path) if self.f.doc is not None else None
