"""Crash recovery: ``kill -9`` with 500 contacts queued loses none and keeps order."""

from __future__ import annotations

import threading
import time
import uuid
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from switchboard.commands.admin import create_user
from switchboard.store import schema as s
from switchboard.store.db import open_db
from tests.server.conftest import PASSWORD, Server, login
from tests.store.conftest import database_url

N = 500


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "snapshot_every"), [
    ("sqlite", None), ("postgresql", None),
    # engine snapshots every 97 log entries: the restart starts from the newest one
    ("sqlite", 97), ("postgresql", 97)])
def test_kill_9_with_500_queued_loses_nothing_and_keeps_order(
        kind: str, snapshot_every: int | None, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    if snapshot_every is not None:
        monkeypatch.setenv("SWITCHBOARD_SNAPSHOT_EVERY", str(snapshot_every))
    srv = Server(database_url(kind, tmp_path), tmp_path / "server.log")
    name = f"admin-{uuid.uuid4().hex[:8]}"
    create_user(srv.db_url, username=name, password=PASSWORD, role="admin", tenant="crash")
    srv.start()
    try:
        api = login(srv, name)
        q = api.post("/queues", json={"name": "Support"}).json()["id"]
        accepted: list[tuple[str, float]] = []
        for i in range(N):
            r = api.post("/interactions", json={"queue": q, "priority": i % 3,
                                                "customer": {"name": f"c{i}"}})
            assert r.status_code == 201, r.text
            accepted.append((r.json()["id"], r.json()["enqueued_at"]))
        # More keep arriving while the process is killed: whatever was accepted stays.
        more: list[tuple[str, float]] = []
        stop = threading.Event()

        def load() -> None:
            with httpx.Client(base_url=f"{srv.url}/api/v1", timeout=5,
                              headers=dict(api.client.headers)) as c:
                while not stop.is_set():
                    try:
                        r = c.post("/interactions", json={"queue": q})
                    except httpx.TransportError:
                        return
                    if r.status_code == 201:
                        more.append((r.json()["id"], r.json()["enqueued_at"]))

        worker = threading.Thread(target=load)
        worker.start()
        while len(more) < 20:
            time.sleep(0.005)
        srv.kill()
        stop.set()
        worker.join()
        srv.start()
        api = login(srv, name)
        if snapshot_every is not None:
            db = open_db(srv.db_url)
            with db.connect() as conn:
                assert conn.scalar(select(func.count()).select_from(s.EngineSnapshot)) >= 1
            db.dispose()
        stats = api.get(f"/queues/{q}/stats").json()
        acked = accepted + more
        assert N + 20 <= stats["waiting"] <= len(acked) + 1  # +1: committed, reply lost
        positions = {}
        for iid, enqueued_at in acked:
            got = api.get(f"/interactions/{iid}").json()
            assert got["state"] == "queued", got
            assert got["enqueued_at"] == enqueued_at
            positions[iid] = got["position"]
        assert len(set(positions.values())) == len(acked)  # no duplicates
        # Priority first, then arrival: the order the engine must have rebuilt.
        by_priority = sorted(range(len(acked)),
                             key=lambda k: (-(k % 3) if k < N else 0, k))
        assert [positions[acked[k][0]] for k in by_priority] == sorted(positions.values())
    finally:
        srv.stop()
