"""Property tests: the engine's invariants hold after every step of random runs.

A hypothesis ``RuleBasedStateMachine`` drives the engine with random commands
(legal and illegal) and random passing of time, and checks after every step:
no contact lost or duplicated, never an agent over capacity, a contact offered
to one agent at a time except with ring all, priority-then-arrival order kept,
and an illegal step changes nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from switchboard.acd import Engine
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import Channel, Strategy
from switchboard.domain.errors import SwitchboardError
from switchboard.domain.model import (
    AgentConfig,
    ExpansionStep,
    OverflowRule,
    QueueConfig,
    RoutingConfig,
)

AGENTS = ["a0", "a1", "a2", "a3"]
QUEUES = ["sales", "support", "vip"]
TERMINAL_KINDS = {"abandoned", "exited"}


def _config(strategy: Strategy) -> RoutingConfig:
    return RoutingConfig(
        skills=frozenset({"en", "fr"}),
        queues=(
            QueueConfig(id="sales", strategy=strategy, wrapup_s=5, ring_timeout_s=15,
                        max_misses=2, overflow=(OverflowRule(to_queue="support", after_s=90),)),
            QueueConfig(id="support", strategy=strategy, skills={"en": 3}, timeout_s=400,
                        steps=(ExpansionStep(after_s=30, skills={"en": 1}),)),
            QueueConfig(id="vip", strategy=Strategy.RING_ALL, weight=5, wrapup_s=0,
                        max_length=3),
        ),
        agents=(
            AgentConfig(id="a0", skills={"en": 5, "fr": 2}),
            AgentConfig(id="a1", skills={"en": 2}, capacity={"voice": 1, "chat": 2}),
            AgentConfig(id="a2", skills={"fr": 7}, weight=3),
            AgentConfig(id="a3", skills={"en": 9}, capacity={"chat": 3}),
        ),
        seed=7,
    )


class EngineMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.engine: Engine | None = None
        self.now = 0.0
        self.n = 0
        self.log: list[e.Event] = []
        self.arrived: set[str] = set()

    def _apply(self, cmd: c.Command) -> bool:
        assert self.engine is not None
        waiting_before = self._waiting()
        try:
            out = self.engine.handle(cmd, self.now)
        except SwitchboardError:
            return False
        self._check_order(out, waiting_before)
        self.log.extend(out)
        return True

    def _waiting(self) -> set[str]:
        assert self.engine is not None
        return {i for q in QUEUES for i in self.engine.waiting(q)}

    def _check_order(self, out: list[e.Event], waiting_before: set[str]) -> None:
        """An agent is never given a contact while a higher-ranked one that it could
        take waits in the same queue (priority, then time waited). Contacts that the
        step touched are left out: the check speaks of those waiting throughout."""
        assert self.engine is not None
        eng: Any = self.engine
        touched = {ev.interaction_id for ev in out}
        for ev in out:
            if not isinstance(ev, e.Offered) or ev.queue_id is None:
                continue
            it = eng._interactions.get(ev.interaction_id)
            if it is None or it.preferred_agent is not None or it.consult_agent is not None:
                continue
            for other_id in eng.waiting(ev.queue_id):
                if other_id in touched or other_id not in waiting_before:
                    continue
                other = eng._interactions[other_id]
                if other.channel is not it.channel or other.preferred_agent is not None \
                        or ev.agent_id not in other.pool.members_set:
                    continue
                assert other.sort_key > it.sort_key, (ev.interaction_id, other_id)

    @rule(strategy=st.sampled_from(list(Strategy)))
    @precondition(lambda self: self.engine is None)
    def start(self, strategy: Strategy) -> None:
        self.engine = Engine(_config(strategy))

    @rule(queue=st.sampled_from(QUEUES), channel=st.sampled_from([Channel.VOICE, Channel.CHAT]),
          priority=st.integers(0, 3), ivr=st.booleans())
    @precondition(lambda self: self.engine is not None)
    def arrive(self, queue: str, channel: Channel, priority: int, ivr: bool) -> None:
        self.n += 1
        iid = f"i{self.n}"
        self.arrived.add(iid)
        if ivr:
            assert self._apply(c.Arrive(interaction_id=iid, channel=channel, priority=priority))
            self._apply(c.Enqueue(interaction_id=iid, queue_id=queue))
        else:
            assert self._apply(c.Arrive(interaction_id=iid, channel=channel, priority=priority,
                                        queue_id=queue))

    @rule(agent=st.sampled_from(AGENTS), status=st.sampled_from(["ready", "not_ready", "offline"]))
    @precondition(lambda self: self.engine is not None)
    def status(self, agent: str, status: str) -> None:
        self._apply(c.SetAgentStatus(agent_id=agent, status=status,  # type: ignore[arg-type]
                                     reason="break" if status == "not_ready" else None))

    def _live(self) -> list[dict[str, Any]]:
        assert self.engine is not None
        return [self.engine.interaction(i) for i in self.engine.interaction_ids()]

    @rule(data=st.data(), accept=st.booleans())
    @precondition(lambda self: self.engine is not None)
    def answer_offer(self, data: st.DataObject, accept: bool) -> None:
        offers = [(it["id"], a) for it in self._live() for a in it["offered_to"]]
        if not offers:
            return
        iid, agent = data.draw(st.sampled_from(offers))
        cmd = c.Accept if accept else c.Reject
        assert self._apply(cmd(interaction_id=iid, agent_id=agent))

    @rule(data=st.data(), action=st.sampled_from(
        ["hangup", "hold", "resume", "transfer", "callback", "leave", "warm", "complete"]))
    @precondition(lambda self: self.engine is not None)
    def act_on_contact(self, data: st.DataObject, action: str) -> None:
        live = self._live()
        if not live:
            return
        it = data.draw(st.sampled_from(live))
        iid = it["id"]
        cmds: dict[str, c.Command] = {
            "hangup": c.Hangup(interaction_id=iid, by=data.draw(st.sampled_from(
                ["customer", "agent"]))),
            "hold": c.Hold(interaction_id=iid),
            "resume": c.Resume(interaction_id=iid),
            "transfer": c.Transfer(interaction_id=iid, to_queue=data.draw(st.sampled_from(QUEUES))),
            "callback": c.RequestCallback(interaction_id=iid, phone="+15550100"),
            "leave": c.LeaveQueue(interaction_id=iid),
            "warm": c.Transfer(interaction_id=iid, to_agent=data.draw(st.sampled_from(AGENTS)),
                               mode="warm"),
            "complete": c.CompleteTransfer(interaction_id=iid),
        }
        self._apply(cmds[action])

    @rule(agent=st.sampled_from(AGENTS))
    @precondition(lambda self: self.engine is not None)
    def end_wrapup(self, agent: str) -> None:
        assert self.engine is not None
        for iid in self.engine.agent(agent)["wrapups"][:1]:
            assert self._apply(c.EndWrapup(interaction_id=iid, agent_id=agent))

    @rule(dt=st.sampled_from([0.5, 3, 10, 16, 31, 95, 500]))
    @precondition(lambda self: self.engine is not None)
    def time_passes(self, dt: float) -> None:
        assert self.engine is not None
        self.now += dt
        self.log.extend(self.engine.advance(self.now))

    @rule(data=st.data())
    @precondition(lambda self: self.engine is not None)
    def illegal_step_changes_nothing(self, data: st.DataObject) -> None:
        assert self.engine is not None
        ids = [*self.engine.interaction_ids(), "nope"]
        iid = data.draw(st.sampled_from(ids))
        agent = data.draw(st.sampled_from([*AGENTS, "ghost"]))
        cmd = data.draw(st.sampled_from([
            c.Accept(interaction_id=iid, agent_id=agent),
            c.Hold(interaction_id=iid),
            c.Resume(interaction_id=iid),
            c.EndWrapup(interaction_id=iid, agent_id=agent),
            c.CompleteTransfer(interaction_id=iid),
            c.CancelTransfer(interaction_id=iid),
            c.LeaveConference(interaction_id=iid, agent_id=agent),
            c.MoveContact(interaction_id=iid, queue_id="nowhere"),
            c.Arrive(interaction_id=next(iter(self.arrived), "i1"), queue_id="sales"),
        ]))
        if isinstance(cmd, c.Arrive) and not self.arrived:
            return
        before = self._snapshot()
        waiting_before = self._waiting()
        try:
            out = self.engine.handle(cmd, self.now)
        except SwitchboardError:
            assert self._snapshot() == before
        else:
            self._check_order(out, waiting_before)
            self.log.extend(out)

    def _snapshot(self) -> Any:
        assert self.engine is not None
        return ([self.engine.interaction(i) for i in self.engine.interaction_ids()],
                [self.engine.agent(a) for a in self.engine.agent_ids()],
                self.engine.next_deadline())

    @invariant()
    def audit_is_clean(self) -> None:
        if self.engine is not None:
            assert self.engine.audit() == []

    @invariant()
    def no_contact_lost_or_duplicated(self) -> None:
        if self.engine is None:
            return
        live = set(self.engine.interaction_ids())
        arrived = [ev.interaction_id for ev in self.log if isinstance(ev, e.Arrived)]
        assert len(arrived) == len(set(arrived))  # never duplicated
        assert set(arrived) == self.arrived
        closed: set[str] = set()
        for ev in self.log:
            self_service = isinstance(ev, e.Ended) and ev.agent_id is None
            wrapped_up = isinstance(ev, e.WrapupEnded) and ev.interaction_id not in live
            if ev.kind in TERMINAL_KINDS or self_service or wrapped_up:
                closed.add(ev.interaction_id or "")
        assert live.isdisjoint(closed)
        assert live | closed == self.arrived  # every contact is live or properly closed

    @invariant()
    def one_handler_per_contact(self) -> None:
        if self.engine is None:
            return
        holders: dict[str, list[str]] = {}
        for a in self.engine.agent_ids():
            for iid in self.engine.agent(a)["contacts"]:
                holders.setdefault(iid, []).append(a)
        for iid, agents in holders.items():
            it = self.engine.interaction(iid)
            assert it["agent"] in agents
            assert sorted(agents) == sorted({it["agent"], *it["participants"]})


EngineMachine.TestCase.settings = settings(
    max_examples=150, stateful_step_count=60, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestEngineMachine = EngineMachine.TestCase
