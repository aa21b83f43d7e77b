"""Interactions list, callbacks, virtual hold and warm transfers."""

from __future__ import annotations

import time

from tests.server.conftest import Api, Server, login, new_user


def test_interactions_list_filters_by_state_and_queue_and_pages(server: Server,
                                                                admin: Api) -> None:
    q1 = admin.post("/queues", json={"name": "A", "skills": {"y": 1}}).json()["id"]
    q2 = admin.post("/queues", json={"name": "B", "skills": {"x": 1}}).json()["id"]
    voice = {"channel": "voice"}
    ids1 = [admin.post("/interactions", json={"queue": q1, **voice}).json()["id"]
            for _ in range(3)]
    ids2 = [admin.post("/interactions", json={"queue": q2, **voice}).json()["id"]
            for _ in range(2)]
    a = admin.post("/agents", json={"name": "X", "skills": {"x": 1}}).json()["id"]
    admin.post(f"/agents/{a}/status", json={"status": "ready"})  # takes q2's first
    page = admin.get("/interactions", params={"limit": 2}).json()
    assert [i["id"] for i in page["items"]] == [ids2[1], ids2[0]]  # newest first
    assert page["next_offset"] == 2
    rest = admin.get("/interactions", params={"limit": 2, "offset": 4}).json()
    assert ([i["id"] for i in rest["items"]], rest["next_offset"]) == ([ids1[0]], None)
    by_q = admin.get("/interactions", params={"queue": q1}).json()["items"]
    assert [i["id"] for i in by_q] == ids1[::-1]
    assert [i["position"] for i in by_q] == [3, 2, 1]
    offered = admin.get("/interactions", params={"state": "offered"}).json()["items"]
    assert [(i["id"], i["offered_to"]) for i in offered] == [(ids2[0], [a])]
    queued = admin.get("/interactions", params={"state": "queued", "queue": q2}).json()
    assert [i["id"] for i in queued["items"]] == [ids2[1]]
    bad = admin.get("/interactions", params={"state": "lost"})
    assert (bad.status_code, bad.json()["error"]["field"]) == (422, "state")
    other = login(server, new_user(server, "analyst")[0])
    assert other.get("/interactions").json() == {"items": [], "next_offset": None}


def test_scheduled_callback_waits_then_enters_its_queue(admin: Api) -> None:
    q = admin.post("/queues", json={"name": "Back"}).json()["id"]
    now = time.time()
    later = admin.post("/callbacks", json={"queue": q, "due_at": now + 3600,
                                           "customer": {"phone": "+44 20 7946 0000"}})
    assert later.status_code == 201, later.text
    assert (later.json()["state"], later.json()["due_at"]) == ("scheduled", now + 3600)
    soon = admin.post("/callbacks", json={"queue": q, "due_at": now + 0.3,
                                          "customer": {"phone": "020 7946 0001",
                                                       "region": "GB"}}).json()
    assert soon["state"] == "scheduled"
    deadline = time.monotonic() + 5
    while admin.get(f"/interactions/{soon['id']}").json()["state"] != "queued":
        assert time.monotonic() < deadline, "the callback never entered its queue"
        time.sleep(0.05)
    assert admin.get(f"/interactions/{soon['id']}").json()["position"] == 1
    kinds = [e["kind"] for e in admin.get(f"/interactions/{soon['id']}/events").json()]
    assert kinds == ["arrived", "callback_scheduled", "enqueued"]
    body = {"queue": q, "due_at": now + 60, "customer": {"phone": "+44 20 7946 0002"}}
    once = admin.post("/callbacks", json=body, headers={"Idempotency-Key": "cb-1"})
    twice = admin.post("/callbacks", json=body, headers={"Idempotency-Key": "cb-1"})
    assert (twice.status_code, twice.headers.get("Idempotent-Replayed")) == (201, "true")
    assert twice.json()["id"] == once.json()["id"]
    assert twice.json()["due_at"] == now + 60
    other = admin.post("/callbacks", json={**body, "priority": 5},
                       headers={"Idempotency-Key": "cb-1"})
    assert (other.status_code, other.json()["error"]["code"]) == (422, "idempotency_mismatch")
    waiting = admin.get("/interactions", params={"state": "scheduled", "queue": q}).json()
    assert len(waiting["items"]) == 2  # the one an hour ahead, and this one once
    no_phone = admin.post("/callbacks", json={"queue": q})
    assert (no_phone.status_code, no_phone.json()["error"]["field"]) == (422,
                                                                         "customer.phone")
    far = admin.post("/callbacks", json={"queue": q, "due_at": now + 400 * 86400,
                                         "customer": {"phone": "+44 20 7946 0000"}})
    assert (far.status_code, far.json()["error"]["field"]) == (422, "due_at")
    unknown = admin.post("/callbacks", json={"queue": "nope",
                                             "customer": {"phone": "+44 20 7946 0000"}})
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "queue")


