"""Scenario files (YAML, see docs/scenario.md) parsed into a :class:`Scenario`.

Every error names the file, the line and the field, e.g.
``scenario.yaml:12: queues[0].strategy: unknown strategy 'fastest'; use one of ...``.
The YAML text comes in; files the scenario names (CDRs to replay or sample)
are read through the ``read_file`` callback, so this module does no I/O.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import yaml

from switchboard.domain.errors import ValidationError
from switchboard.domain.model import (
    AgentConfig,
    ExpansionStep,
    OverflowRule,
    QueueConfig,
    RoutingConfig,
)
from switchboard.sim.cdr import CDR_FIELDS, CdrError, CdrRow, arrival_offsets, durations, parse_cdr
from switchboard.sim.dists import Constant, Distribution, Empirical, Exponential, LogNormal
from switchboard.sim.model import (
    DEFAULT_START,
    AgentPlan,
    Arrivals,
    Break,
    PoissonArrivals,
    Rate,
    ReplayArrivals,
    Scenario,
    Shift,
    Stream,
)

ReadFile = Callable[[str], str]
T = TypeVar("T")

TOP_KEYS = ("hours", "days", "seed", "start", "sl_threshold", "sl_formula", "short_abandon",
            "answer_time", "skills", "queues", "agents", "demand")
QUEUE_KEYS = ("id", "name", "strategy", "skills", "members", "weight", "priority_aging_s",
              "steps", "overflow", "max_length", "timeout_s", "join_rule", "leave_rule",
              "ring_timeout_s", "wrapup_s", "max_wrapup_s", "max_misses", "occupancy_window_s",
              "affinity_timeout_s", "callback_ewt_s", "sl_threshold_s")
STEP_KEYS = ("after_s", "skills", "add_agents", "add_queues")
OVERFLOW_KEYS = ("to_queue", "after_s", "ewt_above_s")
AGENT_KEYS = ("id", "group", "count", "name", "skills", "capacity", "weight", "order", "shifts")
SHIFT_KEYS = ("start", "end", "breaks")
BREAK_KEYS = ("start", "minutes", "reason")
DEMAND_KEYS = ("name", "queue", "channel", "arrivals", "aht", "patience", "wrapup", "priority",
               "skills", "callback_accept")
ARRIVAL_KEYS = ("per_hour", "intervals", "replay", "queue")
INTERVAL_KEYS = ("start", "end", "per_hour")
DIST_KEYS = {"exponential": ("dist", "mean"), "lognormal": ("dist", "mean", "sd"),
             "constant": ("dist", "value"), "empirical": ("dist", "cdr", "field", "queue")}
_CLOCK = re.compile(r"^(\d+):([0-5]\d)$")


class ScenarioError(ValidationError):
    """A scenario file that cannot run: names the file, line and field."""

    def __init__(self, source: str, line: int, field: str, message: str) -> None:
        super().__init__(message, field=field)
        self.source = source
        self.line = line

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.source}:{self.line}: {where}{self.message}"


class _Doc:
    """The parsed YAML with the line of every value, by path (``queues[0].id``)."""

    def __init__(self, text: str, source: str) -> None:
        self.source = source
        self.lines: dict[str, int] = {}
        try:
            node = yaml.compose(text, Loader=yaml.SafeLoader)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problem = getattr(exc, "problem", None) or str(exc)
            raise ScenarioError(source, line, "", f"not valid YAML: {problem}") from None
        if node is None:
            raise ScenarioError(source, 1, "", "the file is empty")
        self.data = self._build(node, "")

    def _build(self, node: yaml.Node, path: str) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = str(key_node.value)
                sub = f"{path}.{key}" if path else key
                if key in out:
                    raise ScenarioError(self.source, key_node.start_mark.line + 1, sub,
                                        "duplicate key")
                out[key] = self._build(value_node, sub)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self._build(v, f"{path}[{i}]") for i, v in enumerate(node.value)]
        value = yaml.SafeLoader("").construct_object(node, deep=True)
        if isinstance(value, int) and not isinstance(value, bool) and ":" in str(node.value):
            return str(node.value)  # 8:30 is a clock time here, not YAML 1.1 base 60
        return value

    def line(self, path: str) -> int:
        while path and path not in self.lines:
            path = re.sub(r"(\.[^.\[\]]*|\[\d+\])$", "", path)
        return self.lines.get(path, 1)

    def error(self, path: str, message: str) -> ScenarioError:
        return ScenarioError(self.source, self.line(path), path, message)


class _Parser:
    def __init__(self, doc: _Doc, read_file: ReadFile) -> None:
        self.doc = doc
        self.read_file = read_file
        self.cdrs: dict[str, list[CdrRow]] = {}
        self.queue_index: dict[str, int] = {}
        self.agent_index: dict[str, int] = {}
        self.hours = 8.0

    # ---------------------------------------------------------------- helpers
    def mapping(self, value: Any, path: str, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.doc.error(path, "must be a mapping")
        for k in value:
            if k not in keys:
                raise self.doc.error(f"{path}.{k}" if path else k,
                                     f"unknown field; expected one of {', '.join(keys)}")
        return value

    def listing(self, value: Any, path: str) -> list[Any]:
        if not isinstance(value, list):
            raise self.doc.error(path, "must be a list")
        return value

    def number(self, value: Any, path: str, *, low: float = 0.0, strict: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float) \
                or not math.isfinite(value) or value < low or (strict and value <= low):
            sign = ">" if strict else ">="
            raise self.doc.error(path, f"must be a number {sign} {low:g}, got {value!r}")
        return float(value)

    def whole(self, value: Any, path: str, *, low: int = 0) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < low:
            raise self.doc.error(path, f"must be a whole number >= {low}, got {value!r}")
        return value

    def clock(self, value: Any, path: str) -> float:
        """Seconds from the day's start: hours as a number, or "H:MM"."""
        if isinstance(value, str):
            m = _CLOCK.match(value.strip())
            if m is None:
                raise self.doc.error(path, f"must be hours (8.5) or \"H:MM\", got {value!r}")
            return int(m.group(1)) * 3600.0 + int(m.group(2)) * 60.0
        return self.number(value, path) * 3600.0

    def wrap(self, path: str, build: Callable[[], T]) -> T:
        """Run a domain constructor; turn its error into one naming the line."""
        try:
            return build()
        except (ScenarioError, CdrError):
            raise
        except ValidationError as exc:
            raise self.doc.error(self._field(path, exc.field), exc.message) from None

    def _field(self, path: str, field: str | None) -> str:
        if not field:
            return path
        m = re.match(r"^(queues|agents)\[([^\]]*)\]\.?(.*)$", field)
        if m is not None:
            kind, ident, rest = m.groups()
            index = (self.queue_index if kind == "queues" else self.agent_index).get(ident)
            if index is not None:
                base = f"{kind}[{index}]"
                return f"{base}.{rest}" if rest else base
            return path
        return f"{path}.{field}" if path and not field.startswith(path) else field

    # ---------------------------------------------------------------- sections
    def scenario(self) -> Scenario:
        top = self.mapping(self.doc.data, "", TOP_KEYS)
        self.hours = self.number(top.get("hours", 8.0), "hours", strict=True)
        skills = self.listing(top.get("skills", []), "skills")
        for i, s in enumerate(skills):
            if not isinstance(s, str) or not s:
                raise self.doc.error(f"skills[{i}]", "must be a skill name")
        queues = [self.queue(q, f"queues[{i}]")
                  for i, q in enumerate(self.listing(top.get("queues"), "queues"))]
        if not queues:
            raise self.doc.error("queues", "needs at least one queue")
        plans: list[AgentPlan] = []
        for i, a in enumerate(self.listing(top.get("agents"), "agents")):
            plans.extend(self.agents(a, f"agents[{i}]", i))
        routing = self.wrap("", lambda: RoutingConfig(
            skills=frozenset(skills), queues=tuple(queues),
            agents=tuple(p.config for p in plans)))
        streams = [self.stream(d, f"demand[{i}]")
                   for i, d in enumerate(self.listing(top.get("demand"), "demand"))]
        if not streams:
            raise self.doc.error("demand", "needs at least one demand stream")
        answer = top.get("answer_time")
        return self.wrap("", lambda: Scenario(
            routing=routing, agents=tuple(plans), streams=tuple(streams), hours=self.hours,
            days=self.whole(top.get("days", 1), "days", low=1),
            seed=self.whole(top.get("seed", 1), "seed"),
            sl_threshold_s=self.number(top.get("sl_threshold", 20.0), "sl_threshold"),
            sl_formula=str(top.get("sl_formula", "default")),
            short_abandon_s=self.number(top.get("short_abandon", 5.0), "short_abandon"),
            answer_s=None if answer is None else self.dist(answer, "answer_time"),
            start=self.start(top.get("start"))))

    def start(self, value: Any) -> float:
        if value is None:
            return DEFAULT_START
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise self.doc.error("start", f"not an ISO 8601 time stamp: {value!r}") from None
        if not isinstance(value, datetime):
            raise self.doc.error("start", "must be an ISO 8601 time stamp")
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return float(value.timestamp())

    def queue(self, raw: Any, path: str) -> QueueConfig:
        q = dict(self.mapping(raw, path, QUEUE_KEYS))
        if "id" not in q:
            raise self.doc.error(path, "needs an id")
        if str(q["id"]) in self.queue_index:
            raise self.doc.error(f"{path}.id", f"duplicate queue id {q['id']!r}")
        self.queue_index[str(q["id"])] = int(path[7:-1])
        if "steps" in q:
            q["steps"] = tuple(self.step(s, f"{path}.steps[{j}]")
                               for j, s in enumerate(self.listing(q["steps"], f"{path}.steps")))
        if "overflow" in q:
            q["overflow"] = tuple(
                self.overflow(r, f"{path}.overflow[{j}]")
                for j, r in enumerate(self.listing(q["overflow"], f"{path}.overflow")))
        if "members" in q:
            q["members"] = tuple(self.listing(q["members"], f"{path}.members"))
        return self.wrap(path, lambda: QueueConfig(**q))

    def step(self, raw: Any, path: str) -> ExpansionStep:
        kw = self.mapping(raw, path, STEP_KEYS)
        return self.wrap(path, lambda: ExpansionStep(**kw))

    def overflow(self, raw: Any, path: str) -> OverflowRule:
        kw = self.mapping(raw, path, OVERFLOW_KEYS)
        return self.wrap(path, lambda: OverflowRule(**kw))

    def agents(self, raw: Any, path: str, index: int) -> list[AgentPlan]:
        a = self.mapping(raw, path, AGENT_KEYS)
        if ("id" in a) == ("group" in a):
            raise self.doc.error(path, "give an id (one agent) or a group with a count")
        if "group" in a:
            count = self.whole(a.get("count"), f"{path}.count", low=1)
            width = len(str(count))
            ids = [f"{a['group']}-{i:0{width}d}" for i in range(1, count + 1)]
        else:
            if "count" in a:
                raise self.doc.error(f"{path}.count", "a count goes with a group")
            ids = [str(a["id"])]
        shifts = self.shifts(a.get("shifts"), f"{path}.shifts")
        out: list[AgentPlan] = []
        for aid in ids:
            if aid in self.agent_index:
                raise self.doc.error(f"{path}.{'group' if 'group' in a else 'id'}",
                                     f"duplicate agent id {aid!r}")
            self.agent_index[aid] = index
            out.append(AgentPlan(self.agent_config(aid, a, path), shifts))
        return out

    def agent_config(self, aid: str, a: dict[str, Any], path: str) -> AgentConfig:
        fields = {k: a[k] for k in ("name", "skills", "capacity", "weight", "order") if k in a}
        return self.wrap(path, lambda: AgentConfig(id=aid, **fields))

    def shifts(self, raw: Any, path: str) -> tuple[Shift, ...]:
        if raw is None:
            return (Shift(0.0, self.hours * 3600.0),)
        out: list[Shift] = []
        for i, s in enumerate(self.listing(raw, path)):
            sp = f"{path}[{i}]"
            s = self.mapping(s, sp, SHIFT_KEYS)
            start = self.clock(s.get("start", 0), f"{sp}.start")
            end = self.clock(s.get("end", self.hours), f"{sp}.end")
            if end <= start:
                raise self.doc.error(f"{sp}.end", "must be after the shift's start")
            breaks: list[Break] = []
            for j, b in enumerate(self.listing(s.get("breaks", []), f"{sp}.breaks")):
                bp = f"{sp}.breaks[{j}]"
                b = self.mapping(b, bp, BREAK_KEYS)
                bstart = self.clock(b.get("start"), f"{bp}.start")
                minutes = self.number(b.get("minutes"), f"{bp}.minutes", strict=True)
                if not start <= bstart < end:
                    raise self.doc.error(f"{bp}.start", "must fall within the shift")
                breaks.append(Break(bstart, minutes * 60.0, str(b.get("reason", "break"))))
            out.append(Shift(start, end, tuple(breaks)))
        return tuple(out)

    def stream(self, raw: Any, path: str) -> Stream:
        d = self.mapping(raw, path, DEMAND_KEYS)
        queue = d.get("queue")
        if not isinstance(queue, str) or queue not in self.queue_index:
            raise self.doc.error(f"{path}.queue", f"unknown queue {queue!r}")
        if "arrivals" not in d or "aht" not in d:
            raise self.doc.error(path, "needs arrivals and aht")
        p = d.get("callback_accept", 0.0)
        if isinstance(p, bool) or not isinstance(p, int | float) or not 0 <= p <= 1:
            raise self.doc.error(f"{path}.callback_accept", f"must be between 0 and 1, got {p!r}")
        return self.wrap(path, lambda: Stream(
            name=str(d.get("name", queue)), queue=queue,
            arrivals=self.arrivals(d["arrivals"], f"{path}.arrivals"),
            aht=self.dist(d["aht"], f"{path}.aht"),
            patience=self.dist(d["patience"], f"{path}.patience") if "patience" in d else None,
            wrapup=self.dist(d["wrapup"], f"{path}.wrapup") if "wrapup" in d else None,
            channel=d.get("channel", "voice"),
            priority=self.whole(d.get("priority", 0), f"{path}.priority"),
            skills=d.get("skills", {}), callback_accept=float(p)))

    def arrivals(self, raw: Any, path: str) -> Arrivals:
        a = self.mapping(raw, path, ARRIVAL_KEYS)
        kinds = [k for k in ("per_hour", "intervals", "replay") if k in a]
        if len(kinds) != 1:
            raise self.doc.error(path, "give exactly one of per_hour, intervals, replay")
        if "per_hour" in a:
            rate = self.number(a["per_hour"], f"{path}.per_hour")
            return PoissonArrivals((Rate(0.0, self.hours * 3600.0, rate),))
        if "intervals" in a:
            rates: list[Rate] = []
            for i, r in enumerate(self.listing(a["intervals"], f"{path}.intervals")):
                rp = f"{path}.intervals[{i}]"
                r = self.mapping(r, rp, INTERVAL_KEYS)
                start = self.clock(r.get("start"), f"{rp}.start")
                end = self.clock(r.get("end"), f"{rp}.end")
                if end <= start:
                    raise self.doc.error(f"{rp}.end", "must be after the interval's start")
                if rates and start < rates[-1].end_s:
                    raise self.doc.error(f"{rp}.start", "overlaps the previous interval")
                rates.append(Rate(start, end, self.number(r.get("per_hour"), f"{rp}.per_hour")))
            return PoissonArrivals(tuple(rates))
        rows = self.cdr(a["replay"], f"{path}.replay")
        offsets = arrival_offsets(rows, a.get("queue"))
        if not offsets:
            raise self.doc.error(f"{path}.queue", "no CDR row matches this queue")
        return ReplayArrivals(offsets)

    def cdr(self, name: Any, path: str) -> list[CdrRow]:
        if not isinstance(name, str) or not name:
            raise self.doc.error(path, "must be a file name")
        if name not in self.cdrs:
            try:
                text = self.read_file(name)
            except OSError as exc:
                raise self.doc.error(path, f"cannot read {name}: {exc.strerror}") from None
            self.cdrs[name] = parse_cdr(text, name)
        return self.cdrs[name]

    def dist(self, raw: Any, path: str) -> Distribution:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return Exponential(self.number(raw, path, strict=True))
        if not isinstance(raw, dict) or raw.get("dist") not in DIST_KEYS:
            raise self.doc.error(
                f"{path}.dist" if isinstance(raw, dict) else path,
                "a number (exponential mean) or a mapping with dist: "
                + ", ".join(DIST_KEYS))
        kind = raw["dist"]
        d = self.mapping(raw, path, DIST_KEYS[kind])
        if kind == "exponential":
            return Exponential(self.number(d.get("mean"), f"{path}.mean", strict=True))
        if kind == "lognormal":
            return LogNormal(self.number(d.get("mean"), f"{path}.mean", strict=True),
                             self.number(d.get("sd"), f"{path}.sd", strict=True))
        if kind == "constant":
            return Constant(self.number(d.get("value"), f"{path}.value"))
        fname = d.get("field")
        if fname not in CDR_FIELDS:
            raise self.doc.error(f"{path}.field", f"use one of {', '.join(CDR_FIELDS)}")
        values = durations(self.cdr(d.get("cdr"), f"{path}.cdr"), fname, d.get("queue"))
        if not values:
            raise self.doc.error(path, f"the CDR has no rows with a {fname} duration")
        return Empirical.of(values)


def parse_scenario(text: str, source: str, read_file: ReadFile) -> Scenario:
    """Parse and validate a scenario; raise :class:`ScenarioError` naming the
    line and field of the first problem (or a CDR error naming its line)."""
    doc = _Doc(text, source)
    return _Parser(doc, read_file).scenario()


def overrides(scenario: Scenario, values: Mapping[str, Any]) -> Scenario:
    """The scenario with run settings replaced (command-line flags)."""
    import dataclasses

    return dataclasses.replace(scenario, **dict(values))
