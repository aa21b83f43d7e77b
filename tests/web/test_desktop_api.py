"""The agent desktop's API: chat messages, the customer's card, the agent's day."""

from __future__ import annotations

import json
import time
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.server.conftest import Api, Server, login, new_user


def _feed(server: Server, api: Api) -> ClientConnection:
    token = api.client.headers["authorization"].split(" ", 1)[1]
    return connect(f"ws://127.0.0.1:{server.port}/api/v1/events/ws?token={token}",
                   open_timeout=5)


def _until(ws: ClientConnection, kind: str) -> dict[str, Any]:
    while True:
        ev = json.loads(ws.recv(timeout=5))
        if ev["kind"] == kind:
            return dict(ev)


def _setup(server: Server, admin: Api) -> tuple[str, str, Api, Api, str]:
    tenant = admin.get("/me").json()["tenant"]
    q = admin.post("/queues", json={"name": "Support", "skills": {"support": 1},
                                    "wrapup_s": 120}).json()["id"]
    aid = admin.post("/agents", json={"name": "Ines", "skills": {"support": 5},
                                      "capacity": {"chat": 2, "voice": 1}}).json()["id"]
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    agent = login(server, new_user(server, "agent", tenant=tenant, agent=aid)[0])
    return q, aid, sup, agent, tenant


def test_a_chat_from_queue_to_wrapup_with_messages_card_and_day(server: Server,
                                                                admin: Api) -> None:
    q, aid, sup, agent, _ = _setup(server, admin)
    phone = "+39 06 6988 4011"
    old = sup.post("/interactions", json={"channel": "chat", "queue": q,
                                          "customer": {"phone": phone, "name": "Ada"}})
    sup.post(f"/interactions/{old.json()['id']}/end", json={})  # abandoned before: history
    it = sup.post("/interactions", json={
        "channel": "chat", "queue": q, "customer": {"phone": phone},
        "attributes": {"order": "A-17", "ivr_choice": "2"}}).json()
    iid = it["id"]
    first = sup.post(f"/interactions/{iid}/messages", json={"text": "Hello, my order?"})
    assert first.status_code == 201, first.text
    assert first.json()["sender"] == "customer" and first.json()["agent"] is None
    # the agent sees nothing of a contact not offered to it
    assert agent.get(f"/interactions/{iid}/messages").status_code == 404
    assert agent.get(f"/interactions/{iid}/card").status_code == 404
    with _feed(server, agent) as ws, _feed(server, sup) as ws_sup:
        before = time.time()
        assert agent.post(f"/agents/{aid}/status", json={"status": "ready"}).status_code == 200
        offered = _until(ws, "offered")
        card = agent.get(f"/interactions/{iid}/card").json()
        assert card["interaction"]["state"] == "offered"
        assert card["customer"]["phone"] == "+390669884011" and card["customer"]["name"] == "Ada"
        assert card["attributes"] == {"order": "A-17", "ivr_choice": "2"}
        assert card["queue"] == {"id": q, "name": "Support"}
        assert card["offer"]["expires_at"] == offered["expires_at"]
        assert card["wait_s"] >= 0
        assert [h["id"] for h in card["history"]] == [old.json()["id"]]
        assert card["history"][0]["state"] == "abandoned"
        assert [m["text"] for m in agent.get(f"/interactions/{iid}/messages").json()] == [
            "Hello, my order?"]
        early = agent.post(f"/interactions/{iid}/messages", json={"text": "Hi"})
        assert early.status_code == 409 and early.json()["error"]["field"] == "interaction"
        assert agent.post(f"/interactions/{iid}/accept", json={}).status_code == 200
        mine = agent.post(f"/interactions/{iid}/messages", json={"text": "Let me look."})
        assert mine.status_code == 201 and mine.json()["sender"] == "agent"
        assert mine.json()["agent"] == aid
        pushed = _until(ws_sup, "message")
        assert pushed["interaction_id"] == iid and pushed["message"] == mine.json()
        sup.post(f"/interactions/{iid}/messages", json={"text": "Thanks"})
        own = _until(ws, "message")  # the agent's feed carries its own message too
        assert own["message"] == mine.json()
        got = _until(ws, "message")
        assert got["message"]["text"] == "Thanks" and got["message"]["sender"] == "customer"
        assert [m["sender"] for m in agent.get(f"/interactions/{iid}/messages").json()] == [
            "customer", "agent", "customer"]
        assert agent.post(f"/interactions/{iid}/end", json={}).status_code == 200
        ended = _until(ws, "ended")
        card = agent.get(f"/interactions/{iid}/card").json()
        assert card["interaction"]["state"] == "wrapup"
        assert card["wrapup_until"] == ended["wrapup_until"]
        late = sup.post(f"/interactions/{iid}/messages", json={"text": "Hello?"})
        assert late.status_code == 409
        done = agent.post(f"/interactions/{iid}/wrapup", json={"disposition": "resolved",
                                                               "notes": "sent tracking"})
        assert done.status_code == 200
        day = agent.get(f"/agents/{aid}/today", params={"tz": "Europe/Rome"}).json()
        assert [c["id"] for c in day["contacts"]] == [iid]
        assert day["contacts"][0]["disposition"] == "resolved"
        assert day["contacts"][0]["queue_name"] == "Support"
        assert day["agent"]["status"] == "ready" and day["agent"]["capacity"]["chat"] == 2
        assert day["status_since"] >= before - 1
        assert day["state_since"] >= day["status_since"]


def test_messages_are_refused_clearly(server: Server, admin: Api) -> None:
    q, aid, sup, agent, _tenant = _setup(server, admin)
    voice = sup.post("/interactions", json={"channel": "voice", "queue": q}).json()["id"]
    r = sup.post(f"/interactions/{voice}/messages", json={"text": "x"})
    assert r.status_code == 409 and "voice" in r.json()["error"]["message"]
    chat = sup.post("/interactions", json={"channel": "chat", "queue": q}).json()["id"]
    for body, field in (({"text": ""}, "text"), ({"text": "x" * 4001}, "text"),
                        ({"text": "x", "sender": "agent"}, "sender"),
                        ({"text": "x", "sender": "robot"}, "sender")):
        bad = sup.post(f"/interactions/{chat}/messages", json=body)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == field, bad.text
    assert sup.get(f"/interactions/{chat}/messages").json() == []  # nothing stored
    stranger = login(server, new_user(server)[0])
    assert stranger.post(f"/interactions/{chat}/messages",
                         json={"text": "x"}).status_code == 404
    assert stranger.get(f"/interactions/{chat}/card").status_code == 404
    other = admin.post("/agents", json={"name": "Other"}).json()["id"]
    assert agent.get(f"/agents/{other}/today").status_code == 403
    assert agent.get(f"/agents/{aid}/today", params={"tz": "Mars/Base"}).status_code == 422
    names = {a["name"] for a in agent.get("/directory/agents").json()}
    assert names == {"Ines", "Other"}
    # an Idempotency-Key replays the same message
    h = {"Idempotency-Key": "m-1"}
    one = sup.post(f"/interactions/{chat}/messages", json={"text": "once"}, headers=h)
    two = sup.post(f"/interactions/{chat}/messages", json={"text": "once"}, headers=h)
    assert one.status_code == 201 and two.json() == one.json()
    assert two.headers["Idempotent-Replayed"] == "true"
    assert len(sup.get(f"/interactions/{chat}/messages").json()) == 1
