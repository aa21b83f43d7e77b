"""Benchmark: routing decisions per second of the ACD engine vs a naive router.

Prints one JSON object. A *routing decision* is the engine reserving one
waiting contact for one chosen agent, i.e. one ``offered`` event. It happens
in two ways: a contact arrives (``Arrive``) and is offered to the free agent
its queue's strategy picks, or an agent becomes free (``EndWrapup``) and is
offered the best contact waiting in the queues it serves.

Both routers are the same :class:`~switchboard.acd.Engine` on the same seeded
world (50 queues, 20 skills, 100 / 1,000 / 10,000 agents) and the same seeded
steady-state workload, in the same process. The only difference is how a
choice is made:

* the engine looks at the head of its free-agent index (O(log n));
* the naive router (:class:`NaiveEngine`, written here) scans every agent:
  ``min(eligible free agents, key=KEY_FUNCTIONS[strategy](agent, pool, now))``
  with the engine's own key functions and eligibility, and scans every
  waiting contact of the agent's queues when an agent becomes free.

Both must choose the same agent for every contact; each naive run is checked
against the engine's decisions on the same workload (``same_choices``).

Steady state: agents are logged in and ready, then contacts arrive until about
85% of the agents are busy (talking or in wrap-up). Each iteration then does,
at a simulated time step of 10 ms: one arrival to a queue drawn in proportion
to its eligible agents (offered at once if an agent is free, accepted at
once); one hang-up of a random connected contact (its agent goes to wrap-up);
and the end of the oldest wrap-up once more than 2% of the agents are in
wrap-up (that agent takes the best waiting contact, if any). The timed figure
is the wall time of whole iterations (every command and event included)
divided by the decisions made; the garbage collector is off while timing, as
in ``timeit``.

Run: .venv/bin/python bench/engine.py [--sizes 100 1000 10000] [--quick]
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import platform
import random
import statistics
import sys
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import Any

from switchboard.acd import Engine
from switchboard.acd.runtime import Agent, Interaction, Pool
from switchboard.acd.strategies import KEY_FUNCTIONS, Key
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain import trusted as t
from switchboard.domain.enums import AgentStatus, Channel, InteractionState, Strategy
from switchboard.domain.model import AgentConfig, QueueConfig, RoutingConfig

N_QUEUES = 50
N_SKILLS = 20
SIZES = (100, 1_000, 10_000)
STRATEGIES = (Strategy.LONGEST_IDLE, Strategy.BEST_SKILL, Strategy.ROUND_ROBIN)
# Strategies whose choice the naive router reproduces exactly (deterministic keys
# that do not drift with time; round robin with the index's ring memory).
NAIVE_STRATEGIES = frozenset({Strategy.LONGEST_IDLE, Strategy.BEST_SKILL, Strategy.FEWEST_HANDLED,
                              Strategy.LINEAR, Strategy.ROUND_ROBIN})
BUSY_TARGET = 0.85
WRAPUP_SHARE = 0.02
STEP_S = 0.01
WARMUP_ITERATIONS = 1_000
ENGINE_ITERATIONS = 10_000
NAIVE_WORK = 2_000_000  # naive iterations x agents per run, bounds its time
MIN_NAIVE_ITERATIONS = 200
TARGET_AT_1000 = 50_000.0
COST = "us_per_decision_median_chunk"  # the figure growth and acceptance are judged on

DECISION = (
    "one routing decision = one contact reserved for one chosen agent (one `offered` "
    "event): a contact arrives (Arrive) and is offered to the free agent its queue's "
    "strategy picks, or an agent becomes free (EndWrapup) and is offered the best "
    "contact waiting in its queues"
)


# --------------------------------------------------------------------- the world
def build_config(n_agents: int, strategy: Strategy, seed: int) -> RoutingConfig:
    """50 queues and 20 skills; each agent has 3-6 skills at levels 1-10, each
    queue requires 1-2 skills with a minimum level of 1-5 (all seeded)."""
    rng = random.Random(seed)
    skills = [f"s{i:02d}" for i in range(N_SKILLS)]
    queues = []
    for i in range(N_QUEUES):
        required = rng.sample(skills, rng.randint(1, 2))
        queues.append(QueueConfig(
            id=f"q{i:02d}", strategy=strategy,
            skills={s: rng.randint(1, 5) for s in required},
            wrapup_s=60.0, max_wrapup_s=600.0, ring_timeout_s=20.0,
        ))
    agents = []
    for i in range(n_agents):
        own = rng.sample(skills, rng.randint(3, 6))
        agents.append(AgentConfig(id=f"a{i:05d}", skills={s: rng.randint(1, 10) for s in own},
                                  order=i))
    return RoutingConfig(skills=frozenset(skills), queues=tuple(queues), agents=tuple(agents),
                         seed=seed)


def eligible_counts(config: RoutingConfig) -> dict[str, int]:
    """How many agents meet each queue's skill requirement."""
    return {
        q.id: sum(1 for a in config.agents
                  if all(a.skills.get(s, 0) >= lvl for s, lvl in q.skills.items()))
        for q in config.queues
    }


