"""``switchboard demo``: the routing engine at work, then a simulated hour.

Part one drives the real engine step by step through a small contact center
(skills, a ring-no-answer, a transfer, a callback) and prints every event it
emits. Part two simulates an hour of one queue through the same engine and
prints its KPIs beside what Erlang A predicts for the same inputs.
"""

from __future__ import annotations

import time

import typer
from rich.console import Console
from rich.table import Table

from switchboard.acd import Engine
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import AgentStatus, Channel, Strategy
from switchboard.domain.model import (
    AgentConfig,
    Customer,
    ExpansionStep,
    QueueConfig,
    RoutingConfig,
)
from switchboard.sim.kpis import figures
from switchboard.sim.model import single_queue
from switchboard.sim.runner import simulate
from switchboard.wfm.erlang import erlang_a_metrics


def _walkthrough(console: Console) -> None:
    config = RoutingConfig(
        skills=frozenset({"en", "fr", "billing"}),
        queues=(
            QueueConfig(id="billing", skills={"billing": 5}, wrapup_s=15, ring_timeout_s=12,
                        steps=(ExpansionStep(after_s=30, skills={"billing": 2}),)),
            QueueConfig(id="french", skills={"fr": 4}, strategy=Strategy.BEST_SKILL),
        ),
        agents=(AgentConfig(id="ada", name="Ada", skills={"billing": 8, "en": 9}),
                AgentConfig(id="bruno", name="Bruno", skills={"billing": 3, "fr": 6}),
                AgentConfig(id="chloe", name="Chloé", skills={"fr": 9, "billing": 6})),
    )
    engine = Engine(config)
    script: list[tuple[float, c.Command | None, str]] = [
        (0, c.SetAgentStatus(agent_id="ada", status=AgentStatus.READY), "Ada logs in, ready"),
        (2, c.SetAgentStatus(agent_id="bruno", status=AgentStatus.READY), "Bruno logs in, ready"),
        (5, c.Arrive(interaction_id="call-1", queue_id="billing",
                     customer=Customer(name="M. Rossi", phone="+390212345678")),
         "a billing call needs billing >= 5: Ada (8) is the only match"),
        (9, c.Accept(interaction_id="call-1", agent_id="ada"), "Ada answers"),
        (12, c.Arrive(interaction_id="call-2", queue_id="billing"),
         "a second billing call waits: Bruno's level 3 is below 5"),
        (13, c.Arrive(interaction_id="chat-1", queue_id="french", channel=Channel.CHAT),
         "a French chat: best skill picks Bruno, the only free French speaker"),
        (16, c.Reject(interaction_id="chat-1", agent_id="bruno"),
         "Bruno declines: the chat keeps its place, and he is still the only one"),
        (18, c.Accept(interaction_id="chat-1", agent_id="bruno"), "Bruno takes the chat"),
        (20, c.SetAgentStatus(agent_id="chloe", status=AgentStatus.READY),
         "Chloé logs in: call-2 rings her (billing 6)"),
        (33, None, "Chloé did not answer within 12 s: ring no answer, it rings again"),
        (34, c.Accept(interaction_id="call-2", agent_id="chloe"), "Chloé answers"),
        (60, c.Transfer(interaction_id="call-1", to_queue="french"),
         "Ada transfers call-1 to the French queue and wraps up (15 s)"),
        (61, c.Arrive(interaction_id="call-3", queue_id="billing",
                      customer=Customer(phone="+33142000000")), "a third billing call waits"),
        (62, c.RequestCallback(interaction_id="call-3"),
         "the caller asks for a callback and keeps its place (virtual hold)"),
        (75, None, "Ada's wrap-up ends: the callback is offered to her, ringing her first"),
        (80, c.Accept(interaction_id="call-3", agent_id="ada"), "Ada takes the callback"),
        (90, c.Hangup(interaction_id="chat-1"), "the chat ends: Bruno gets the transferred call"),
        (95, c.Accept(interaction_id="call-1", agent_id="bruno"), "Bruno answers call-1"),
    ]
    table = Table(title="Part 1: the routing engine, step by step", show_lines=False)
    for col in ("t", "step", "events emitted"):
        table.add_column(col, overflow="fold")
    for now, cmd, note in script:
        events = engine.advance(now) if cmd is None else engine.handle(cmd, now)
        table.add_row(f"{now:g}", note, _describe(events))
    console.print(table)
    stats = engine.queue_stats("billing")
    console.print(f"billing queue now: {stats['waiting']} waiting, "
                  f"{stats['agents_ready']} agents ready; agents: " + ", ".join(
                      f"{a} {engine.agent(a)['state']}" for a in engine.agent_ids()))


def _describe(events: list[e.Event]) -> str:
    parts = []
    for ev in events:
        who = "/".join(x for x in (ev.interaction_id, ev.agent_id, ev.queue_id) if x)
        extra = ""
        if isinstance(ev, e.AgentStateChanged):
            extra = f" {ev.status.value}/{ev.state.value}"
        parts.append(f"{ev.kind}({who}){extra}")
    return ", ".join(parts) or "-"


def _simulated_hour(console: Console, seed: int) -> None:
    rate, aht, agents, patience = 150.0, 240.0, 12, 120.0
    scenario = single_queue(arrivals_per_hour=rate, aht_s=aht, agents=agents,
                            patience_s=patience, hours=8.0, days=5, seed=seed)
    started = time.perf_counter()
    result = simulate(scenario)
    elapsed = time.perf_counter() - started
    sim = figures(result.total, 20.0, "default")
    model = erlang_a_metrics(agents, rate * aht / 3600.0, aht, patience, 20.0)
    table = Table(title=f"Part 2: M/M/{agents}+M, {rate:g} calls/h, AHT {aht:g} s, patience "
                        f"{patience:g} s: five simulated 8-hour days through the real engine")
    table.add_column("figure")
    table.add_column("simulated", justify="right")
    table.add_column("Erlang A", justify="right")
    assert model.p_abandon is not None
    rows = [
        ("offered", f"{sim['offered']}", f"{rate * 40:g} expected"),
        ("abandon_rate", _pct(sim["abandon_rate"]), _pct(float(model.p_abandon))),
        ("service_level (20 s)", _pct(sim["service_level"]), _pct(float(model.service_level))),
        ("asa_s", _num(sim["asa_s"]), _num(float(model.asa_s))),
        ("occupancy", _pct(sim["occupancy"]), _pct(float(model.occupancy))),
    ]
    for row in rows:
        table.add_row(*row)
    console.print(table)
    console.print(f"{sim['contacts']} contacts simulated in {elapsed:.2f} s "
                  f"({sim['contacts'] / elapsed:,.0f} contacts/s)")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _num(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def demo(seed: int = typer.Option(1, help="Seed of the simulated hour.")) -> None:
    """Show the routing engine working: a narrated walkthrough, then a simulated hour."""
    console = Console()
    _walkthrough(console)
    _simulated_hour(console, seed)
