"""Golden traces: one scenario's exact event sequence for each strategy.

The traces in ``golden/`` are checked in. A change in routing behaviour shows
up as a diff there; after reviewing it, regenerate with
``SWITCHBOARD_UPDATE_GOLDEN=1 pytest tests/acd/test_golden.py``.
"""

from __future__ import annotations

import heapq
import json
import os
from pathlib import Path

import pytest

from switchboard.acd import Engine
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import Strategy
from switchboard.domain.errors import SwitchboardError
from switchboard.domain.model import AgentConfig, QueueConfig, RoutingConfig

GOLDEN = Path(__file__).parent / "golden"


def scenario(strategy: Strategy) -> list[e.Event]:
    """Four agents who differ in idle time, handled count, order, skill and weight;
    twelve calls; some rejected, some left to ring out."""
    cfg = RoutingConfig(
        skills=frozenset({"en"}),
        queues=(QueueConfig(id="q", strategy=strategy, skills={"en": 1}, wrapup_s=5,
                            ring_timeout_s=10, max_misses=0, occupancy_window_s=600,
                            members=("d", "c", "b", "a")),),
        agents=(AgentConfig(id="a", skills={"en": 3}, weight=1, order=3),
                AgentConfig(id="b", skills={"en": 9}, weight=5, order=2),
                AgentConfig(id="c", skills={"en": 5}, weight=1, order=1),
                AgentConfig(id="d", skills={"en": 1}, weight=2, order=0)),
        seed=42,
    )
    engine = Engine(cfg)
    talk = [40, 5, 90, 20, 60, 15, 30, 10, 70, 25, 50, 35]
    agenda: list[tuple[float, int, c.Command]] = []
    seq = 0

    def plan(at: float, cmd: c.Command) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(agenda, (at, seq, cmd))

    for t, agent in ((0, "c"), (1, "a"), (2, "d"), (3, "b")):
        plan(t, c.SetAgentStatus(agent_id=agent, status="ready"))
    for n in range(len(talk)):
        plan(10 + 12 * n, c.Arrive(interaction_id=f"call{n}", queue_id="q"))
    out: list[e.Event] = []
    seen_offers: set[str] = set()
    while agenda or engine.next_deadline() is not None:
        deadline = engine.next_deadline()
        if agenda and (deadline is None or agenda[0][0] <= deadline):
            at, _, cmd = heapq.heappop(agenda)
            try:
                new = engine.handle(cmd, at)
            except SwitchboardError:
                continue  # e.g. a ring-all accept that another agent won
        else:
            assert deadline is not None
            at, new = deadline, engine.advance(deadline)
        out += new
        for ev in new:
            iid = ev.interaction_id or ""
            if isinstance(ev, e.Offered):
                first = iid not in seen_offers
                seen_offers.add(iid)
                if iid == "call4" and first:  # rejected once
                    plan(ev.at + 1, c.Reject(interaction_id=iid, agent_id=ev.agent_id or ""))
                elif iid == "call6" and first:  # rings out once (RNA)
                    continue
                else:
                    plan(ev.at + 2, c.Accept(interaction_id=iid, agent_id=ev.agent_id or ""))
            elif isinstance(ev, e.Answered):
                plan(ev.at + talk[int(iid[4:])], c.Hangup(interaction_id=iid))
    return out


def _lines(events: list[e.Event]) -> list[str]:
    return [json.dumps(ev.to_dict(), sort_keys=True) for ev in events]


@pytest.mark.parametrize("strategy", list(Strategy), ids=lambda s: s.value)
def test_golden_trace(strategy: Strategy) -> None:
    lines = _lines(scenario(strategy))
    path = GOLDEN / f"{strategy.value}.jsonl"
    if os.environ.get("SWITCHBOARD_UPDATE_GOLDEN") == "1":
        path.write_text("\n".join(lines) + "\n")
    assert path.exists(), f"missing {path}; generate it with SWITCHBOARD_UPDATE_GOLDEN=1"
    assert path.read_text().splitlines() == lines


def test_trace_is_deterministic() -> None:
    assert _lines(scenario(Strategy.RANDOM)) == _lines(scenario(Strategy.RANDOM))


def test_strategies_really_differ() -> None:
    def who(strategy: Strategy) -> list[str]:
        return [ev.agent_id or "" for ev in scenario(strategy) if isinstance(ev, e.Answered)]

    picks = {s: tuple(who(s)) for s in Strategy if s is not Strategy.RING_ALL}
    assert len(set(picks.values())) >= 6, picks
    # linear always prefers the first member in list order (d) when it is free
    assert who(Strategy.LINEAR)[0] == "d"
    # best skill sends the first call to b (level 9)
    assert who(Strategy.BEST_SKILL)[0] == "b"
    # longest idle: c logged in first
    assert who(Strategy.LONGEST_IDLE)[0] == "c"