# --------------------------------------------------------------------- naive router
class NaiveEngine(Engine):
    """The engine with its routing choices made by scanning, for comparison.

    Until :meth:`go_naive` it is the plain engine (used to reach the steady
    state quickly). Afterwards the free-agent indexes are dropped and never
    rebuilt: a contact goes to ``min`` over every agent that is eligible for the
    contact's pool and free on its channel, by the strategy's key function; an
    agent who becomes free takes the best of every contact waiting in its pools.
    """

    def __init__(self, config: RoutingConfig, *, now: float = 0.0) -> None:
        super().__init__(config, now=now)
        self.naive = False
        self._ring_last: dict[tuple[int, Channel], Key] = {}

    def go_naive(self) -> None:
        """Switch to scanning; the engine's indexes are dropped (no upkeep cost)."""
        for s in {q.strategy for q in self.config.queues}:
            if s not in NAIVE_STRATEGIES:
                raise ValueError(f"the naive router does not reproduce {s.value}")
        for pool in self._pool_list:
            pool.free.clear()
        for agent in self._agents.values():
            agent.index_keys.clear()
        self.naive = True

    def _make_offer(self, it: Interaction, agent: Agent, now: float, *, ring_all: bool) -> None:
        # Round robin's memory, as the engine's ring index keeps it: the key of
        # the last agent chosen in this pool and channel.
        pool = it.pool
        if pool is not None and pool.strategy is Strategy.ROUND_ROBIN and it.state is \
                InteractionState.QUEUED:
            self._ring_last[(pool.id, it.channel)] = KEY_FUNCTIONS[pool.strategy](agent, pool, now)
        super()._make_offer(it, agent, now, ring_all=ring_all)

    def _try_offer(self, it: Interaction, now: float, skip: str | None = None) -> None:
        if not self.naive:
            super()._try_offer(it, now, skip)
            return
        if it.state is not InteractionState.QUEUED or it.pool is None or it.due_at is not None:
            return
        if it.pool.waiting_list(it.channel).first() is not it:
            return  # as the engine: free agents go to the first contact in line
        agent = self.scan(it.pool, it.channel, now, skip)
        if agent is not None:
            self._make_offer(it, agent, now, ring_all=False)

    def scan(self, pool: Pool, channel: Channel, now: float, skip: str | None) -> Agent | None:
        """The agent the pool's strategy picks, found by looking at every agent.

        ``skip`` (the agent who just let the contact go) is chosen only when no
        other agent is free, as the engine does.
        """
        key_fn = KEY_FUNCTIONS[pool.strategy]
        excl = self.config.exclusive_channels
        members = pool.members_set
        last = self._ring_last.get((pool.id, channel)) \
            if pool.strategy is Strategy.ROUND_ROBIN else None
        best: Agent | None = None
        best_key: Key | None = None
        after: Agent | None = None
        after_key: Key | None = None
        skipped: Agent | None = None
        for agent in self._agents.values():
            if agent.id not in members or not agent.can_take(channel, excl):
                continue
            if agent.id == skip:
                skipped = agent
                continue
            key = key_fn(agent, pool, now)
            if best_key is None or key < best_key:
                best, best_key = agent, key
            if last is not None and key > last and (after_key is None or key < after_key):
                after, after_key = agent, key
        if after is not None:  # round robin: the first after the last one chosen
            return after
        return best if best is not None else skipped

    def _serve(self, agent: Agent, now: float) -> None:
        if not self.naive:
            super()._serve(agent, now)
            return
        excl = self.config.exclusive_channels
        while True:
            best: tuple[tuple[float, ...], Interaction, Pool] | None = None
            for pool in agent.pools:
                for ch, waiting in pool.waiting.items():
                    if not waiting or not agent.can_take(ch, excl):
                        continue
                    for it in waiting:  # every waiting contact, not only the head
                        rank = self._effective_rank(it, pool, now)
                        if best is None or rank < best[0]:
                            best = (rank, it, pool)
            if best is None:
                return
            _, it, pool = best
            self._make_offer(it, agent, now, ring_all=False)


