"""Engine snapshots: a restart from a snapshot plus the log's tail equals a full
replay; snapshots of other code, or naming other code, are not used."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import select

from switchboard.acd import Engine
from switchboard.domain import commands as c
from switchboard.domain.enums import AgentStatus
from switchboard.domain.errors import SwitchboardError
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.server import snapshot
from switchboard.server.runtime import Runtime, rebuild
from switchboard.store import log, repo
from switchboard.store import schema as s
from switchboard.store.db import migrate, open_db
from tests.server.test_runtime import Clock
from tests.store.conftest import database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = open_db(database_url(request.param, tmp_path))
    migrate(engine)
    with engine.begin() as conn:
        repo.create_tenant(conn, "t1", name="One", now=0.0, seed=7)
    yield engine
    engine.dispose()


def traffic(rt: Runtime, clock: Clock, rounds: range) -> None:
    """Contacts arriving, ringing out, answered, ended, wrapped up: timers too."""
    for i in rounds:
        clock.t += 3.0
        iid = f"i{i}"
        rt.execute("t1", c.Arrive(interaction_id=iid, queue_id=f"q{i % 2}", priority=i % 3),
                   write=lambda conn, iid=iid, i=i: log.insert_interaction(
                       conn, "t1", interaction_id=iid, channel="voice", contact_id=None,
                       queue_id=f"q{i % 2}", priority=i % 3, attributes={}, now=clock.t))
        engine = rt.engine("t1")
        for jid in engine.interaction_ids():
            view = engine.interaction(jid)
            cmd: c.Command | None = None
            if view["state"] == "offered" and (i + len(jid)) % 3:
                clock.t += 1.0
                cmd = c.Accept(interaction_id=jid, agent_id=view["offered_to"][0])
            elif view["state"] == "connected" and i % 2:
                clock.t += 2.0
                cmd = c.Hangup(interaction_id=jid, by="agent")
            if cmd is not None:
                with contextlib.suppress(SwitchboardError):  # a ring may have timed out
                    rt.execute("t1", cmd)  # (refused: its timers are logged all the same)


def setup(rt: Runtime) -> None:
    for q in range(2):
        queue = QueueConfig(id=f"q{q}", name=f"Q{q}", skills={"sales": 1}, ring_timeout_s=4.0,
                            wrapup_s=5.0, strategy="least_occupied" if q else "longest_idle")
        rt.execute("t1", c.UpsertQueue(queue=queue), new_skills=["sales"],
                   write=lambda conn, queue=queue: repo.insert_queue(conn, "t1", queue, 0.0))
    for a in range(4):
        agent = AgentConfig(id=f"a{a}", name=f"A{a}", skills={"sales": 1 + a})
        rt.execute("t1", c.UpsertAgent(agent=agent),  # with its row, as the API does
                   write=lambda conn, agent=agent: repo.insert_agent(conn, "t1", agent, 0.0))
        rt.execute("t1", c.SetAgentStatus(agent_id=f"a{a}", status=AgentStatus.READY))


def views(engine: Engine) -> dict[str, Any]:
    """Everything the engine shows, and the state of its random generator."""
    return {
        "now": engine.now, "deadline": engine.next_deadline(),
        "interactions": {i: engine.interaction(i) for i in engine.interaction_ids()},
        "agents": {a: engine.agent(a) for a in engine.agent_ids()},
        "queues": {q: (engine.queue_stats(q), engine.waiting(q)) for q in engine.queue_ids()},
        "rng": engine.rng.getstate(), "audit": engine.audit(),
    }


def test_a_restart_from_a_snapshot_equals_a_full_replay(db: Database) -> None:
    async def main() -> None:
        clock = Clock()
        rt = Runtime(db, clock=clock, snapshot_every=25)
        rt.start()
        setup(rt)
        traffic(rt, clock, range(60))
        live = views(rt.engine("t1"))
        with db.connect() as conn:
            snaps = list(conn.execute(select(s.EngineSnapshot.seq)))
            fast, report = rebuild(conn, "t1", 7)
            slow, full = rebuild(conn, "t1", 7, use_snapshot=False)
            last = log.last_seq(conn, "t1")
        assert 1 <= len(snaps) <= 2  # written every 25 entries, the newest two kept
        assert report.snapshot_seq == max(seq for (seq,) in snaps)
        assert report.mismatches == full.mismatches == []
        assert 0 < report.entries < full.entries and report.last_seq == full.last_seq == last
        assert views(fast) == views(slow) == live
        # and they go on alike: the same inputs give the same events
        for engine in (fast, slow):
            engine.advance(clock.t + 30.0)
        cmd = c.Arrive(interaction_id="later", queue_id="q1")
        assert fast.handle(cmd, clock.t + 31.0) == slow.handle(cmd, clock.t + 31.0)
        assert views(fast) == views(slow)
        rt.stop()

    asyncio.run(main())


def test_a_clean_stop_leaves_a_snapshot_and_the_next_start_replays_nothing(
        db: Database) -> None:
    async def main() -> None:
        clock = Clock()
        rt = Runtime(db, clock=clock)
        rt.start()
        setup(rt)
        traffic(rt, clock, range(10))
        before = views(rt.engine("t1"))
        rt.stop()
        again = Runtime(db, clock=clock)
        again.start()
        report = again.replayed["t1"]
        assert report.snapshot_seq is not None and report.entries == 0
        assert views(again.engine("t1")) == before
        traffic(again, clock, range(10, 14))  # it goes on from there, logging as usual
        after = views(again.engine("t1"))
        again.stop()
        with db.connect() as conn:
            assert views(rebuild(conn, "t1", 7, use_snapshot=False)[0]) == after

    asyncio.run(main())


def test_snapshots_of_other_code_or_naming_other_code_are_not_used(db: Database) -> None:
    async def main() -> None:
        clock = Clock()
        rt = Runtime(db, clock=clock, snapshot_every=None)
        rt.start()
        setup(rt)
        traffic(rt, clock, range(6))
        expected = views(rt.engine("t1"))
        seq = rt._tenant("t1").seq
        rt.stop()
        evil = pickle.dumps({"config": os.system})  # would name os.system when read
        with db.begin() as conn:
            log.save_snapshot(conn, "t1", seq=seq, at=clock.t, version="older code",
                              data=snapshot.dump(rt.engine("t1")), now=clock.t)
            log.save_snapshot(conn, "t1", seq=seq + 1, at=clock.t,
                              version=snapshot.code_version(), data=evil, now=clock.t)
        with db.connect() as conn:
            engine, report = rebuild(conn, "t1", 7)
        assert report.snapshot_seq is None and report.mismatches == []  # the whole log
        assert views(engine) == expected

    asyncio.run(main())


def test_the_unpickler_admits_only_the_routing_core() -> None:
    with pytest.raises(snapshot.SnapshotError, match="os"):
        snapshot.load(pickle.dumps(os.system), 0)
    with pytest.raises(snapshot.SnapshotError, match="attributes"):
        snapshot.load(pickle.dumps([1, 2]), 0)
    with pytest.raises(SwitchboardError):
        snapshot.load(b"not a pickle", 0)
