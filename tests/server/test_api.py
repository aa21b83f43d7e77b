"""The REST contract against a real uvicorn on SQLite."""

from __future__ import annotations

import httpx
from starlette.routing import Route, WebSocketRoute

from switchboard.server.app import create_app
from switchboard.server.auth import ROUTE_ROLES
from switchboard.store.db import open_db
from tests.server.conftest import PASSWORD, Api, Server, login, new_user


def make_queue(api: Api, **extra: object) -> str:
    r = api.post("/queues", json={"name": "Sales", "strategy": "longest_idle", **extra})
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_login_gives_a_token_and_bad_logins_get_401(server: Server) -> None:
    name, tenant = new_user(server)
    api = login(server, name)
    me = api.get("/me").json()
    assert (me["role"], me["tenant"]) == ("admin", tenant)
    bad = httpx.post(f"{server.url}/api/v1/auth/token",
                     json={"username": name, "password": PASSWORD + "x"})
    assert bad.status_code == 401
    assert bad.json() == {"error": {"code": "unauthorized",
                                    "message": "wrong user name or password"}}
    anon = httpx.get(f"{server.url}/api/v1/queues")
    assert anon.status_code == 401 and anon.json()["error"]["code"] == "unauthorized"
    forged = httpx.get(f"{server.url}/api/v1/queues", headers={"Authorization": "Bearer x"})
    assert forged.status_code == 401


def test_contact_waits_then_is_offered_answered_and_wrapped_up(server: Server,
                                                               admin: Api) -> None:
    q = make_queue(admin, skills={"sales": 2}, wrapup_s=30)
    r = admin.post("/interactions", json={"channel": "chat", "queue": q,
                                          "customer": {"phone": "+44 20 7946 0958",
                                                       "name": "Ann"},
                                          "priority": 1, "attributes": {"order": 42}})
    assert r.status_code == 201, r.text
    it = r.json()
    assert (it["state"], it["queue"], it["position"]) == ("queued", q, 1)
    assert it["enqueued_at"] > 0
    got = admin.get(f"/interactions/{it['id']}").json()
    assert (got["state"], got["position"], got["enqueued_at"]) == ("queued", 1,
                                                                   it["enqueued_at"])
    stats = admin.get(f"/queues/{q}/stats").json()
    assert (stats["waiting"], stats["agents_ready"]) == (1, 0)
    assert stats["longest_wait_s"] >= 0
    agent = admin.post("/agents", json={"name": "Bo", "skills": {"sales": 5}})
    assert agent.status_code == 201, agent.text
    aid = agent.json()["id"]
    assert agent.json()["status"] == "offline"
    st = admin.post(f"/agents/{aid}/status", json={"status": "ready"})
    assert st.status_code == 200 and st.json()["state"] == "reserved"
    assert admin.get(f"/interactions/{it['id']}").json()["offered_to"] == [aid]
    sup_name, _ = new_user(server, "supervisor", tenant=admin.get("/me").json()["tenant"])
    sup = login(server, sup_name)
    assert sup.post(f"/interactions/{it['id']}/accept", json={"agent": aid}).json()[
        "state"] == "connected"
    assert sup.post(f"/interactions/{it['id']}/hold", json={}).json()["state"] == "held"
    assert sup.post(f"/interactions/{it['id']}/resume", json={}).json()["state"] == \
        "connected"
    assert sup.post(f"/interactions/{it['id']}/end", json={}).json()["state"] == "wrapup"
    done = sup.post(f"/interactions/{it['id']}/wrapup",
                    json={"agent": aid, "disposition": "sold"}).json()
    assert (done["state"], done["position"]) == ("ended", None)
    kinds = [e["kind"] for e in admin.get(f"/interactions/{it['id']}/events").json()]
    assert kinds == ["arrived", "enqueued", "offered", "answered", "held", "resumed",
                     "ended", "wrapup_ended"]
    again = sup.post(f"/interactions/{it['id']}/hold", json={})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "invalid_transition"


