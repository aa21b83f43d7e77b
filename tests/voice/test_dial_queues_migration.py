"""Migration 0010 removes the ``dial-<agent>`` queues that earlier click-to-dial
code made, and nothing else, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from switchboard.domain import commands as c
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.server.runtime import Runtime
from switchboard.store import repo
from switchboard.store import schema as s
from switchboard.store.db import _config, current_revision, head_revision, migrate, open_db
from tests.store.conftest import database_url


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_click_to_dial_queues_are_removed_and_others_kept(kind: str, tmp_path: Path) -> None:
    engine = open_db(database_url(kind, tmp_path))
    try:
        with engine.begin() as conn:
            command.upgrade(_config(conn), "0009")
        made = QueueConfig(id="dial-ada", name="Click-to-dial ada", members=("ada",))
        kept = [QueueConfig(id="sales", name="Sales"),
                # a queue an administrator named dial-...: not the voice code's
                QueueConfig(id="dial-plans", name="Dial plans", members=("bob",)),
                QueueConfig(id="dial-bob", name="Click-to-dial bob", members=("bob", "ada"))]
        with engine.begin() as conn:
            repo.create_tenant(conn, "t1", name="T1", now=0.0)
            repo.create_tenant(conn, "t2", name="T2", now=0.0)
            for tenant in ("t1", "t2"):
                for q in (made, *kept):
                    repo.insert_queue(conn, tenant, q, 0.0)
            conn.execute(s.QueueThresholds.__table__.insert().values(
                tenant_id="t1", queue_id="dial-ada", levels={"waiting": {"amber": 1, "red": 2}},
                updated_at=0.0, updated_by="admin"))
        migrate(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            rows = conn.execute(select(s.Queue.tenant_id, s.Queue.id)).all()
            thresholds = conn.execute(select(s.QueueThresholds.queue_id)).all()
        left = sorted((t, q) for t, q in rows)
        assert left == sorted((t, q.id) for t in ("t1", "t2") for q in kept)
        assert thresholds == []
    finally:
        engine.dispose()


def test_routing_forgets_the_removed_queues_at_the_next_start(tmp_path: Path) -> None:
    """The engine's copy (rebuilt from the log) goes too: the runtime removes,
    at start, queues whose row is gone."""
    engine = open_db(f"sqlite:///{tmp_path}/r.db")
    migrate(engine)
    with engine.begin() as conn:
        repo.create_tenant(conn, "t1", name="T1", now=0.0)

    async def old_click_to_dial() -> None:  # what earlier voice code did
        rt = Runtime(engine, snapshot_every=None)
        rt.start()
        try:
            rt.execute("t1", c.UpsertAgent(agent=AgentConfig(id="ada")),
                       write=lambda conn: repo.insert_agent(conn, "t1", AgentConfig(id="ada"),
                                                            0.0))
            q = QueueConfig(id="dial-ada", name="Click-to-dial ada", members=("ada",))
            rt.execute("t1", c.UpsertQueue(queue=q),
                       write=lambda conn: repo.insert_queue(conn, "t1", q, 0.0))
        finally:
            rt.stop()

    async def queues_now() -> list[str]:
        rt = Runtime(engine, snapshot_every=None)
        rt.start()
        try:
            return rt.engine("t1").queue_ids()
        finally:
            rt.stop()

    try:
        asyncio.run(old_click_to_dial())
        assert asyncio.run(queues_now()) == ["dial-ada"]
        with engine.begin() as conn:  # a database that had them when 0010 came
            command.downgrade(_config(conn), "0009")
        migrate(engine)
        assert asyncio.run(queues_now()) == []
    finally:
        engine.dispose()
