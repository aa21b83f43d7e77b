"""The WebSocket event feed: after commit, filtered by role, closed on logout."""

from __future__ import annotations

import json
import time
from typing import Any
from unittest.mock import ANY

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from switchboard.server.feed import AgentFilter
from tests.server.conftest import Api, Server, login, new_user


def feed(server: Server, api: Api, **kw: Any) -> ClientConnection:
    token = api.client.headers["authorization"].split(" ", 1)[1]
    return connect(f"ws://127.0.0.1:{server.port}/api/v1/events/ws?token={token}",
                   open_timeout=5, **kw)


def kinds(ws: ClientConnection, n: int) -> list[dict[str, Any]]:
    return [json.loads(ws.recv(timeout=5)) for _ in range(n)]


def until_held(ws: ClientConnection) -> list[dict[str, Any]]:
    out = [json.loads(ws.recv(timeout=5))]
    while out[-1]["kind"] != "held":
        out.append(json.loads(ws.recv(timeout=5)))
    return out


def test_supervisor_sees_everything_an_agent_only_its_own(server: Server, admin: Api) -> None:
    tenant = admin.get("/me").json()["tenant"]
    q = admin.post("/queues", json={"name": "Q"}).json()["id"]
    a1 = admin.post("/agents", json={"name": "A1"}).json()["id"]
    a2 = admin.post("/agents", json={"name": "A2"}).json()["id"]
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    ag1 = login(server, new_user(server, "agent", tenant=tenant, agent=a1)[0])
    ag2 = login(server, new_user(server, "agent", tenant=tenant, agent=a2)[0])
    with feed(server, sup) as ws_sup, feed(server, ag1) as ws1, feed(server, ag2) as ws2:
        assert ag1.post(f"/agents/{a1}/status", json={"status": "ready"}).status_code == 200
        it = admin.post("/interactions", json={"queue": q}).json()
        assert it["offered_to"] == [a1]
        assert ag1.post(f"/interactions/{it['id']}/accept", json={}).status_code == 200
        assert ag1.post(f"/interactions/{it['id']}/hold", json={}).status_code == 200
        everything = until_held(ws_sup)
        logged = [e["kind"] for e in admin.get(f"/interactions/{it['id']}/events").json()]
        assert [e["kind"] for e in everything if e.get("interaction_id") == it["id"]] == \
            logged == ["arrived", "enqueued", "offered", "answered", "held"]
        assert {e["agent_id"] for e in everything if e["kind"] == "agent_state"} == {a1}
        assert until_held(ws1) == [e for e in everything
                                   if e.get("agent_id") == a1 or e["kind"] == "held"]
        assert ag2.post(f"/agents/{a2}/status", json={"status": "not_ready",
                                                      "reason": "break"}).status_code == 200
        theirs = kinds(ws2, 1)[0]  # nothing of a1's contact came first
        assert (theirs["kind"], theirs["agent_id"], theirs["reason"]) == ("agent_state", a2,
                                                                          "break")


def test_logout_closes_the_feed_within_a_second(server: Server, admin: Api) -> None:
    with feed(server, admin) as ws:
        assert admin.post("/auth/logout").status_code == 204
        start = time.monotonic()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=3)
        assert time.monotonic() - start < 1.0
    assert admin.get("/me").status_code == 401


def test_handshake_refuses_bad_tokens_and_foreign_origins(server: Server, admin: Api) -> None:
    with pytest.raises(InvalidStatus) as err, \
            feed(server, admin, additional_headers={"Origin": "http://evil.example"}):
        pass
    assert err.value.response.status_code == 403
    with pytest.raises(InvalidStatus), \
            connect(f"ws://127.0.0.1:{server.port}/api/v1/events/ws?token=nope",
                    open_timeout=5):
        pass
    same = {"Origin": f"http://127.0.0.1:{server.port}"}
    with feed(server, admin, additional_headers=same) as ws:
        aid = admin.post("/agents", json={"name": "A"}).json()["id"]
        assert kinds(ws, 1)[0] == {"kind": "agent_updated", "at": ANY, "agent_id": aid,
                                   "capacity": {"voice": 1, "chat": 3, "email": 1, "sms": 3}}


def test_agent_filter_follows_the_agents_contacts() -> None:
    f = AgentFilter("a1")
    seen = [f.allows(e) for e in [
        {"kind": "arrived", "interaction_id": "i1"},
        {"kind": "offered", "interaction_id": "i1", "agent_id": "a1"},
        {"kind": "held", "interaction_id": "i1"},
        {"kind": "transferred", "interaction_id": "i1", "agent_id": "a1", "to_queue": "q2"},
        {"kind": "enqueued", "interaction_id": "i1", "queue_id": "q2"},
        {"kind": "offered", "interaction_id": "i2", "agent_id": "a2"},
        {"kind": "transfer_started", "interaction_id": "i2", "agent_id": "a2",
         "to_agent": "a1"},
        {"kind": "held", "interaction_id": "i2"},
    ]]
    assert seen == [False, True, True, True, False, False, True, True]
