"""``Idempotency-Key`` on creating POSTs: a retry creates nothing new."""

from __future__ import annotations

from tests.server.conftest import Api, Server, login, new_user


def test_a_retried_create_returns_the_first_result_and_creates_nothing(admin: Api) -> None:
    key = {"Idempotency-Key": "order-42"}
    q1 = admin.post("/queues", json={"name": "Q"}, headers=key)
    q2 = admin.post("/queues", json={"name": "Q"}, headers=key)
    assert q1.status_code == q2.status_code == 201
    assert q2.json() == q1.json() and q2.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in q1.headers
    assert len(admin.get("/queues").json()) == 1
    q = q1.json()["id"]
    body = {"queue": q, "customer": {"name": "Ann"}}
    first = admin.post("/interactions", json=body, headers={"Idempotency-Key": "call-1"})
    again = admin.post("/interactions", json=body, headers={"Idempotency-Key": "call-1"})
    assert again.json()["id"] == first.json()["id"]
    assert admin.get(f"/queues/{q}/stats").json()["waiting"] == 1
    a1 = admin.post("/agents", json={"name": "A"}, headers={"Idempotency-Key": "a"}).json()
    a2 = admin.post("/agents", json={"name": "A"}, headers={"Idempotency-Key": "a"}).json()
    assert a1["id"] == a2["id"] and len(admin.get("/agents").json()) == 1


def test_a_key_reused_for_another_request_is_refused(server: Server, admin: Api) -> None:
    key = {"Idempotency-Key": "k"}
    assert admin.post("/queues", json={"name": "Q"}, headers=key).status_code == 201
    for r in (admin.post("/queues", json={"name": "Other"}, headers=key),
              admin.post("/agents", json={"name": "Q"}, headers=key)):
        assert r.status_code == 422
        assert r.json()["error"] == {"code": "idempotency_mismatch", "field": "Idempotency-Key",
                                     "message": "this key was used with another request"}
    long = admin.post("/queues", json={"name": "Q"}, headers={"Idempotency-Key": "x" * 201})
    assert long.status_code == 422
    # Keys belong to a tenant: another tenant's same key is a new request.
    other = login(server, new_user(server)[0])
    assert other.post("/queues", json={"name": "Q"}, headers=key).headers.get(
        "Idempotent-Replayed") is None
    assert len(other.get("/queues").json()) == 1
