"""Helpers for driving the engine step by step with explicit times."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest

from switchboard.acd import Engine
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.model import AgentConfig, QueueConfig, RoutingConfig


class Driver:
    """An engine plus a record of every event it emitted."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.log: list[e.Event] = []

    def do(self, cmd: c.Command, now: float) -> list[e.Event]:
        out = self.engine.handle(cmd, now)
        self.log.extend(out)
        problems = self.engine.audit()
        assert problems == [], problems
        return out

    def at(self, now: float) -> list[e.Event]:
        out = self.engine.advance(now)
        self.log.extend(out)
        assert self.engine.audit() == []
        return out

    def ready(self, *agents: str, now: float = 0.0) -> None:
        for a in agents:
            self.do(c.SetAgentStatus(agent_id=a, status="ready"), now)

    def arrive(self, iid: str, queue: str, now: float, **kw: Any) -> list[e.Event]:
        return self.do(c.Arrive(interaction_id=iid, queue_id=queue, **kw), now)

    def kinds(self, events: Iterable[e.Event] | None = None) -> list[str]:
        return [ev.kind for ev in (self.log if events is None else events)]

    def offers(self, events: Iterable[e.Event] | None = None) -> list[tuple[str, str]]:
        return [(ev.interaction_id or "", ev.agent_id or "")
                for ev in (self.log if events is None else events)
                if isinstance(ev, e.Offered)]


def make(queues: list[QueueConfig], agents: list[AgentConfig],
         skills: Iterable[str] = ("en", "fr", "de", "billing"), seed: int = 0) -> Driver:
    cfg = RoutingConfig(skills=frozenset(skills), queues=tuple(queues), agents=tuple(agents),
                        seed=seed)
    return Driver(Engine(cfg))


@pytest.fixture
def one_queue() -> Driver:
    return make([QueueConfig(id="q", wrapup_s=10)],
                [AgentConfig(id="a1"), AgentConfig(id="a2"), AgentConfig(id="a3")])
