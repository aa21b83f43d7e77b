"""Login rate limits (per account and per client IP) and the audit log."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest

from switchboard.commands.admin import create_user
from switchboard.server.security import LoginLimiter, TooManyRequests
from tests.server.conftest import PASSWORD, Api, Server, login, new_user


def test_the_account_limit_is_100_failures_in_a_sliding_hour() -> None:
    lim = LoginLimiter()
    for i in range(100):
        lim.check("ann", f"10.0.0.{i % 7}", 1000.0 + i)
        lim.failed("ann", f"10.0.0.{i % 7}", 1000.0 + i)
    with pytest.raises(TooManyRequests) as exc:
        lim.check("ann", "10.9.9.9", 1100.0)
    # the oldest failure (t=1000) leaves the window at t=4600
    assert exc.value.retry_after_s == pytest.approx(3500.0)
    assert exc.value.field == "username"
    lim.check("bob", "10.9.9.9", 1100.0)  # other accounts are not affected
    lim.check("ann", "10.9.9.9", 4600.0)  # one failure has aged out


def test_the_ip_limit_counts_failures_for_any_account() -> None:
    lim = LoginLimiter(ip_failures=3)
    for name in ("a", "b", "c"):
        lim.check(name, "192.0.2.1", 10.0)
        lim.failed(name, "192.0.2.1", 10.0)
    with pytest.raises(TooManyRequests) as exc:
        lim.check("d", "192.0.2.1", 20.0)
    assert exc.value.retry_after_s == pytest.approx(3590.0) and exc.value.field is None
    lim.check("d", "192.0.2.2", 20.0)


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server with tiny limits: 3 failures per account, 6 per IP."""
    mp = pytest.MonkeyPatch()
    mp.setenv("SWITCHBOARD_LOGIN_ACCOUNT_FAILURES", "3")
    mp.setenv("SWITCHBOARD_LOGIN_IP_FAILURES", "6")
    tmp = tmp_path_factory.mktemp("strict")
    srv = Server(f"sqlite:///{tmp}/db.sqlite", tmp / "server.log")
    create_user(srv.db_url, username="boot", password=PASSWORD, role="admin", tenant="t")
    try:
        srv.start()
        yield srv
    finally:
        srv.stop()
        mp.undo()


def _login(srv: Server, name: str, password: str) -> httpx.Response:
    return httpx.post(f"{srv.url}/api/v1/auth/token",
                      json={"username": name, "password": password}, timeout=10)


def test_429_with_retry_after_per_account_then_per_ip(strict_server: Server) -> None:
    name = f"u-{uuid.uuid4().hex[:8]}"
    create_user(strict_server.db_url, username=name, password=PASSWORD, role="analyst",
                tenant="t")
    for _ in range(3):
        assert _login(strict_server, name, "wrong password").status_code == 401
    r = _login(strict_server, name, PASSWORD)  # even the right password: locked
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    assert 3500 <= int(r.headers["Retry-After"]) <= 3600
    assert _login(strict_server, "boot", PASSWORD).status_code == 200  # another account
    for i in range(3):  # 3 more failures from this address: 6 in all
        assert _login(strict_server, f"nobody-{i}", "wrong password").status_code == 401
    r = _login(strict_server, "boot", PASSWORD)
    assert r.status_code == 429 and "address" in r.json()["error"]["message"]