# --------------------------------------------------------------------- workload
@dataclass
class RunResult:
    """What one timed steady-state run measured."""

    iterations: int
    decisions: int
    commands: int
    events: int
    seconds: float
    decision_calls: int
    decision_call_s: float
    waiting_mean: float
    busy_fraction_mean: float
    median_chunk_s: float
    pairs: list[tuple[str, str]] = field(default_factory=list, repr=False)

    def figures(self) -> dict[str, Any]:
        per = self.seconds / self.decisions if self.decisions else math.nan
        return {
            "iterations": self.iterations, "decisions": self.decisions,
            "commands": self.commands, "events": self.events,
            "seconds": round(self.seconds, 4),
            "decisions_per_s": round(self.decisions / self.seconds) if self.seconds else None,
            "us_per_decision": round(per * 1e6, 3),
            "us_per_decision_median_chunk": round(self.median_chunk_s * 1e6, 3),
            "decisions_per_s_median_chunk": round(1 / self.median_chunk_s)
            if self.median_chunk_s > 0 else None,
            "us_per_deciding_call": round(self.decision_call_s / self.decision_calls * 1e6, 3)
            if self.decision_calls else None,
            "waiting_contacts_mean": round(self.waiting_mean, 2),
            "busy_fraction_mean": round(self.busy_fraction_mean, 4),
        }


