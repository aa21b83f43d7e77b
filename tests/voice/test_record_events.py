"""Facts logged beside routing (``Runtime.record``: a survey's answer, a dial's
result) reach the log, the feeds and the reports, and a restart's replay skips
them without calling the log inconsistent."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.enums import AgentStatus
from switchboard.domain.errors import ValidationError
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.metrics import ReportParams
from switchboard.server import reports
from switchboard.server.runtime import Runtime
from switchboard.store import log, repo
from switchboard.store.db import migrate, open_db


def test_recorded_events_are_logged_published_and_skipped_by_replay(tmp_path: Path) -> None:
    db = open_db(f"sqlite:///{tmp_path}/r.db")
    migrate(db)
    with db.begin() as conn:
        repo.create_tenant(conn, "t1", name="T1", now=0.0)

    ended: list[e.Event] = []

    async def first() -> None:
        rt = Runtime(db, snapshot_every=None)  # no snapshot: the restart replays it all
        rt.start()
        try:
            q = QueueConfig(id="q", name="Q")
            rt.execute("t1", c.UpsertQueue(queue=q),
                       write=lambda conn: repo.insert_queue(conn, "t1", q, 0.0))
            rt.execute("t1", c.UpsertAgent(agent=AgentConfig(id="a")),
                       write=lambda conn: repo.insert_agent(conn, "t1", AgentConfig(id="a"), 0.0))
            rt.execute("t1", c.SetAgentStatus(agent_id="a", status=AgentStatus.READY))
            rt.execute("t1", c.Arrive(interaction_id="i1", queue_id="q"),
                       write=lambda conn: log.insert_interaction(
                           conn, "t1", interaction_id="i1", channel="voice", contact_id=None,
                           queue_id="q", priority=0, attributes={}, now=0.0))
            rt.execute("t1", c.Accept(interaction_id="i1", agent_id="a"))
            ended.extend(rt.execute("t1", c.Hangup(interaction_id="i1", by="agent")))
            seen: list[str] = []
            rt.listeners.append(lambda tenant, evs: seen.extend(ev.kind for ev in evs))
            rt.record("t1", [e.SurveyAnswered(at=rt.clock(), interaction_id="i1", score=5)])
            assert seen == ["survey_answered"]
            with pytest.raises(ValidationError):
                e.SurveyAnswered(at=0.0, interaction_id="i1", score=6)
        finally:
            rt.stop()

    async def second() -> None:
        rt = Runtime(db, snapshot_every=None)  # no snapshot: the restart replays it all
        rt.start()  # ReplayMismatch if the replay compared the recorded entry
        try:
            assert rt.engine("t1").agent("a")["state"] == "idle"
            rt.execute("t1", c.Arrive(interaction_id="i2", queue_id="q"))
        finally:
            rt.stop()

    asyncio.run(first())
    asyncio.run(second())
    with db.connect() as conn:
        kinds = [ev["kind"] for ev in log.events(conn, "t1", interaction_id="i1")]
        row = log.interaction_row(conn, "t1", "i1")
        q = next(r for r in reports.report(conn, "t1", "queue", 0.0, 4e9, ReportParams())
                 if r["key"] == "q")
    assert kinds[-1] == "survey_answered"
    assert row.closed_at == ended[0].at  # the projection is the routing's, not the survey's
    assert q["csat"] == 1.0 and q["answered"] == 1
    db.dispose()