def test_every_admin_and_supervisor_action_is_audited(server: Server, admin: Api) -> None:
    tenant = admin.get("/me").json()["tenant"]
    q = admin.post("/queues", json={"name": "Audit"}).json()["id"]
    a = admin.post("/agents", json={"name": "Al"}).json()["id"]
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    assert sup.post(f"/agents/{a}/status", json={"status": "ready"}).status_code == 200
    it = sup.post("/interactions", json={"queue": q}).json()["id"]
    assert sup.post(f"/interactions/{it}/accept", json={"agent": a}).status_code == 200
    agent_user = login(server, new_user(server, "agent", tenant=tenant, agent=a)[0])
    assert agent_user.post(f"/interactions/{it}/hold", json={}).status_code == 200
    refused = sup.post(f"/interactions/{it}/accept", json={"agent": a})
    assert refused.status_code == 409
    rows = admin.get("/audit").json()
    got = [(r["action"], r["target"], r["role"]) for r in rows]
    assert got == [("POST /queues", q, "admin"), ("POST /agents", a, "admin"),
                   ("POST /agents/{id}/status", a, "supervisor"),
                   ("POST /interactions", it, "supervisor"),
                   ("POST /interactions/{id}/accept", it, "supervisor")]
    # the agent's hold is not an admin or supervisor action; the refused accept changed
    # nothing, so it has no row either
    assert rows[2]["detail"] == {"status": "ready", "reason": None}
    assert rows[4]["detail"] == {"agent_id": a}
    seqs = [r["seq"] for r in rows]
    assert seqs == sorted(seqs)
    assert admin.get("/audit", params={"after": seqs[2]}).json() == rows[3:]
    assert sup.get("/audit").status_code == 403
    huge = admin.get("/audit", params={"after": 2**64})  # past any database integer
    assert (huge.status_code, huge.json()["error"]["field"]) == (422, "after")


def test_audit_rows_leave_passwords_out(server: Server, admin: Api) -> None:
    name = f"x-{uuid.uuid4().hex[:8]}"
    r = admin.post("/users", json={"username": name, "password": PASSWORD,
                                   "role": "analyst"})
    assert r.status_code == 201, r.text
    last = admin.get("/audit").json()[-1]
    assert last["action"] == "POST /users"
    assert last["detail"] == {"username": name, "role": "analyst", "agent": None}


def test_the_limiter_forgets_addresses_without_recent_failures() -> None:
    lim = LoginLimiter()
    for i in range(100_001):
        lim.failed("x", f"ip{i}", 0.0)
    assert len(lim._ips) == 100_001
    lim.failed("x", "fresh", 3600.0)  # an hour later every old failure has aged out
    assert set(lim._ips) == {"fresh"}


def _administration(admin: Api, agent: str) -> None:
    """One call of each administration route (routes_config.py) that changes something."""
    assert admin.patch("/tenant", json={"timezone": "Europe/Rome"}).status_code == 200
    for path in ("reason-codes", "dispositions"):
        code = admin.post(f"/{path}", json={"code": "c", "label": "C"}).json()["id"]
        assert admin.patch(f"/{path}/{code}", json={"label": "D"}).status_code == 200
        assert admin.delete(f"/{path}/{code}").status_code == 204
    hours = admin.post("/business-hours", json={"name": "h", "weekly": {
        "mon": ["08:00-18:00"]}}).json()["id"]
    assert admin.patch(f"/business-hours/{hours}", json={"name": "h2"}).status_code == 200
    day = admin.post("/holidays", json={"date": "2030-01-01", "name": "N"}).json()["id"]
    assert admin.patch(f"/holidays/{day}", json={"name": "New"}).status_code == 200
    assert admin.delete(f"/holidays/{day}").status_code == 204
    assert admin.delete(f"/business-hours/{hours}").status_code == 204
    assert admin.patch(f"/agents/{agent}", json={"name": "Al"}).status_code == 200
    spare = admin.post("/agents", json={"name": "spare"}).json()["id"]
    assert admin.delete(f"/agents/{spare}").status_code == 204
    user = admin.post("/users", json={"username": f"u-{uuid.uuid4().hex[:8]}",
                                      "password": PASSWORD, "role": "analyst"}).json()["id"]
    assert admin.post(f"/users/{user}/password",
                      json={"password": "another secret"}).status_code == 204
    assert admin.delete(f"/users/{user}").status_code == 204
    assert admin.post("/skills", json={"name": "gone"}).status_code == 201
    assert admin.delete("/skills/gone").status_code == 204


def _action(method: str, path: str) -> str:
    parts = ["{id}" if p.startswith("{") else p for p in path.split("/")]
    return f"{method} " + "/".join(parts).removeprefix("/api/v1")