class Workload:
    """A seeded steady-state driver: arrivals, hang-ups and wrap-up ends."""

    def __init__(self, engine: Engine, config: RoutingConfig, seed: int) -> None:
        self.engine = engine
        self.rng = random.Random(seed + 1)
        counts = eligible_counts(config)
        self.queue_ids = [q for q, n in counts.items() if n > 0]
        cum, total = [], 0
        for q in self.queue_ids:
            total += counts[q]
            cum.append(total)
        self.cum_weights = cum
        self.n_agents = len(config.agents)
        self.max_wrapups = max(1, int(self.n_agents * WRAPUP_SHARE))
        self.connected: list[str] = []
        self.agent_of: dict[str, str] = {}
        self.wrapups: deque[tuple[str, str]] = deque()
        self.offered: list[str] = []
        self.now = 0.0
        self.seq = 0
        self.answered = 0  # no contact abandons: arrived - answered = waiting
        self.decisions = 0
        self.commands = 0
        self.events = 0
        self.decision_calls = 0  # handle() calls that made at least one decision
        self.decision_call_s = 0.0  # and the time spent in them
        self.pairs: list[tuple[str, str]] = []
        self.record: list[Any] | None = None  # commands and events, when sampling

    def _do(self, cmd: c.Command) -> None:
        t0 = time.perf_counter()
        out = self.engine.handle(cmd, self.now)
        spent = time.perf_counter() - t0
        self.commands += 1
        self.events += len(out)
        if self.record is not None:
            self.record.append(cmd)
            self.record.extend(out)
        for ev in out:
            if type(ev) is e.Offered:
                self.decisions += 1
                iid, aid = ev.interaction_id or "", ev.agent_id or ""
                self.pairs.append((iid, aid))
                self.offered.append(iid)
                self.agent_of[iid] = aid
        if self.offered:  # every agent answers at once
            self.decision_calls += 1
            self.decision_call_s += spent
            for iid in self.offered:
                self._accept(iid)
            self.offered.clear()

    def _accept(self, iid: str) -> None:
        cmd = c.Accept(interaction_id=iid, agent_id=self.agent_of[iid])
        out = self.engine.handle(cmd, self.now)
        self.commands += 1
        self.events += len(out)
        if self.record is not None:
            self.record.append(cmd)
            self.record.extend(out)
        self.answered += 1
        self.connected.append(iid)

    def start(self) -> None:
        """Log every agent in (ready), then fill to the busy target."""
        for agent_id in self.engine.agent_ids():
            self._do(c.SetAgentStatus(agent_id=agent_id, status=AgentStatus.READY))
        target = int(self.n_agents * BUSY_TARGET) - self.max_wrapups
        tries = 0
        while len(self.connected) < target and tries < 4 * self.n_agents:
            self.arrive()
            tries += 1

    def arrive(self) -> None:
        self.seq += 1
        queue_id = self.rng.choices(self.queue_ids, cum_weights=self.cum_weights)[0]
        self._do(c.Arrive(interaction_id=f"c{self.seq}", queue_id=queue_id))

    def hang_up(self) -> None:
        if not self.connected:
            return
        i = self.rng.randrange(len(self.connected))
        iid = self.connected[i]
        last = self.connected.pop()
        if last != iid:
            self.connected[i] = last
        self._do(c.Hangup(interaction_id=iid))
        self.wrapups.append((iid, self.agent_of.pop(iid)))

    def end_wrapup(self) -> None:
        iid, aid = self.wrapups.popleft()
        self._do(c.EndWrapup(interaction_id=iid, agent_id=aid))

    def step(self) -> None:
        self.now += STEP_S
        self.arrive()
        self.hang_up()
        if len(self.wrapups) > self.max_wrapups:
            self.end_wrapup()

    def run(self, iterations: int, *, sample_every: int = 0) -> RunResult:
        """Time ``iterations`` steps; ``sample_every`` > 0 also samples the
        waiting count and busy share (outside the timed sections)."""
        d0, c0, e0, p0 = self.decisions, self.commands, self.events, len(self.pairs)
        k0, s0 = self.decision_calls, self.decision_call_s
        waiting: list[int] = []
        busy: list[float] = []
        chunks: list[float] = []  # seconds per decision of each chunk
        chunk = sample_every if sample_every > 0 else iterations
        seconds = 0.0
        done = 0
        gc.collect()
        gc.disable()
        try:
            while done < iterations:
                n = min(chunk, iterations - done)
                d = self.decisions
                t0 = time.perf_counter()
                for _ in range(n):
                    self.step()
                spent = time.perf_counter() - t0
                seconds += spent
                done += n
                if self.decisions > d:
                    chunks.append(spent / (self.decisions - d))
                if sample_every > 0:
                    in_wrapup = len(self.wrapups)
                    waiting.append(self.seq - self.answered)
                    busy.append((len(self.connected) + in_wrapup) / self.n_agents)
        finally:
            gc.enable()
        return RunResult(
            iterations=iterations, decisions=self.decisions - d0,
            commands=self.commands - c0, events=self.events - e0, seconds=seconds,
            decision_calls=self.decision_calls - k0, decision_call_s=self.decision_call_s - s0,
            waiting_mean=sum(waiting) / len(waiting) if waiting else math.nan,
            busy_fraction_mean=sum(busy) / len(busy) if busy else math.nan,
            median_chunk_s=statistics.median(chunks) if chunks else math.nan,
            pairs=self.pairs[p0:],
        )


# --------------------------------------------------------------------- measuring
def vocabulary_seconds(objects: Sequence[Any], *, trusted: bool) -> float:
    """Time to build these commands and events once more: the part of the cost
    of a decision that is the shared vocabulary (frozen dataclasses), whatever
    the routing does. Commands are always validated (they come from outside);
    events are validated too, or built as the engine builds them (``trusted``:
    :mod:`switchboard.domain.trusted`, no re-validation)."""
    specs = []
    for o in objects:
        build = t.BUILDERS[type(o)] if trusted and isinstance(o, e.Event) else type(o)
        specs.append((build, {f.name: getattr(o, f.name) for f in fields(o) if f.init}))
    t0 = time.perf_counter()
    for build, kwargs in specs:
        build(**kwargs)
    return time.perf_counter() - t0


