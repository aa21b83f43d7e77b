"""Deleting an agent: refused (409) while it is logged in, holds a contact or a
queue names it; once deleted the routing engine forgets it too (no queue counts
it among its agents), now and after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import delete, select

from switchboard.store import schema as s
from switchboard.store.db import open_db
from tests.server.conftest import Api, Server, login, new_user
from tests.store.conftest import database_url


def counted(admin: Api, queue: str) -> int:
    """How many agents the wallboard counts in a queue, in every presence."""
    board = admin.get("/wallboard").json()
    return sum(next(q for q in board["queues"] if q["id"] == queue)["agents"].values())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_deleted_agent_leaves_routing_now_and_after_a_restart(
        kind: str, tmp_path: Path) -> None:
    srv = Server(database_url(kind, tmp_path), tmp_path / "server.log")
    name, tenant = new_user(srv, "admin")
    supervisor, _ = new_user(srv, "supervisor", tenant=tenant)
    srv.start()
    try:
        admin = login(srv, name)
        q = admin.post("/queues", json={"name": "En", "skills": {"en": 1}}).json()["id"]
        gone = admin.post("/agents", json={"name": "Gone", "skills": {"en": 3}}).json()["id"]
        stays = admin.post("/agents", json={"name": "Stays", "skills": {"en": 3}}).json()["id"]
        admin.post(f"/agents/{gone}/status", json={"status": "ready"})
        it = admin.post("/interactions", json={"queue": q}).json()
        assert it["offered_to"] == [gone]
        busy = admin.delete(f"/agents/{gone}")
        assert busy.status_code == 409 and busy.json()["error"]["field"] == "agent"
        assert counted(admin, q) == 2  # refused: nothing changed
        sup = login(srv, supervisor)
        assert sup.post(f"/interactions/{it['id']}/end", json={}).status_code == 200
        admin.post(f"/agents/{gone}/status", json={"status": "offline"})
        assert admin.delete(f"/agents/{gone}").status_code == 204
        assert counted(admin, q) == 1
        assert admin.get(f"/agents/{gone}").status_code == 404
        assert admin.post(f"/agents/{gone}/status", json={"status": "ready"}).status_code == 404
        admin.post(f"/agents/{stays}/status", json={"status": "ready"})
        assert admin.post("/interactions", json={"queue": q}).json()["offered_to"] == [stays]
        srv.stop()
        srv.start()  # the delete is replayed (or in the snapshot): still gone
        admin = login(srv, name)
        assert counted(admin, q) == 1
        entries = admin.get("/audit", params={"limit": 1000}).json()
        assert any(e["action"] == "DELETE /agents/{id}" and e["target"] == gone
                   for e in entries)
    finally:
        srv.stop()


def test_an_agent_deleted_only_from_its_table_leaves_routing_at_the_next_start(
        tmp_path: Path) -> None:
    """What deleting did before ``RemoveAgent``: the row went, the engine kept the
    agent (and a replay brought it back). The next start removes it, once."""
    srv = Server(database_url("sqlite", tmp_path), tmp_path / "server.log")
    name, _ = new_user(srv, "admin")
    srv.start()
    try:
        admin = login(srv, name)
        q = admin.post("/queues", json={"name": "En", "skills": {"en": 1}}).json()["id"]
        ghost = admin.post("/agents", json={"name": "Ghost", "skills": {"en": 1}}).json()["id"]
        admin.post("/agents", json={"name": "Kept", "skills": {"en": 1}})
        srv.stop()
        db = open_db(srv.db_url)
        with db.begin() as conn:
            conn.execute(delete(s.Agent).where(s.Agent.id == ghost))
        srv.start()
        assert counted(login(srv, name), q) == 1
        srv.stop()
        srv.start()
        with db.connect() as conn:
            removes = conn.scalars(select(s.EngineLogEntry.payload).where(
                s.EngineLogEntry.name == "RemoveAgent")).all()
        db.dispose()
        assert removes == [{"agent_id": ghost}]  # logged once, replayed since
        assert counted(login(srv, name), q) == 1
    finally:
        srv.stop()
