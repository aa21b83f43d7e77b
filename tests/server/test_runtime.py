"""The live runtime: commit before publish, one log transaction, timers, replay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import delete, func, select

from switchboard.domain import commands as c
from switchboard.domain.enums import AgentStatus
from switchboard.domain.errors import InvalidTransition, NotFound
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.server.runtime import ReplayMismatch, Runtime
from switchboard.store import log, repo
from switchboard.store import schema as s
from switchboard.store.db import migrate, open_db
from tests.store.conftest import database_url


class Clock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = open_db(database_url(request.param, tmp_path))
    migrate(engine)
    with engine.begin() as conn:
        repo.create_tenant(conn, "t1", name="One", now=0.0, seed=3)
        repo.create_tenant(conn, "t2", name="Two", now=0.0)
    yield engine
    engine.dispose()


def count(db: Database, table: type[s.Base]) -> int:
    with db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def setup(rt: Runtime, ring_timeout_s: float = 20.0) -> None:
    q = QueueConfig(id="q1", name="Sales", skills={"sales": 1}, ring_timeout_s=ring_timeout_s)
    rt.execute("t1", c.UpsertQueue(queue=q), new_skills=["sales"],
               write=lambda conn: repo.insert_queue(conn, "t1", q, 0.0))
    a = AgentConfig(id="a1", name="Ann", skills={"sales": 5})
    rt.execute("t1", c.UpsertAgent(agent=a),
               write=lambda conn: repo.insert_agent(conn, "t1", a, 0.0))


def arrive(rt: Runtime, iid: str) -> None:
    rt.execute("t1", c.Arrive(interaction_id=iid, queue_id="q1"),
               write=lambda conn: log.insert_interaction(
                   conn, "t1", interaction_id=iid, channel="voice", contact_id=None,
                   queue_id="q1", priority=0, attributes={}, now=0.0))


def test_commands_are_logged_with_their_events_then_published(db: Database) -> None:
    async def main() -> None:
        clock = Clock()
        rt = Runtime(db, clock=clock)
        rt.start()
        sub = rt.subscribe("t1")
        other = rt.subscribe("t2")
        setup(rt)
        clock.t = 1001.0
        rt.execute("t1", c.SetAgentStatus(agent_id="a1", status=AgentStatus.READY))
        for i in range(3):
            clock.t += 1
            arrive(rt, f"i{i}")
        got = [sub.queue.get_nowait()["kind"] for _ in range(sub.queue.qsize())]
        assert got == ["agent_updated", "agent_state", "arrived", "enqueued", "offered",
                       "agent_state", "arrived", "enqueued", "arrived", "enqueued"]
        assert other.queue.empty()
        assert rt.engine("t1").waiting("q1") == ["i1", "i2"]
        with db.connect() as conn:
            entries = log.load_entries(conn, "t1")
            assert [(x.entry, x.name) for x in entries] == [
                ("skills", None), ("command", "UpsertQueue"), ("command", "UpsertAgent"),
                ("command", "SetAgentStatus"), ("command", "Arrive"), ("command", "Arrive"),
                ("command", "Arrive")]
            assert sum(len(k) for k in log.event_kinds_by_entry(conn, "t1").values()) == 10
            row = log.interaction_row(conn, "t1", "i0")
            assert (row.state, row.agent_id, row.enqueued_at) == ("offered", None, 1002.0)
            assert log.interaction_row(conn, "t1", "i2").state == "queued"
            with pytest.raises(NotFound):
                log.interaction_row(conn, "t2", "i0")
        rt.stop()

    asyncio.run(main())


def test_a_refused_command_changes_nothing_and_logs_nothing(db: Database) -> None:
    async def main() -> None:
        clock = Clock()
        rt = Runtime(db, clock=clock)
        rt.start()
        setup(rt)
        arrive(rt, "i0")
        entries, events = count(db, s.EngineLogEntry), count(db, s.EventRow)
        with pytest.raises(InvalidTransition):
            rt.execute("t1", c.Hold(interaction_id="i0"))  # queued, not connected
        with pytest.raises(NotFound):
            rt.execute("t1", c.Accept(interaction_id="nope", agent_id="a1"))
        assert (count(db, s.EngineLogEntry), count(db, s.EventRow)) == (entries, events)
        # A failing write rolls the whole request back and the engine with it.
        def boom(conn: object) -> None:
            raise RuntimeError("disk full")
        with pytest.raises(RuntimeError):
            rt.execute("t1", c.Arrive(interaction_id="i1", queue_id="q1"), write=boom)
        assert rt.engine("t1").waiting("q1") == ["i0"]
        assert (count(db, s.EngineLogEntry), count(db, s.EventRow)) == (entries, events)
        # Only the loop's thread may drive the engines (a thread pool would interleave).
        with pytest.raises(RuntimeError):
            await asyncio.to_thread(rt.execute, "t1", c.LeaveQueue(interaction_id="i0"))
        assert rt.engine("t1").waiting("q1") == ["i0"]
        rt.stop()

    asyncio.run(main())


def test_timer_firings_are_logged_and_replay_rebuilds_the_same_state(db: Database) -> None:
    async def main() -> None:
        rt = Runtime(db, snapshot_every=None)  # no snapshot: the next start replays it all
        rt.start()
        sub = rt.subscribe("t1")
        setup(rt, ring_timeout_s=0.05)
        rt.execute("t1", c.SetAgentStatus(agent_id="a1", status=AgentStatus.READY))
        for i in range(4):
            arrive(rt, f"i{i}")
        kinds: list[str] = []
        while "offer_timeout" not in kinds:
            kinds.append((await asyncio.wait_for(sub.queue.get(), 2.0))["kind"])
        rt.stop()
        before = rt.engine("t1")
        with db.connect() as conn:
            assert "advance" in [x.entry for x in log.load_entries(conn, "t1")]
        again = Runtime(db)
        again.start()
        after = again.engine("t1")
        assert again.replayed["t1"].mismatches == []
        assert again.replayed["t1"].events == count(db, s.EventRow)
        assert after.waiting("q1") == before.waiting("q1")
        for iid in before.interaction_ids():
            assert after.interaction(iid) == before.interaction(iid)
        assert after.agent("a1") == before.agent("a1")
        assert after.next_deadline() == before.next_deadline()
        again.stop()

    asyncio.run(main())


def test_replay_that_disagrees_with_the_log_stops_the_start(db: Database) -> None:
    async def main() -> None:
        rt = Runtime(db, snapshot_every=None)
        rt.start()
        setup(rt)
        arrive(rt, "i0")
        rt.stop()
        with db.begin() as conn:
            last = conn.execute(select(func.max(s.EventRow.seq))).scalar_one()
            conn.execute(delete(s.EventRow).where(s.EventRow.seq == last))
        with pytest.raises(ReplayMismatch) as err:
            Runtime(db).start()
        assert "enqueued" in str(err.value)

    asyncio.run(main())
