"""Smoke test of bench/engine.py at a tiny size: the engine and the naive
router choose the same agents, and the JSON report has its documented keys.
No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from switchboard.acd import Engine
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import Strategy
from switchboard.domain.model import AgentConfig, QueueConfig, RoutingConfig

BENCH = Path(__file__).resolve().parents[2] / "bench" / "engine.py"
STRATEGIES = (Strategy.LONGEST_IDLE, Strategy.BEST_SKILL, Strategy.ROUND_ROBIN)


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    name = "switchboard_bench_engine"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_report_has_documented_keys_and_same_choices(bench: ModuleType) -> None:
    report = bench.run_benchmark((30, 90), STRATEGIES, seed=3, engine_iterations=200,
                                 warmup=50, naive_work=9_000, min_naive_iterations=80,
                                 verify_agents=30, verify_iterations=200)
    json.dumps(report)  # JSON-ready
    assert set(report) == {"benchmark", "decision", "baseline", "method", "world", "machine",
                           "results", "verification_from_start", "growth", "acceptance",
                           "total_s"}
    assert "offered" in report["decision"]
    assert [(r["strategy"], r["agents"]) for r in report["results"]] == [
        (s.value, n) for s in STRATEGIES for n in (30, 90)]
    for r in report["results"]:
        assert r["same_choices"] is True
        assert r["engine_audit_problems"] == 0
        assert r["compared_decisions"] == r["naive"]["decisions"] > 0
        for router in ("engine", "naive"):
            figures = r[router]
            assert set(figures) == {
                "iterations", "decisions", "commands", "events", "seconds", "decisions_per_s",
                "us_per_decision", "us_per_decision_median_chunk",
                "decisions_per_s_median_chunk", "us_per_deciding_call",
                "waiting_contacts_mean", "busy_fraction_mean"}
            assert figures["decisions"] > 0 and figures["commands"] > figures["decisions"]
        assert r["engine"]["iterations"] == 200
        # 9,000 / agents naive iterations, at least 80, at most the engine's
        assert r["naive"]["iterations"] == {30: 200, 90: 100}[r["agents"]]
    assert [v["same_choices"] for v in report["verification_from_start"]] == [True] * 3
    assert set(report["growth"]) == {s.value for s in STRATEGIES}
    growth = report["growth"]["longest_idle"]
    assert (growth["from_agents"], growth["to_agents"], growth["n_ratio"]) == (30, 90, 3.0)
    assert growth["log_n_ratio"] == pytest.approx(1.323, abs=1e-3)  # ln 90 / ln 30
    assert report["acceptance"]["same_choices_everywhere"] is True
    assert report["acceptance"]["engine_decisions_per_s_at_1000_agents"] == {}


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_naive_router_matches_engine_from_the_first_command(bench: ModuleType,
                                                            strategy: Strategy) -> None:
    fast, slow = bench.verify_from_start(40, strategy, 11, 300)
    assert len(fast) > 300  # the fill alone offers ~30 contacts, then ~1 per step
    assert slow == fast


def _tiny(bench: ModuleType, strategy: Strategy) -> Engine:
    config = RoutingConfig(
        skills=frozenset({"en"}),
        queues=(QueueConfig(id="q", strategy=strategy, skills={"en": 2}),),
        agents=(AgentConfig(id="a1", skills={"en": 3}, order=2),
                AgentConfig(id="a2", skills={"en": 9}, order=1),
                AgentConfig(id="a3", skills={"en": 1}, order=0),  # below the minimum
                AgentConfig(id="a4", skills={"en": 5}, order=3)))
    engine: Engine = bench.NaiveEngine(config)
    engine.go_naive()
    for t, agent in enumerate(("a1", "a2", "a3", "a4")):
        engine.handle(c.SetAgentStatus(agent_id=agent, status="ready"), float(t))
    return engine


def _cycle(engine: Engine, iid: str, now: float) -> str:
    """A contact arrives; the chosen agent answers, hangs up and wraps up."""
    offered = [ev for ev in engine.handle(c.Arrive(interaction_id=iid, queue_id="q"), now)
               if isinstance(ev, e.Offered)]
    assert len(offered) == 1
    agent = offered[0].agent_id or ""
    engine.handle(c.Accept(interaction_id=iid, agent_id=agent), now)
    engine.handle(c.Hangup(interaction_id=iid), now + 1)
    return agent


def test_naive_router_picks_by_hand(bench: ModuleType) -> None:
    # best skill: a2 (9), then a4 (5), then a1 (3); a3 is not eligible.
    best = _tiny(bench, Strategy.BEST_SKILL)
    assert [_cycle(best, f"b{i}", 10.0 + 10 * i) for i in range(4)] == ["a2", "a2", "a2", "a2"]
    # longest idle: ready at 0 (a1), 1 (a2), 3 (a4); each one idles after its call.
    idle = _tiny(bench, Strategy.LONGEST_IDLE)
    assert [_cycle(idle, f"l{i}", 10.0 + 10 * i) for i in range(4)] == ["a1", "a2", "a4", "a1"]
    # round robin in agent order: a2 (order 1), a1 (2), a4 (3), then around again.
    ring = _tiny(bench, Strategy.ROUND_ROBIN)
    assert [_cycle(ring, f"r{i}", 10.0 + 10 * i) for i in range(4)] == ["a2", "a1", "a4", "a2"]
    for engine in (best, idle, ring):
        assert all(not pool.free for pool in engine._pool_list)  # no index was used


def test_naive_router_refuses_strategies_it_cannot_reproduce(bench: ModuleType) -> None:
    config = bench.build_config(20, Strategy.RANDOM, 1)
    with pytest.raises(ValueError, match="random"):
        bench.NaiveEngine(config).go_naive()
