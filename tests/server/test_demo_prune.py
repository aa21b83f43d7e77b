"""Demo mode keeps ``var/demo.db`` bounded: a start deletes the history that ended
over a week ago (up to the newest snapshot) and still rebuilds the same state."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import func, select, update

from switchboard.domain import commands as c
from switchboard.domain.enums import AgentStatus
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.server import demo
from switchboard.server.runtime import LogPruned, Runtime
from switchboard.store import log, repo
from switchboard.store import schema as s
from switchboard.store.db import migrate, open_db
from tests.server.test_snapshot import Clock, views

DAY = 86400.0
NOW = 1_800_000_000.0


def count(db: Database, table: type[s.Base], *where: object) -> int:
    with db.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def contact(rt: Runtime, clock: Clock, iid: str, *, finish: bool, queue: str = "q") -> None:
    """A contact that arrives and (``finish``) is answered, ended and wrapped up."""
    rt.execute(demo.TENANT, c.Arrive(interaction_id=iid, queue_id=queue),
               write=lambda conn: log.insert_interaction(
                   conn, demo.TENANT, interaction_id=iid, channel="voice", contact_id=None,
                   queue_id=queue, priority=0, attributes={}, now=clock.t))
    if finish:
        clock.t += 5
        rt.execute(demo.TENANT, c.Accept(interaction_id=iid, agent_id="a"))
        clock.t += 60
        rt.execute(demo.TENANT, c.Hangup(interaction_id=iid, by="agent"))
        clock.t += 5
        rt.execute(demo.TENANT, c.EndWrapup(interaction_id=iid, agent_id="a"))
    clock.t += 30


@pytest.fixture
def db(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = open_db(f"sqlite:///{tmp_path / 'var' / 'demo.db'}")
    migrate(engine)
    demo.ensure_tenant(engine)
    yield engine
    engine.dispose()


def test_a_start_prunes_old_ended_history_and_rebuilds_the_same_state(db: Database) -> None:
    async def main() -> None:
        clock = Clock(NOW - 10 * DAY)
        rt = Runtime(db, clock=clock)
        rt.start()
        for q in (QueueConfig(id="q", name="Q", skills={"sales": 1}, wrapup_s=60.0),
                  QueueConfig(id="fr", name="FR", skills={"fr": 1})):  # no agent has fr
            rt.execute(demo.TENANT, c.UpsertQueue(queue=q), new_skills=q.skills,
                       write=lambda conn, q=q: repo.insert_queue(conn, demo.TENANT, q, 0.0))
        agent = AgentConfig(id="a", skills={"sales": 2})
        rt.execute(demo.TENANT, c.UpsertAgent(agent=agent),
                   write=lambda conn: repo.insert_agent(conn, demo.TENANT, agent, 0.0))
        rt.execute(demo.TENANT, c.SetAgentStatus(agent_id="a", status=AgentStatus.READY))
        for i in range(5):
            contact(rt, clock, f"old{i}", finish=True)
        contact(rt, clock, "old-waiting", finish=False, queue="fr")  # still waits: kept
        clock.t = NOW - DAY
        contact(rt, clock, "recent", finish=True)
        rt.stop()  # a clean stop writes the snapshot the pruning needs
        before = views(rt.engine(demo.TENANT))
        kept_waiting = count(db, s.EventRow, s.EventRow.interaction_id == "old-waiting")
        recent = count(db, s.EventRow, s.EventRow.interaction_id == "recent")
        assert kept_waiting and recent

        note = demo.prune(db, NOW)
        assert note is not None and "7 days" in note and "events" in note
        assert count(db, s.EventRow, s.EventRow.interaction_id.like("old_")) == 0
        assert count(db, s.Interaction, s.Interaction.id.like("old_")) == 0
        assert count(db, s.EventRow, s.EventRow.interaction_id == "old-waiting") == kept_waiting
        assert count(db, s.EventRow, s.EventRow.interaction_id == "recent") == recent
        assert count(db, s.EventRow, s.EventRow.at < NOW - 7 * DAY,
                     s.EventRow.interaction_id.is_(None)) == 0
        assert demo.prune(db, NOW) is None  # nothing more to delete
        assert demo.resumable(db)

        again = Runtime(db, clock=clock)
        again.start()
        assert again.replayed[demo.TENANT].entries == 0
        assert views(again.engine(demo.TENANT)) == before
        again.stop()

        # Other routing code (its snapshots do not count): the pruned log cannot be
        # rebuilt, the server says so, and the demo starts on a fresh database.
        with db.begin() as conn:
            conn.execute(update(s.EngineSnapshot).values(version="another version"))
        assert not demo.resumable(db)
        with pytest.raises(LogPruned):
            Runtime(db, clock=clock).start()
        out = io.StringIO()
        path = Path(db.url.database or "")
        fresh = demo.fresh_database(db, out)
        try:
            assert "moved it to" in out.getvalue()
            assert [p.name for p in path.parent.glob("demo-*.db")]  # the old one, kept
            assert count(fresh, s.Tenant) == 0
        finally:
            fresh.dispose()

    asyncio.run(main())


def test_a_database_never_pruned_is_never_moved(db: Database) -> None:
    assert demo.resumable(db)
    assert demo.prune(db, NOW) is None  # no snapshot yet: nothing is deleted
