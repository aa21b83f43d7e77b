"""Deleting a queue: refused (409) while anything belongs to it, and once deleted
the routing engine forgets it too, now and after a restart."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from switchboard.commands.admin import create_user
from switchboard.store import schema as s
from switchboard.store.db import open_db
from tests.server.conftest import PASSWORD, Api, Server, login
from tests.store.conftest import database_url


def routes_nothing_to(admin: Api, queue: str) -> None:
    r = admin.post("/interactions", json={"queue": queue})
    assert r.status_code == 422 and r.json()["error"]["field"] == "queue", r.text
    assert admin.get(f"/queues/{queue}/stats").status_code == 404


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_delete_is_refused_while_in_use_then_the_engine_forgets_the_queue(
        kind: str, tmp_path: Path) -> None:
    srv = Server(database_url(kind, tmp_path), tmp_path / "server.log")
    name = f"admin-{uuid.uuid4().hex[:8]}"
    create_user(srv.db_url, username=name, password=PASSWORD, role="admin", tenant="del")
    create_user(srv.db_url, username=f"sup-{name}", password=PASSWORD, role="supervisor",
                tenant="del")
    srv.start()
    try:
        admin = login(srv, name)
        old = admin.post("/queues", json={"name": "Old", "skills": {"en": 1}}).json()["id"]
        other = admin.post("/queues", json={"name": "Other", "skills": {"en": 1}}).json()["id"]
        spare = admin.post("/queues", json={"name": "Spare"}).json()["id"]
        agent = admin.post("/agents", json={"name": "A", "skills": {"en": 3}}).json()["id"]
        waiting = admin.post("/interactions", json={"queue": old}).json()["id"]
        busy = admin.delete(f"/queues/{old}")
        assert busy.status_code == 409 and busy.json()["error"]["code"] == "conflict"
        # refused: nothing changed, the queue still routes
        admin.post(f"/agents/{agent}/status", json={"status": "ready"})
        got = admin.get(f"/interactions/{waiting}").json()
        assert (got["state"], got["agent"]) == ("offered", None)
        assert got["offered_to"] == [agent]
        r = login(srv, f"sup-{name}").post(f"/interactions/{waiting}/end", json={})
        assert r.status_code == 200, r.text  # it leaves the queue
        assert admin.delete(f"/queues/{old}").status_code == 204
        routes_nothing_to(admin, old)
        # its agents go on serving the other queues
        nxt = admin.post("/interactions", json={"queue": other}).json()
        assert nxt["offered_to"] == [agent]
        srv.stop()
        srv.start()  # the delete is replayed (or in the snapshot): still gone
        admin = login(srv, name)
        routes_nothing_to(admin, old)
        assert admin.delete(f"/queues/{spare}").status_code == 204
        routes_nothing_to(admin, spare)
    finally:
        srv.stop()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_queue_deleted_only_from_its_table_leaves_routing_at_the_next_start(
        kind: str, tmp_path: Path) -> None:
    """What deleting did before ``RemoveQueue``: the row went, the engine kept the
    queue (and a replay brought it back). The next start removes it, once."""
    srv = Server(database_url(kind, tmp_path), tmp_path / "server.log")
    name = f"admin-{uuid.uuid4().hex[:8]}"
    create_user(srv.db_url, username=name, password=PASSWORD, role="admin", tenant="ghost")
    srv.start()
    try:
        admin = login(srv, name)
        ghost = admin.post("/queues", json={"name": "Ghost"}).json()["id"]
        kept = admin.post("/queues", json={"name": "Kept"}).json()["id"]
        srv.stop()
        db = open_db(srv.db_url)
        with db.begin() as conn:
            conn.execute(delete(s.Queue).where(s.Queue.id == ghost))
        srv.start()
        admin = login(srv, name)
        routes_nothing_to(admin, ghost)
        assert admin.post("/interactions", json={"queue": kept}).status_code == 201
        srv.stop()
        srv.start()
        with db.connect() as conn:
            removes = conn.scalars(select(s.EngineLogEntry.payload).where(
                s.EngineLogEntry.name == "RemoveQueue")).all()
        db.dispose()
        assert removes == [{"queue_id": ghost}]  # logged once, replayed since
        routes_nothing_to(login(srv, name), ghost)
    finally:
        srv.stop()