def _spread(values: Sequence[int]) -> dict[str, int]:
    ordered = sorted(values)
    return {"min": ordered[0], "median": ordered[len(ordered) // 2], "max": ordered[-1]}


def measure(n_agents: int, strategy: Strategy, seed: int, *, engine_iterations: int,
            naive_iterations: int, warmup: int) -> dict[str, Any]:
    """Time the engine, then the naive router, on the same world and workload.

    Both reach the steady state with the engine's indexes (the same code, so the
    same state); the naive router then drops them and runs the first
    ``naive_iterations`` of the same timed sequence, whose decisions must equal
    the engine's.
    """
    config = build_config(n_agents, strategy, seed)
    counts = eligible_counts(config)
    sample = max(1, engine_iterations // 40)

    t0 = time.perf_counter()
    engine = Engine(config)
    work = Workload(engine, config, seed)
    work.start()
    work.run(warmup)
    setup_s = time.perf_counter() - t0
    fast = work.run(engine_iterations, sample_every=sample)
    problems = engine.audit()
    work.record = []
    before = work.decisions
    work.run(min(1_000, engine_iterations))
    made = max(1, work.decisions - before)
    vocabulary_us = vocabulary_seconds(work.record, trusted=True) / made * 1e6
    validated_us = vocabulary_seconds(work.record, trusted=False) / made * 1e6
    work.record = None

    naive_engine = NaiveEngine(config)
    naive_work = Workload(naive_engine, config, seed)
    naive_work.start()
    naive_work.run(warmup)
    naive_engine.go_naive()
    slow = naive_work.run(naive_iterations, sample_every=max(1, naive_iterations // 40))
    compared = min(len(slow.pairs), len(fast.pairs))
    same = slow.pairs[:compared] == fast.pairs[:compared] and compared == len(slow.pairs)

    per_fast = fast.seconds / fast.decisions
    per_slow = slow.seconds / slow.decisions
    return {
        "strategy": strategy.value,
        "agents": n_agents,
        "eligible_agents_per_queue": _spread(list(counts.values())),
        "queues_without_agents": sum(1 for n in counts.values() if n == 0),
        "setup_s": round(setup_s, 3),
        "engine": fast.figures(),
        "engine_audit_problems": len(problems),
        "vocabulary_us_per_decision": round(vocabulary_us, 3),
        "vocabulary_validated_us_per_decision": round(validated_us, 3),
        "naive": slow.figures(),
        "naive_over_engine_cost": round(per_slow / per_fast, 2),
        "same_choices": same,
        "compared_decisions": compared,
    }


def verify_from_start(n_agents: int, strategy: Strategy, seed: int,
                      iterations: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Every decision of a whole run (log-in, fill and steady state) by the
    engine and by the naive router from the first command: (engine, naive)."""
    config = build_config(n_agents, strategy, seed)
    pairs = []
    for naive in (False, True):
        engine: Engine
        if naive:
            engine = NaiveEngine(config)
            engine.go_naive()
        else:
            engine = Engine(config)
        work = Workload(engine, config, seed)
        work.start()
        work.run(iterations)
        pairs.append(work.pairs)
    return pairs[0], pairs[1]


def run_benchmark(sizes: Sequence[int] = SIZES, strategies: Sequence[Strategy] = STRATEGIES,
                  *, seed: int = 7, engine_iterations: int = ENGINE_ITERATIONS,
                  warmup: int = WARMUP_ITERATIONS, naive_work: int = NAIVE_WORK,
                  min_naive_iterations: int = MIN_NAIVE_ITERATIONS,
                  verify_agents: int = 100, verify_iterations: int = 2_000) -> dict[str, Any]:
    """Every measurement, as the JSON-ready dict that :func:`main` prints."""
    started = time.perf_counter()
    results = []
    for strategy in strategies:
        for n in sizes:
            naive_iterations = min(engine_iterations,
                                   max(min_naive_iterations, naive_work // n))
            results.append(measure(n, strategy, seed, engine_iterations=engine_iterations,
                                   naive_iterations=naive_iterations, warmup=warmup))
    verification = []
    for strategy in strategies:
        fast, slow = verify_from_start(verify_agents, strategy, seed, verify_iterations)
        verification.append({"strategy": strategy.value, "agents": verify_agents,
                             "decisions": len(fast), "same_choices": fast == slow})

    growth: dict[str, Any] = {}
    lo, hi = min(sizes), max(sizes)
    if hi > lo:
        for strategy in strategies:
            row = {r["agents"]: r for r in results if r["strategy"] == strategy.value}
            growth[strategy.value] = {
                "from_agents": lo, "to_agents": hi,
                "engine_cost_ratio": round(row[hi]["engine"][COST]
                                           / row[lo]["engine"][COST], 3),
                "naive_cost_ratio": round(row[hi]["naive"][COST]
                                          / row[lo]["naive"][COST], 3),
                "engine_us_by_agents": {n: row[n]["engine"][COST] for n in sorted(row)},
                "naive_us_by_agents": {n: row[n]["naive"][COST] for n in sorted(row)},
                "log_n_ratio": round(math.log(hi) / math.log(lo), 3),
                "n_ratio": round(hi / lo, 3),
            }

    at_1000 = {r["strategy"]: r["engine"]["decisions_per_s_median_chunk"] for r in results
               if r["agents"] == 1_000}
    acceptance: dict[str, Any] = {
        "target_decisions_per_s_at_1000_agents": TARGET_AT_1000,
        "engine_decisions_per_s_at_1000_agents": at_1000,
        "met_at_1000": bool(at_1000) and all(v >= TARGET_AT_1000 for v in at_1000.values()),
        "vocabulary_us_per_decision_at_1000_agents": {
            r["strategy"]: r["vocabulary_us_per_decision"] for r in results
            if r["agents"] == 1_000},
        "engine_growth_within_log_n": all(g["engine_cost_ratio"] <= g["log_n_ratio"]
                                          for g in growth.values()) if growth else None,
        "same_choices_everywhere": all(r["same_choices"] for r in results)
        and all(v["same_choices"] for v in verification),
    }
    return {
        "benchmark": "acd_engine_routing_decisions",
        "decision": DECISION,
        "baseline": ("naive router: the same engine choosing by a scan of every agent, "
                     "min(eligible free agents, key=KEY_FUNCTIONS[strategy](agent, pool, now)), "
                     "and of every waiting contact of a freed agent's queues"),
        "method": {
            "timed": ("wall time of whole steady-state iterations / decisions made in them, "
                      "over the run and as the median of 40 chunks of it (robust to other "
                      "processes); growth and acceptance use the median"),
            "iteration": ("now += 10 ms; Arrive (accepted at once if offered); Hangup of a "
                          "random connected contact; EndWrapup of the oldest wrap-up when "
                          "more than 2% of agents are in wrap-up (accepted at once if offered)"),
            "busy_target": BUSY_TARGET,
            "warmup_iterations": warmup,
            "gc": "disabled while timing (as timeit does)",
            "vocabulary_us_per_decision": ("time to build again the commands (validated) "
                                           "and events (as the engine builds them: trusted "
                                           "builders, no re-validation) of 1,000 "
                                           "steady-state iterations, per decision: a floor "
                                           "under any routing code that speaks this "
                                           "vocabulary"),
            "vocabulary_validated_us_per_decision": ("the same with every event validated "
                                                     "too (as from_dict or an API body)"),
            "us_per_deciding_call": ("mean time of the handle() calls that made a decision "
                                     "(Arrive or EndWrapup), without the Accept and Hangup "
                                     "around them"),
            "naive_iterations": f"min(engine iterations, max({min_naive_iterations}, "
                                f"{naive_work} / agents))",
        },
        "world": {
            "queues": N_QUEUES, "skills": N_SKILLS,
            "agent_skills": "3-6 distinct skills, levels 1-10",
            "queue_requirements": "1-2 skills, minimum level 1-5",
            "arrivals": "queue drawn in proportion to its eligible agents; voice; priority 0",
            "seed": seed,
        },
        "machine": {"python": platform.python_version(), "implementation":
                    platform.python_implementation(), "machine": platform.machine(),
                    "cpus": os.cpu_count()},
        "results": results,
        "verification_from_start": verification,
        "growth": growth,
        "acceptance": acceptance,
        "total_s": round(time.perf_counter() - started, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--strategies", nargs="+", default=[s.value for s in STRATEGIES],
                        choices=sorted(s.value for s in NAIVE_STRATEGIES))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--iterations", type=int, default=ENGINE_ITERATIONS)
    parser.add_argument("--quick", action="store_true",
                        help="100 and 1,000 agents, longest idle, fewer iterations")
    args = parser.parse_args(argv)
    if args.quick:
        report = run_benchmark((100, 1_000), (Strategy.LONGEST_IDLE,), seed=args.seed,
                               engine_iterations=5_000, warmup=1_000, naive_work=1_000_000)
    else:
        report = run_benchmark(args.sizes, [Strategy(s) for s in args.strategies],
                               seed=args.seed, engine_iterations=args.iterations)
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
