"""A queue's routing settings in the API: expansion steps, overflow rules and
the other ``QueueConfig`` fields, checked by the engine's own validation.

The domain classes (:class:`QueueConfig`, :class:`ExpansionStep`,
:class:`OverflowRule`, and the engine's ``RoutingConfig.check_queue``) decide
what is valid; this module only maps their field names (``queues[ID].steps[]
.after_s``) to the request body's (``steps[0].after_s``), so that the page can
show the error next to the field that caused it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from pydantic import Field
from sqlalchemy import Connection

from switchboard.domain.errors import ConfigError
from switchboard.domain.model import ExpansionStep, JoinRule, OverflowRule, QueueConfig
from switchboard.server.inputs import Body, SkillMap
from switchboard.store import repo

SECONDS = 7 * 86400.0  # no wait or step in a queue is meant to pass a week


class StepIn(Body):
    """After ``after_s`` seconds of waiting, widen who may take the contact."""

    after_s: float = Field(ge=0, le=SECONDS)
    skills: SkillMap | None = None
    add_agents: list[str] = Field(default_factory=list, max_length=100)
    add_queues: list[str] = Field(default_factory=list, max_length=100)


class OverflowIn(Body):
    """Move a waiting contact to ``to_queue`` after ``after_s`` seconds, or on entry
    when the estimated wait passes ``ewt_above_s``."""

    to_queue: str = Field(min_length=1, max_length=64)
    after_s: float | None = Field(default=None, ge=0, le=SECONDS)
    ewt_above_s: float | None = Field(default=None, ge=0, le=SECONDS)


#: the fields of QueueConfig the API sets beyond name, strategy and the basics
ROUTING_FIELDS = ("members", "weight", "steps", "overflow", "join_rule", "leave_rule",
                  "max_wrapup_s", "max_misses", "affinity_timeout_s", "callback_ewt_s")


def api_field(field: str | None, queue_id: str) -> str | None:
    """A domain field name as the request body spells it."""
    if field is None:
        return None
    prefix = f"queues[{queue_id}]"
    if field == prefix:
        return None
    return field.removeprefix(prefix + ".")


def _indexed(exc: ConfigError, kind: str, i: int) -> ConfigError:
    field = (exc.field or f"{kind}[]").replace(f"{kind}[]", f"{kind}[{i}]")
    return ConfigError(exc.message, field=field)


def _steps(raw: Iterable[Any]) -> tuple[ExpansionStep, ...]:
    out: list[ExpansionStep] = []
    for i, step in enumerate(raw):
        data = step if isinstance(step, dict) else step.model_dump()
        if out and data["after_s"] < out[-1].after_s:
            raise ConfigError("steps must come in the order of after_s (smallest first)",
                              field=f"steps[{i}].after_s")
        try:
            out.append(ExpansionStep(after_s=data["after_s"], skills=data.get("skills"),
                                     add_agents=tuple(data.get("add_agents") or ()),
                                     add_queues=tuple(data.get("add_queues") or ())))
        except ConfigError as exc:
            raise _indexed(exc, "steps", i) from None
    return tuple(out)


def _overflow(raw: Iterable[Any]) -> tuple[OverflowRule, ...]:
    out: list[OverflowRule] = []
    for i, rule in enumerate(raw):
        data = rule if isinstance(rule, dict) else rule.model_dump()
        try:
            out.append(OverflowRule(to_queue=data["to_queue"], after_s=data.get("after_s"),
                                    ewt_above_s=data.get("ewt_above_s")))
        except ConfigError as exc:
            raise _indexed(exc, "overflow", i) from None
    return tuple(out)


def _domain(changes: dict[str, Any]) -> dict[str, Any]:
    out = dict(changes)
    if "steps" in out:
        out["steps"] = _steps(out["steps"] or ())
    if "overflow" in out:
        out["overflow"] = _overflow(out["overflow"] or ())
    if out.get("members") is not None:
        out["members"] = tuple(out["members"])
    for rule in ("join_rule", "leave_rule"):
        if rule in out:
            out[rule] = JoinRule(out[rule])
    return out


def build_queue(queue_id: str, fields: dict[str, Any]) -> QueueConfig:
    """A new :class:`QueueConfig` from a create body's fields; ConfigError names
    the body's field."""
    try:
        return QueueConfig(id=queue_id, **_domain(fields))
    except ConfigError as exc:
        raise ConfigError(exc.message, field=api_field(exc.field, queue_id)) from None


def patch_queue(old: QueueConfig, changes: dict[str, Any]) -> QueueConfig:
    """``old`` with a PATCH body's fields changed; ConfigError names the body's field."""
    try:
        return dataclasses.replace(old, **_domain(changes))
    except ConfigError as exc:
        raise ConfigError(exc.message, field=api_field(exc.field, old.id)) from None


def check_references(conn: Connection, tenant_id: str, q: QueueConfig) -> None:
    """The queues and agents that ``q`` names exist in the tenant's tables (the
    engine also checks; the tables are the truth after a delete)."""
    queues = {other.id for other in repo.list_queues(conn, tenant_id)} | {q.id}
    agents = {a.id for a in repo.list_agents(conn, tenant_id)}
    for i, rule in enumerate(q.overflow):
        if rule.to_queue not in queues:
            raise ConfigError(f"unknown queue {rule.to_queue!r}",
                              field=f"overflow[{i}].to_queue")
    for i, step in enumerate(q.steps):
        for other in step.add_queues:
            if other not in queues:
                raise ConfigError(f"unknown queue {other!r}", field=f"steps[{i}].add_queues")
        for agent in step.add_agents:
            if agent not in agents:
                raise ConfigError(f"unknown agent {agent!r}", field=f"steps[{i}].add_agents")
    for agent in q.members or ():
        if agent not in agents:
            raise ConfigError(f"unknown agent {agent!r}", field="members")


def skills_named(q: QueueConfig) -> set[str]:
    """Every skill the queue names, in its requirement and in its steps."""
    out = set(q.skills)
    for step in q.steps:
        out.update(step.skills or ())
    return out


def engine_error(exc: ConfigError, queue_id: str) -> ConfigError:
    """The engine's ConfigError about queue ``queue_id`` with the body's field name."""
    return ConfigError(exc.message, field=api_field(exc.field, queue_id))


def queue_routing_out(q: QueueConfig) -> dict[str, Any]:
    """The routing fields of a queue for the API (see :data:`ROUTING_FIELDS`)."""
    return {
        "members": None if q.members is None else list(q.members), "weight": q.weight,
        "steps": [{"after_s": s.after_s, "skills": None if s.skills is None else dict(s.skills),
                   "add_agents": list(s.add_agents), "add_queues": list(s.add_queues)}
                  for s in q.steps],
        "overflow": [{"to_queue": r.to_queue, "after_s": r.after_s,
                      "ewt_above_s": r.ewt_above_s} for r in q.overflow],
        "join_rule": q.join_rule.value, "leave_rule": q.leave_rule.value,
        "max_wrapup_s": q.max_wrapup_s, "max_misses": q.max_misses,
        "affinity_timeout_s": q.affinity_timeout_s, "callback_ewt_s": q.callback_ewt_s}
