"""The runtime's indexed fan-out: an agent's feed gets exactly what AgentFilter
allows out of the whole stream, without the runtime offering it every event."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine as Database

from switchboard.domain import commands as c
from switchboard.domain.enums import AgentStatus
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.server.runtime import AgentFilter, Runtime, Subscription
from switchboard.store import log, repo
from switchboard.store.db import migrate, open_db


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    engine = open_db(f"sqlite:///{tmp_path / 'fanout.db'}")
    migrate(engine)
    with engine.begin() as conn:
        repo.create_tenant(conn, "t1", name="One", now=0.0, seed=1)
    yield engine
    engine.dispose()


def drain(sub: Subscription) -> list[dict[str, Any]]:
    return [sub.queue.get_nowait() for _ in range(sub.queue.qsize())]


def test_agent_feeds_get_what_the_filter_allows_and_nothing_more(db: Database) -> None:
    async def main() -> None:
        t = [1000.0]
        rt = Runtime(db, clock=lambda: t[0])
        rt.start()

        def run(cmd: c.Command, **kw: Any) -> None:
            t[0] += 1
            rt.execute("t1", cmd, **kw)

        q = QueueConfig(id="q1", name="Sales", skills={"sales": 1})
        run(c.UpsertQueue(queue=q), new_skills=["sales"],
            write=lambda conn: repo.insert_queue(conn, "t1", q, 0.0))
        for aid in ("a1", "a2", "a3"):
            a = AgentConfig(id=aid, name=aid, skills={"sales": 5})
            run(c.UpsertAgent(agent=a), write=lambda conn, a=a: repo.insert_agent(
                conn, "t1", a, 0.0))
        everything = rt.subscribe("t1")
        feeds = {aid: rt.subscribe("t1", aid) for aid in ("a1", "a2", "a3")}
        run(c.SetAgentStatus(agent_id="a1", status=AgentStatus.READY))
        run(c.SetAgentStatus(agent_id="a2", status=AgentStatus.READY))
        for iid in ("i1", "i2"):
            run(c.Arrive(interaction_id=iid, queue_id="q1"),
                write=lambda conn, iid=iid: log.insert_interaction(
                    conn, "t1", interaction_id=iid, channel="voice", contact_id=None,
                    queue_id="q1", priority=0, attributes={}, now=0.0))
        run(c.Accept(interaction_id="i1", agent_id="a1"))
        run(c.Hold(interaction_id="i1"))
        run(c.Resume(interaction_id="i1"))
        run(c.SetAgentStatus(agent_id="a3", status=AgentStatus.READY))
        run(c.Transfer(interaction_id="i1", to_agent="a3", mode="warm"))
        run(c.Hangup(interaction_id="i1", by="customer"))
        run(c.Reject(interaction_id="i2", agent_id="a2"))

        stream = drain(everything)
        got = {aid: drain(sub) for aid, sub in feeds.items()}
        for aid in feeds:
            f = AgentFilter(aid)
            assert got[aid] == [ev for ev in stream if f.allows(ev)], aid
        # hand-checked: a1 follows i1 through hold and resume, and sees the offer to a3
        # of its warm transfer (which names only a3) through the contact index; a3 sees
        # the consultation and, after it is cancelled, the end (naming only a1); a2
        # never sees i1, and nobody sees arrivals
        a1 = [(ev["kind"], ev.get("interaction_id")) for ev in got["a1"]]
        assert ("held", "i1") in a1 and ("resumed", "i1") in a1
        assert any(ev["kind"] == "offered" and ev["agent_id"] == "a3" for ev in got["a1"])
        assert ("ended", "i1") in [(ev["kind"], ev.get("interaction_id")) for ev in got["a3"]]
        assert all(ev.get("interaction_id") != "i1" for ev in got["a2"])
        assert not any(ev["kind"] == "arrived" for evs in got.values() for ev in evs)

        for sub in (*feeds.values(), everything):
            rt.unsubscribe(sub)
        tenant = rt._tenants["t1"]
        assert not tenant.watchers and not tenant.by_agent and not tenant.by_interaction
        rt.stop()

    asyncio.run(main())