def test_virtual_hold_keeps_the_place_and_is_refused_when_not_waiting(admin: Api) -> None:
    q = admin.post("/queues", json={"name": "VH"}).json()["id"]
    first = admin.post("/interactions", json={"queue": q,
                                              "customer": {"phone": "+1 202 555 0100"}})
    second = admin.post("/interactions", json={"queue": q}).json()["id"]
    r = admin.post(f"/interactions/{first.json()['id']}/callback", json={})
    assert r.status_code == 200, r.text
    assert (r.json()["state"], r.json()["position"]) == ("queued", 1)
    assert admin.get(f"/interactions/{second}").json()["position"] == 2
    events = admin.get(f"/interactions/{first.json()['id']}/events").json()
    assert events[-1]["kind"] == "callback_requested"
    assert events[-1]["phone"] == "+12025550100"
    again = admin.post(f"/interactions/{first.json()['id']}/callback", json={})
    assert again.status_code == 409


def _offered(admin: Api, skill: str) -> tuple[str, str, str]:
    """A contact offered to agent A, and an agent B: (contact, A, B)."""
    q = admin.post("/queues", json={"name": "W", "skills": {skill: 1}}).json()["id"]
    a = admin.post("/agents", json={"name": "A", "skills": {skill: 1}}).json()["id"]
    b = admin.post("/agents", json={"name": "B"}).json()["id"]
    admin.post(f"/agents/{a}/status", json={"status": "ready"})
    it = admin.post("/interactions", json={"queue": q}).json()["id"]
    return it, a, b


def test_warm_transfer_complete_and_cancel(server: Server, admin: Api) -> None:
    tenant = admin.get("/me").json()["tenant"]
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    # complete: B keeps the customer (resumed); cancel: A has the customer back, on hold
    for finish, keeps, state in (("complete", 1, "connected"), ("cancel", 0, "held")):
        it, a, b = _offered(admin, finish)
        assert sup.post(f"/interactions/{it}/accept", json={"agent": a}).status_code == 200
        sup.post(f"/agents/{b}/status", json={"status": "ready"})
        warm = sup.post(f"/interactions/{it}/transfer", json={"to_agent": b, "mode": "warm"})
        assert warm.status_code == 200, warm.text
        assert (warm.json()["state"], warm.json()["offered_to"]) == ("held", [b])
        early = sup.post(f"/interactions/{it}/transfer/complete")
        assert early.status_code == 409  # B has not answered the consultation yet
        assert sup.post(f"/interactions/{it}/accept", json={"agent": b}).status_code == 200
        done = sup.post(f"/interactions/{it}/transfer/{finish}")
        assert done.status_code == 200, done.text
        assert (done.json()["state"], done.json()["agent"]) == (state, (a, b)[keeps])
        again = sup.post(f"/interactions/{it}/transfer/{finish}")
        assert again.status_code == 409
        actions = [r["action"] for r in admin.get("/audit").json()]
        assert actions[-1] == f"POST /interactions/{{id}}/transfer/{finish}"