def test_agents_act_only_for_themselves(server: Server, admin: Api) -> None:
    tenant = admin.get("/me").json()["tenant"]
    a1 = admin.post("/agents", json={"name": "A", "skills": {}}).json()["id"]
    a2 = admin.post("/agents", json={"name": "B", "skills": {}}).json()["id"]
    name, _ = new_user(server, "agent", tenant=tenant, agent=a1)
    me = login(server, name)
    assert me.post(f"/agents/{a1}/status", json={"status": "ready"}).status_code == 200
    other = me.post(f"/agents/{a2}/status", json={"status": "ready"})
    assert other.status_code == 403 and other.json()["error"]["code"] == "forbidden"
    assert me.post("/queues", json={"name": "x"}).status_code == 403
    q = make_queue(admin)
    it = admin.post("/interactions", json={"queue": q}).json()
    assert it["state"] == "offered"
    taken = me.post(f"/interactions/{it['id']}/accept", json={})
    assert taken.status_code == 200 and taken.json()["agent"] == a1
    assert me.post(f"/interactions/{it['id']}/accept", json={"agent": a2}).status_code == 403


def test_bad_input_is_a_4xx_in_one_error_shape(admin: Api) -> None:
    q = make_queue(admin)
    cases = [
        (admin.post("/queues", json={"name": "x", "strategy": "loudest"}), 422, "strategy"),
        (admin.post("/queues", json={"name": "x", "ring_timeout_s": 0}), 422,
         "ring_timeout_s"),
        (admin.post("/agents", json={"name": "x", "skills": {"s": 11}}), 422, None),
        (admin.post("/interactions", json={"queue": "nope"}), 422, "queue"),
        (admin.post("/interactions", json={"queue": q, "customer": {"phone": "12"}}), 422,
         "customer.phone"),
        (admin.post("/interactions", json={"queue": q, "bogus": 1}), 422, "bogus"),
        (admin.post("/interactions", content=b"{", headers={"content-type":
                                                            "application/json"}), 422, None),
        (admin.get("/interactions/nope"), 404, "interaction"),
        (admin.get("/queues/nope/stats"), 404, "queue"),
        (admin.post("/agents/nope/status", json={"status": "ready"}), 404, "agent"),
        (admin.post("/agents/x/status", json={"status": "busy"}), 422, "status"),
        (admin.get("/nowhere"), 404, None),
        (admin.delete("/queues"), 405, None),
    ]
    for r, status, field in cases:
        assert r.status_code == status, (r.request.url, r.text)
        err = r.json()["error"]
        assert set(err) <= {"code", "message", "field"} and err["code"] and err["message"]
        if field is not None:
            assert err.get("field") == field, r.text


def test_another_tenants_ids_are_not_found(server: Server, admin: Api) -> None:
    q = make_queue(admin)
    it = admin.post("/interactions", json={"queue": q}).json()
    aid = admin.post("/agents", json={"name": "A"}).json()["id"]
    name, _ = new_user(server)
    stranger = login(server, name)
    assert stranger.get(f"/interactions/{it['id']}").status_code == 404
    assert stranger.get(f"/queues/{q}").status_code == 404
    assert stranger.get(f"/queues/{q}/stats").status_code == 404
    assert stranger.post(f"/agents/{aid}/status", json={"status": "ready"}).status_code == 404
    assert stranger.post("/interactions", json={"queue": q}).status_code == 422
    assert stranger.get("/queues").json() == []


def test_every_route_is_in_the_permission_table_and_openapi_is_served(
        server: Server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = create_app(open_db(f"sqlite:///{tmp_path}/x.db"))
    public = {"/api/v1/openapi.json", "/api/v1/docs", "/api/v1/docs/oauth2-redirect"}
    seen: set[tuple[str, str]] = set()
    for route in [*app.routes, *(r for rt in app.state.api_routers for r in rt.routes)]:
        if isinstance(route, WebSocketRoute):
            seen.add(("WEBSOCKET", route.path))
        elif isinstance(route, Route) and route.path not in public:
            seen |= {(m, route.path) for m in route.methods or () if m != "HEAD"}
    assert seen == set(ROUTE_ROLES)  # no route without roles, no stale row in the table
    spec = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    assert "/api/v1/interactions/{interaction_id}" in spec["paths"]
    assert set(spec["paths"]) <= {p for _, p in ROUTE_ROLES}
