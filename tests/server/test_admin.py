"""Users, skills and queue changes (admin only), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid

import httpx

from tests.server.conftest import PASSWORD, Api, Server, login, new_user


def test_admin_creates_lists_changes_and_disables_users(server: Server, admin: Api) -> None:
    agent = admin.post("/agents", json={"name": "Di"}).json()["id"]
    name = f"di-{uuid.uuid4().hex[:8]}"
    r = admin.post("/users", json={"username": name, "password": PASSWORD, "role": "agent",
                                   "agent": agent})
    assert r.status_code == 201, r.text
    user = r.json()
    assert (user["username"], user["role"], user["agent"], user["disabled"]) == (
        name, "agent", agent, False)
    assert name in [u["username"] for u in admin.get("/users").json()]
    dup = admin.post("/users", json={"username": name, "password": PASSWORD,
                                     "role": "analyst"})
    assert (dup.status_code, dup.json()["error"]["field"]) == (409, "username")
    no_agent = admin.post("/users", json={"username": name + "x", "password": PASSWORD,
                                          "role": "agent"})
    assert (no_agent.status_code, no_agent.json()["error"]["field"]) == (422, "agent")
    di = login(server, name)
    assert di.get(f"/agents/{agent}").status_code == 200
    changed = admin.patch(f"/users/{user['id']}", json={"role": "supervisor"})
    assert changed.status_code == 200 and changed.json()["role"] == "supervisor"
    assert di.get("/me").status_code == 401  # a role change revokes the old tokens
    di = login(server, name)
    assert di.get("/me").json()["role"] == "supervisor"
    off = admin.patch(f"/users/{user['id']}", json={"disabled": True})
    assert off.json()["disabled"] is True
    assert di.get("/me").status_code == 401
    r = httpx.post(f"{server.url}/api/v1/auth/token",
                   json={"username": name, "password": PASSWORD})
    assert r.status_code == 401 and "disabled" in r.json()["error"]["message"]
    me = admin.get("/me").json()["id"]
    own = admin.patch(f"/users/{me}", json={"disabled": True})
    assert own.status_code == 409


def test_users_and_skills_belong_to_their_tenant_and_need_an_admin(server: Server,
                                                                   admin: Api) -> None:
    other = login(server, new_user(server)[0])
    mine = admin.get("/users").json()
    assert len(mine) == 1 and other.patch(f"/users/{mine[0]['id']}",
                                          json={"role": "analyst"}).status_code == 404
    tenant = admin.get("/me").json()["tenant"]
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    assert sup.get("/users").status_code == 403
    assert sup.post("/skills", json={"name": "x"}).status_code == 403
    assert admin.post("/skills", json={"name": "french"}).status_code == 201
    assert admin.post("/skills", json={"name": "french"}).status_code == 409
    assert admin.post("/skills", json={"name": "bad name"}).status_code == 422
    assert sup.get("/skills").json() == [{"name": "french"}]
    assert other.get("/skills").json() == []
    # the engine knows the skill at once: an agent may use it
    a = admin.post("/agents", json={"name": "Fr", "skills": {"french": 3}})
    assert a.status_code == 201, a.text


def test_queue_update_keeps_contacts_and_delete_waits_for_an_empty_queue(
        admin: Api) -> None:
    q = admin.post("/queues", json={"name": "Old", "skills": {"sales": 1}}).json()["id"]
    it = admin.post("/interactions", json={"queue": q}).json()
    assert it["state"] == "queued"
    r = admin.patch(f"/queues/{q}", json={"name": "New", "strategy": "round_robin",
                                          "skills": {"sales": 2, "vip": 1},
                                          "timeout_s": None})
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["strategy"], r.json()["skills"]) == (
        "New", "round_robin", {"sales": 2, "vip": 1})
    assert admin.get(f"/queues/{q}").json()["name"] == "New"
    assert admin.get(f"/interactions/{it['id']}").json()["position"] == 1
    assert {"name": "vip"} in admin.get("/skills").json()
    null = admin.patch(f"/queues/{q}", json={"name": None})
    assert (null.status_code, null.json()["error"]["field"]) == (422, "name")
    busy = admin.delete(f"/queues/{q}")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "conflict"
    a = admin.post("/agents", json={"name": "S", "skills": {"sales": 5, "vip": 1}}).json()
    admin.post(f"/agents/{a['id']}/status", json={"status": "ready"})
    assert admin.get(f"/interactions/{it['id']}").json()["state"] == "offered"
    assert admin.delete(f"/queues/{q}").status_code == 409  # offered from it: still in it
    empty = admin.post("/queues", json={"name": "Empty"}).json()["id"]
    assert admin.delete(f"/queues/{empty}").status_code == 204
    assert admin.get(f"/queues/{empty}").status_code == 404
    assert admin.delete(f"/queues/{empty}").status_code == 404
    assert [e["action"] for e in admin.get("/audit").json()] == [
        "POST /queues", "POST /interactions", "PATCH /queues/{id}", "POST /agents",
        "POST /agents/{id}/status", "POST /queues", "DELETE /queues/{id}"]


def test_a_nul_character_anywhere_is_a_422_not_a_database_error(server: Server,
                                                                admin: Api) -> None:
    q = admin.post("/queues", json={"name": "N"}).json()["id"]
    cases = [
        (admin.post("/interactions", json={"queue": q, "customer": {"name": "a\x00b"}}),
         "customer.name"),
        (admin.post("/interactions", json={"queue": q, "attributes": {"k": ["x\x00"]}}),
         "attributes.k[0]"),
        (admin.post("/skills", json={"name": "\x00"}), "name"),
        (httpx.post(f"{server.url}/api/v1/auth/token",
                    json={"username": "\x00", "password": "x"}), "username"),
        (admin.get("/interactions", params={"queue": "\x00"}), None),
        (admin.get("/queues/a%00b"), None),
    ]
    for r, field in cases:
        assert r.status_code == 422, r.text
        assert (r.json()["error"]["code"], r.json()["error"].get("field")) == ("invalid", field)
    assert admin.get("/interactions", params={"queue": q}).json()["items"] == []
    long_skill = admin.post("/agents", json={"name": "L", "skills": {"s" * 101: 1}})
    assert long_skill.status_code == 422  # longer than the skills table holds
    assert admin.post("/skills", json={"name": "s" * 101}).status_code == 422