def test_every_changing_route_of_admins_and_supervisors_writes_its_audit_row(
        server: Server, admin: Api) -> None:
    from switchboard.server.auth import ROUTE_ROLES, STAFF

    expected = {_action(m, path) for (m, path), roles in ROUTE_ROLES.items()
                if m in ("POST", "PATCH", "DELETE") and roles & STAFF
                and not path.startswith("/api/v1/auth/")}
    tenant = admin.get("/me").json()["tenant"]
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    assert admin.post("/skills", json={"name": "s"}).status_code == 201
    q = admin.post("/queues", json={"name": "Q", "skills": {"s": 1}}).json()["id"]
    assert admin.patch(f"/queues/{q}", json={"wrapup_s": 60}).status_code == 200
    spare = admin.post("/queues", json={"name": "Spare"}).json()["id"]
    assert admin.delete(f"/queues/{spare}").status_code == 204
    a, b = (admin.post("/agents", json={"name": n, "skills": {"s": 1}}).json()["id"]
            for n in "ab")
    user = admin.post("/users", json={"username": f"u-{uuid.uuid4().hex[:8]}",
                                      "password": PASSWORD, "role": "analyst"}).json()
    assert admin.patch(f"/users/{user['id']}", json={"disabled": True}).status_code == 200
    assert admin.patch("/me", json={"language": "fr"}).status_code == 200  # the web UI's
    cb = sup.post("/callbacks", json={"queue": q, "due_at": time.time() + 3600,
                                      "customer": {"phone": "+1 202 555 0100"}})
    assert cb.status_code == 201
    lost = sup.post("/interactions", json={"queue": q, "channel": "voice"}).json()["id"]
    nobody = admin.post("/queues", json={"name": "None", "skills": {"s": 9}}).json()["id"]
    assert sup.post(f"/interactions/{lost}/move", json={"queue": nobody}).status_code == 200
    first = sup.post("/interactions", json={"queue": q, "channel": "voice"}).json()["id"]
    chat = sup.post("/interactions", json={"queue": q, "channel": "chat"}).json()["id"]
    assert sup.post(f"/interactions/{chat}/messages", json={"text": "hi"}).status_code == 201
    assert sup.post(f"/interactions/{chat}/end", json={}).status_code == 200  # abandoned
    assert sup.post(f"/interactions/{first}/callback", json={}).status_code == 200
    assert sup.post(f"/agents/{a}/status", json={"status": "ready"}).status_code == 200
    ok = 200
    assert sup.post(f"/interactions/{first}/reject", json={"agent": a}).status_code == ok
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    assert sup.post(f"/interactions/{first}/accept", json={"agent": a}).status_code == ok
    assert sup.post(f"/interactions/{first}/hold", json={}).status_code == ok
    assert sup.post(f"/interactions/{first}/resume", json={}).status_code == ok
    sup.post(f"/agents/{b}/status", json={"status": "ready"})
    assert sup.post(f"/interactions/{first}/transfer",
                    json={"to_agent": b, "mode": "warm"}).status_code == ok
    assert sup.post(f"/interactions/{first}/transfer/cancel").status_code == ok
    assert sup.post(f"/interactions/{first}/transfer",
                    json={"to_agent": b, "mode": "warm"}).status_code == ok
    assert sup.post(f"/interactions/{first}/accept", json={"agent": b}).status_code == ok
    assert sup.post(f"/interactions/{first}/transfer/complete").status_code == ok
    assert sup.post(f"/interactions/{first}/end", json={}).status_code == ok
    assert sup.post(f"/interactions/{first}/wrapup", json={"agent": b}).status_code == ok
    # recordings (routes_media.py): a finished one deleted, retention purged
    from switchboard.store import recordings as rec_repo
    from switchboard.store.db import open_db
    engine = open_db(server.db_url)
    with engine.begin() as conn:
        rec_repo.create(conn, tenant, recording_id="r-audit", kind="call",
                        interaction_id=first, started_at=1.0, now=1.0)
        rec_repo.update(conn, tenant, "r-audit", status="complete", ended_at=2.0)
    engine.dispose()
    assert admin.delete("/recordings/r-audit").status_code == 204
    assert admin.post("/recording-retention/purge").status_code == 200
    _administration(admin, a)
    rows = admin.get("/audit", params={"limit": 1000}).json()
    assert {r["action"] for r in rows} == expected
    assert all(r["role"] in ("admin", "supervisor") and r["user"] for r in rows)
