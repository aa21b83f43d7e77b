"""Group commit: contacts submitted in one turn of the event loop share one
transaction, committed before anyone is told, in the engine's order; a failed
one takes nothing of the others with it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, select
from sqlalchemy import Engine as Database

from switchboard.domain import commands as c
from switchboard.domain.enums import AgentStatus
from switchboard.domain.errors import NotFound
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.server.runtime import CommitAborted, Runtime, rebuild
from switchboard.store import log, repo
from switchboard.store import schema as s
from switchboard.store.db import migrate, open_db
from tests.server.test_snapshot import Clock, views
from tests.store.conftest import database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = open_db(database_url(request.param, tmp_path))
    migrate(engine)
    with engine.begin() as conn:
        repo.create_tenant(conn, "t1", name="One", now=0.0, seed=5)
    yield engine
    engine.dispose()


def setup(rt: Runtime) -> None:
    q = QueueConfig(id="q", name="Q", skills={"sales": 1})
    rt.execute("t1", c.UpsertQueue(queue=q), new_skills=["sales"],
               write=lambda conn: repo.insert_queue(conn, "t1", q, 0.0))
    for a in ("a1", "a2"):
        agent = AgentConfig(id=a, skills={"sales": 2})
        rt.execute("t1", c.UpsertAgent(agent=agent),  # with its row, as the API does
                   write=lambda conn, agent=agent: repo.insert_agent(conn, "t1", agent, 0.0))
        rt.execute("t1", c.SetAgentStatus(agent_id=a, status=AgentStatus.READY))


def row(iid: str, fail: bool = False) -> Any:
    def write(conn: Connection) -> None:
        if fail:
            raise RuntimeError("this request's rows cannot be written")
        log.insert_interaction(conn, "t1", interaction_id=iid, channel="voice",
                               contact_id=None, queue_id="q", priority=0, attributes={},
                               now=0.0)
    return write


def commits(db: Database) -> list[int]:
    seen: list[int] = []
    event.listen(db, "commit", lambda _conn: seen.append(1))
    return seen


def arrived(db: Database) -> list[str]:
    with db.connect() as conn:
        return list(conn.scalars(select(s.EventRow.interaction_id)
                                 .where(s.EventRow.kind == "arrived").order_by(s.EventRow.seq)))


def test_submits_of_one_turn_share_one_commit_before_anyone_is_told(db: Database) -> None:
    async def main() -> None:
        rt = Runtime(db, clock=Clock())
        rt.start()
        setup(rt)
        sub = rt.subscribe("t1")
        seen = commits(db)

        async def create(iid: str) -> list[str]:
            out = await rt.submit("t1", c.Arrive(interaction_id=iid, queue_id="q"),
                                  write=row(iid))
            assert iid in arrived(db)  # committed before the caller is told
            return [ev.kind for ev in out]

        kinds = await asyncio.gather(*(create(f"i{k}") for k in range(5)))
        assert len(seen) == 1  # one transaction for the five
        assert arrived(db) == [f"i{k}" for k in range(5)]  # in the engine's order
        assert kinds[0] == ["arrived", "enqueued", "offered", "agent_state"]
        assert kinds[4] == ["arrived", "enqueued"]  # two agents: the rest wait
        published = [sub.queue.get_nowait().get("interaction_id")
                     for _ in range(sub.queue.qsize())]
        assert [i for i in published if i and i.startswith("i")][:3] == ["i0", "i0", "i0"]
        # an execute commits what is pending first, in order
        pending = asyncio.ensure_future(rt.submit(
            "t1", c.Arrive(interaction_id="j0", queue_id="q"), write=row("j0")))
        await asyncio.sleep(0)  # j0 ran through the engine, not committed yet
        rt.execute("t1", c.Arrive(interaction_id="j1", queue_id="q"), write=row("j1"))
        assert arrived(db)[-2:] == ["j0", "j1"]
        assert [ev.kind for ev in await pending] == ["arrived", "enqueued"]
        with db.connect() as conn:
            assert views(rebuild(conn, "t1", 5)[0]) == views(rt.engine("t1"))
        rt.stop()

    asyncio.run(main())


def test_a_failed_write_fails_its_request_and_takes_nothing_of_the_others(
        db: Database) -> None:
    async def main() -> None:
        rt = Runtime(db, clock=Clock())
        rt.start()
        setup(rt)
        before = views(rt.engine("t1"))
        results = await asyncio.gather(*(
            rt.submit("t1", c.Arrive(interaction_id=f"i{k}", queue_id="q"),
                      write=row(f"i{k}", fail=k == 1))
            for k in range(3)), return_exceptions=True)
        assert isinstance(results[1], RuntimeError)
        assert isinstance(results[0], CommitAborted) and isinstance(results[2], CommitAborted)
        assert results[0].http_status == 503 and results[0].code == "retry"
        assert arrived(db) == []  # nothing of the batch was saved
        with db.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(s.Interaction)) == 0
        assert views(rt.engine("t1")) == before  # rebuilt from the log
        with pytest.raises(NotFound):
            rt.engine("t1").interaction("i0")
        await rt.submit("t1", c.Arrive(interaction_id="again", queue_id="q"),
                        write=row("again"))
        assert arrived(db) == ["again"]
        rt.stop()

    asyncio.run(main())
