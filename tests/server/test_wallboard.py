"""The wallboard API on a real server (SQLite and PostgreSQL): the snapshot's
figures equal the reports' (the API's and ``switchboard report``'s over the
same logged events), thresholds, and the supervisor's live actions."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from switchboard.server.wallboard import check_thresholds, level, presence
from switchboard.store import log
from switchboard.store.db import open_db
from tests.server.conftest import Api, Server, login, new_user


def _wait(fn: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = fn()
        if got:
            return got
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _team(server: Server, admin: Api) -> tuple[Api, str]:
    tenant = admin.get("/me").json()["tenant"]
    return login(server, new_user(server, "supervisor", tenant=tenant)[0]), tenant


def _today() -> tuple[str, str]:
    day = datetime.now(UTC).date()
    return day.isoformat(), (day + timedelta(days=1)).isoformat()


def _cli_report(server: Server, tenant: str, by: str, tmp: Path) -> list[dict[str, Any]]:
    """``switchboard report --events`` over the tenant's logged events of today."""
    start, end = _today()
    lo = datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp()
    hi = datetime.fromisoformat(end).replace(tzinfo=UTC).timestamp()
    db = open_db(server.db_url)
    try:
        with db.connect() as conn:
            events = log.events_between(conn, tenant, lo, hi)
    finally:
        db.dispose()
    path = tmp / f"events-{by}.jsonl"
    path.write_text("".join(json.dumps(ev) + "\n" for ev in events), encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "switchboard.cli", "report", "--events",
                          str(path), "--by", by, "--format", "json", "--tz", "UTC"],
                         capture_output=True, text=True, timeout=120, check=True)
    rows: list[dict[str, Any]] = json.loads(out.stdout)
    return rows


def test_the_boards_figures_are_the_reports_figures(server: Server, admin: Api,
                                                    tmp_path: Path) -> None:
    sup, tenant = _team(server, admin)
    q = admin.post("/queues", json={"name": "Sales", "timeout_s": 0.4,
                                    "wrapup_s": 60}).json()["id"]
    q2 = admin.post("/queues", json={"name": "Care", "sl_threshold_s": 30}).json()["id"]
    board = sup.get("/wallboard").json()  # read first: the rest is fed live
    assert [r["today"]["offered"] for r in board["queues"]] == [0, 0]
    a = admin.post("/agents", json={"name": "Ann"}).json()["id"]
    assert sup.post(f"/agents/{a}/status", json={"status": "ready"}).status_code == 200
    c1 = sup.post("/interactions", json={"queue": q, "channel": "voice"}).json()["id"]
    assert sup.post(f"/interactions/{c1}/accept", json={"agent": a}).status_code == 200
    c2 = sup.post("/interactions", json={"queue": q, "channel": "voice"}).json()["id"]
    _wait(lambda: sup.get(f"/interactions/{c2}").json()["state"] != "queued")  # exits
    c3 = sup.post("/interactions", json={"queue": q2, "channel": "chat"}).json()["id"]
    assert sup.post(f"/interactions/{c1}/end", json={}).status_code == 200
    assert sup.post(f"/interactions/{c1}/wrapup", json={"agent": a}).status_code == 200
    assert sup.post(f"/interactions/{c3}/accept", json={"agent": a}).status_code == 200

    board = sup.get("/wallboard").json()
    start, end = _today()
    api_rows = {r.pop("key"): r for r in sup.get("/reports/queue", params={
        "from": start, "to": end}).json()}
    api30 = {r.pop("key"): r for r in sup.get("/reports/queue", params={
        "from": start, "to": end, "sl_threshold": 30}).json()}
    cli_rows = {r.pop("key"): r for r in _cli_report(server, tenant, "queue", tmp_path)}
    by_id = {r["id"]: r for r in board["queues"]}
    sales = dict(by_id[q]["today"])
    assert sales.pop("from") == datetime.fromisoformat(start).replace(tzinfo=UTC).timestamp()
    assert sales == api_rows[q] == cli_rows[q]
    care = {k: v for k, v in by_id[q2]["today"].items() if k != "from"}
    assert care == api30[q2]  # each queue with its own SL threshold
    assert (sales["offered"], sales["answered"], sales["service_level"]) == (2, 1, 1.0)
    # the trend: today's interval rows (20 s threshold), the report's and the CLI's
    api_iv = sup.get("/reports/interval", params={"from": start, "to": end}).json()
    cli_iv = _cli_report(server, tenant, "interval", tmp_path)
    for row in cli_iv:  # the CLI writes the offset the events' time stamps carry
        row["key"] = row["key"].removesuffix("+00:00")
    assert board["trend"]["rows"] == api_iv == cli_iv
    assert board["trend"]["interval_min"] == 30 and board["trend"]["sl_threshold_s"] == 20
    assert sum(r["offered"] for r in board["trend"]["rows"]) == 3
    # live parts: the agent on its chat, the queues' agents by presence
    ann = next(x for x in board["agents"] if x["id"] == a)
    assert (ann["status"], ann["state"], ann["presence"]) == ("ready", "busy", "busy")
    assert ann["contact"]["id"] == c3 and ann["contact"]["queue"] == q2
    assert ann["queues"] == sorted([q, q2]) and ann["time_in_state_s"] >= 0
    assert by_id[q]["agents"]["busy"] == 1 and by_id[q]["waiting"] == 0
    assert by_id[q]["oldest_enqueued_at"] is None


def test_waiting_contacts_longest_wait_and_partial_boards(server: Server,
                                                         admin: Api) -> None:
    sup, _ = _team(server, admin)
    q = admin.post("/queues", json={"name": "Wait"}).json()["id"]
    other = admin.post("/queues", json={"name": "Other"}).json()["id"]
    a = admin.post("/agents", json={"name": "Bo"}).json()["id"]
    b = admin.post("/agents", json={"name": "Cy"}).json()["id"]
    first = sup.post("/interactions", json={"queue": q, "channel": "voice"}).json()
    sup.post("/interactions", json={"queue": q, "channel": "voice"})
    time.sleep(0.3)
    row = sup.get("/wallboard", params={"queues": q, "include": "queues"}).json()
    assert set(row) == {"at", "tz", "day_start", "queues"}
    [wq] = row["queues"]
    assert wq["waiting"] == 2 and wq["longest_wait_s"] >= 0.3
    assert wq["oldest_enqueued_at"] == pytest.approx(first["enqueued_at"], abs=1e-6)
    assert wq["agents"] == {"available": 0, "reserved": 0, "busy": 0, "wrapup": 0,
                            "not_ready": 0, "offline": 2}
    part = sup.get("/wallboard", params={"agents": f"{b},nobody", "include": "agents"}).json()
    assert [x["id"] for x in part["agents"]] == [b]
    assert part["agents"][0]["presence"] == "offline" and part["agents"][0]["contact"] is None
    both = sup.get("/wallboard", params={"queues": f"{q},{other}", "include": "queues"})
    assert [x["id"] for x in both.json()["queues"]] == [q, other]
    sup.post(f"/agents/{a}/status", json={"status": "ready"})  # takes the first contact
    [wq] = sup.get("/wallboard", params={"queues": q, "include": "queues"}).json()["queues"]
    assert wq["waiting"] == 1 and wq["agents"]["reserved"] == 1
    for key, value in (("include", "queues,x"), ("tz", "Mars/Base"), ("queues", "y" * 70)):
        r = sup.get("/wallboard", params={key: value})
        field = key
        assert (r.status_code, r.json()["error"]["field"]) == (422, field), r.text


def test_time_in_state_counts_from_the_last_change(server: Server, admin: Api) -> None:
    sup, _ = _team(server, admin)
    a = admin.post("/agents", json={"name": "Di"}).json()["id"]
    created = sup.get("/wallboard", params={"agents": a, "include": "agents"}).json()
    since0 = created["agents"][0]["since"]
    assert since0 is not None and since0 <= created["at"]
    before = time.time()
    sup.post(f"/agents/{a}/status", json={"status": "not_ready", "reason": "break"})
    got = sup.get("/wallboard", params={"agents": a, "include": "agents"}).json()
    [di] = got["agents"]
    assert (di["presence"], di["reason"]) == ("not_ready", "break")
    assert before <= di["since"] <= got["at"] and di["since"] > since0
    assert di["time_in_state_s"] == pytest.approx(got["at"] - di["since"])


def test_thresholds_are_validated_stored_levelled_and_audited(server: Server,
                                                              admin: Api) -> None:
    sup, tenant = _team(server, admin)
    analyst = login(server, new_user(server, "analyst", tenant=tenant)[0])
    q = admin.post("/queues", json={"name": "T", "sl_threshold_s": 0.05}).json()["id"]
    empty = sup.get(f"/queues/{q}/thresholds").json()
    assert empty == {"queue": q, "service_level": None, "asa_s": None, "abandon_rate": None,
                     "longest_wait_s": None, "waiting": None, "updated_at": None,
                     "updated_by": None}
    bad = [({"service_level": {"amber": 0.8, "red": 0.9}}, "service_level.red"),
           ({"longest_wait_s": {"amber": 60, "red": 30}}, "longest_wait_s.red"),
           ({"abandon_rate": {"amber": 1.5}}, "abandon_rate.amber"),
           ({"waiting": {}}, "waiting"),
           ({"asa_s": {"amber": -1}}, "asa_s.amber"),
           ({"colour": {"red": 1}}, "colour"),
           ({"asa_s": {"amber": 5, "blue": 1}}, "asa_s.blue")]
    for body, field in bad:
        r = sup.put(f"/queues/{q}/thresholds", json=body)
        assert r.status_code == 422 and r.json()["error"]["field"] == field, (body, r.text)
    assert sup.get(f"/queues/{q}/thresholds").json() == empty  # nothing changed
    body = {"service_level": {"amber": 0.8, "red": 0.6}, "waiting": {"amber": 0, "red": 3},
            "longest_wait_s": {"red": 0.05}}
    r = sup.put(f"/queues/{q}/thresholds", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["waiting"] == {"amber": 0.0, "red": 3.0} and r.json()["asa_s"] is None
    assert analyst.get(f"/queues/{q}/thresholds").json()["service_level"] == {
        "amber": 0.8, "red": 0.6}
    assert analyst.put(f"/queues/{q}/thresholds", json=body).status_code == 403
    [row] = sup.get("/wallboard", params={"queues": q, "include": "queues"}).json()["queues"]
    assert row["levels"] == {"service_level": None, "asa_s": None, "abandon_rate": None,
                             "longest_wait_s": "ok", "waiting": "ok"}
    it = sup.post("/interactions", json={"queue": q, "channel": "voice"}).json()["id"]
    time.sleep(0.1)
    [row] = sup.get("/wallboard", params={"queues": q, "include": "queues"}).json()["queues"]
    assert row["levels"]["waiting"] == "amber" and row["levels"]["longest_wait_s"] == "red"
    a = admin.post("/agents", json={"name": "Ida"}).json()["id"]
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    sup.post(f"/interactions/{it}/accept", json={"agent": a})  # answered after the 0.05 s
    [row] = sup.get("/wallboard", params={"queues": q, "include": "queues"}).json()["queues"]
    assert row["today"]["service_level"] == 0.0 and row["levels"]["service_level"] == "red"
    assert row["levels"]["waiting"] == "ok" and row["levels"]["longest_wait_s"] == "ok"
    sup.post(f"/interactions/{it}/end", json={})
    audit = [x for x in admin.get("/audit").json()
             if x["action"] == "PUT /queues/{id}/thresholds"]
    assert [(x["target"], x["role"]) for x in audit] == [(q, "supervisor")]
    assert admin.delete(f"/queues/{q}").status_code == 204  # thresholds go with it
    assert sup.get(f"/queues/{q}/thresholds").status_code == 404


def test_threshold_levels_and_presence_rules() -> None:
    assert check_thresholds({"service_level": {"amber": 0.8}, "asa_s": None}) == {
        "service_level": {"amber": 0.8}}
    sl = {"amber": 0.8, "red": 0.6}
    assert [level("service_level", v, sl) for v in (0.9, 0.8, 0.7, 0.5, None)] == [
        "ok", "ok", "amber", "red", None]
    wait = {"amber": 30.0, "red": 60.0}
    assert [level("longest_wait_s", v, wait) for v in (10, 30, 31, 61)] == [
        "ok", "ok", "amber", "red"]
    assert level("asa_s", 99.0, None) is None
    rows = [("offline", "idle", "offline"), ("ready", "idle", "available"),
            ("not_ready", "idle", "not_ready"), ("ready", "wrapup", "wrapup"),
            ("not_ready", "busy", "busy"), ("ready", "reserved", "reserved")]
    for status, state, want in rows:
        assert presence({"status": status, "state": state}) == want


def test_skills_change_live_and_the_engine_routes_with_them(server: Server,
                                                            admin: Api) -> None:
    sup, tenant = _team(server, admin)
    for name in ("fr", "de"):
        admin.post("/skills", json={"name": name})
    fr = admin.post("/queues", json={"name": "French", "skills": {"fr": 2}}).json()["id"]
    a = admin.post("/agents", json={"name": "Eve", "skills": {"de": 5}}).json()["id"]
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    it = sup.post("/interactions", json={"queue": fr}).json()["id"]
    assert sup.get(f"/interactions/{it}").json()["state"] == "queued"
    r = sup.put(f"/agents/{a}/skills", json={"skills": {"fr": 3, "de": 5}})
    assert r.status_code == 200, r.text
    assert r.json()["skills"] == {"fr": 3, "de": 5} and r.json()["queues"] == [fr]
    view = sup.get(f"/interactions/{it}").json()  # offered at once, no timer needed
    assert view["state"] == "offered" and view["offered_to"] == [a]
    assert admin.get(f"/agents/{a}").json()["skills"] == {"fr": 3, "de": 5}
    for body, field in (({"skills": {"nope": 3}}, "skills.nope"),
                        ({"skills": {"fr": 11}}, "skills.fr"), ({}, "skills")):
        bad = sup.put(f"/agents/{a}/skills", json=body)
        assert bad.status_code == 422 and bad.json()["error"]["field"] == field, bad.text
    assert admin.get(f"/agents/{a}").json()["skills"] == {"fr": 3, "de": 5}
    agent_user = login(server, new_user(server, "agent", tenant=tenant, agent=a)[0])
    assert agent_user.put(f"/agents/{a}/skills", json={"skills": {}}).status_code == 403
    assert sup.put("/agents/nobody/skills", json={"skills": {}}).status_code == 404
    r = sup.put(f"/agents/{a}/skills", json={"skills": {"de": 5}})
    assert r.json()["queues"] == []  # no longer serves the French queue
    audit = [(x["action"], x["target"], x["detail"]) for x in admin.get("/audit").json()
             if x["action"] == "PUT /agents/{id}/skills"]
    assert audit == [("PUT /agents/{id}/skills", a, {"skills": {"fr": 3, "de": 5}}),
                     ("PUT /agents/{id}/skills", a, {"skills": {"de": 5}})]


def test_a_waiting_contact_moves_with_its_wait(server: Server, admin: Api) -> None:
    sup, _ = _team(server, admin)
    q1 = admin.post("/queues", json={"name": "One"}).json()["id"]
    q2 = admin.post("/queues", json={"name": "Two"}).json()["id"]
    it = sup.post("/interactions", json={"queue": q1, "priority": 5}).json()
    r = sup.post(f"/interactions/{it['id']}/move", json={"queue": q2})
    assert r.status_code == 200, r.text
    moved = r.json()
    assert (moved["queue"], moved["state"], moved["priority"]) == (q2, "queued", 5)
    assert moved["enqueued_at"] == it["enqueued_at"]  # the customer's wait goes on
    again = sup.post(f"/interactions/{it['id']}/move", json={"queue": q2})
    assert (again.status_code, again.json()["error"]["field"]) == (409, "queue")
    unknown = sup.post(f"/interactions/{it['id']}/move", json={"queue": "nope"})
    assert (unknown.status_code, unknown.json()["error"]["field"]) == (422, "queue")
    assert sup.post("/interactions/nope/move", json={"queue": q1}).status_code == 404
    a = admin.post("/agents", json={"name": "Flo"}).json()["id"]
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    sup.post(f"/interactions/{it['id']}/accept", json={"agent": a})
    busy = sup.post(f"/interactions/{it['id']}/move", json={"queue": q1})
    assert (busy.status_code, busy.json()["error"]["code"]) == (409, "invalid_transition")
    events = [e["kind"] for e in sup.get(f"/interactions/{it['id']}/events").json()]
    assert events.count("overflowed") == 1
    start, end = _today()
    rows = {r["key"]: r for r in sup.get("/reports/queue", params={
        "from": start, "to": end}).json()}
    assert (rows[q1]["offered"], rows[q1]["overflows"]) == (1, 1)
    assert (rows[q2]["offered"], rows[q2]["answered"]) == (1, 1)
    audit = [(x["action"], x["target"], x["detail"]) for x in admin.get("/audit").json()
             if x["action"] == "POST /interactions/{id}/move"]
    assert audit == [("POST /interactions/{id}/move", it["id"], {"queue": q2})]


def test_force_not_ready_or_logged_out(server: Server, admin: Api) -> None:
    sup, _ = _team(server, admin)
    q = admin.post("/queues", json={"name": "F"}).json()["id"]
    a = admin.post("/agents", json={"name": "Gus"}).json()["id"]
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    it = sup.post("/interactions", json={"queue": q}).json()["id"]
    sup.post(f"/interactions/{it}/accept", json={"agent": a})
    r = sup.post(f"/agents/{a}/status", json={"status": "not_ready", "reason": "coaching"})
    assert r.status_code == 200 and (r.json()["status"], r.json()["state"]) == (
        "not_ready", "busy")  # not ready from now, the contact goes on
    out = sup.post(f"/agents/{a}/status", json={"status": "offline"})
    assert out.status_code == 409  # a contact is open: finish it first
    sup.post(f"/interactions/{it}/end", json={})
    sup.post(f"/interactions/{it}/wrapup", json={"agent": a})
    assert sup.post(f"/agents/{a}/status", json={"status": "offline"}).status_code == 200
    [gus] = sup.get("/wallboard", params={"agents": a, "include": "agents"}).json()["agents"]
    assert gus["presence"] == "offline"


def test_who_may_see_the_board(server: Server, admin: Api) -> None:
    tenant = admin.get("/me").json()["tenant"]
    a = admin.post("/agents", json={"name": "Hal"}).json()["id"]
    agent_user = login(server, new_user(server, "agent", tenant=tenant, agent=a)[0])
    analyst = login(server, new_user(server, "analyst", tenant=tenant)[0])
    assert agent_user.get("/wallboard").status_code == 403
    assert analyst.get("/wallboard").status_code == 200
    q = admin.post("/queues", json={"name": "W"}).json()["id"]
    assert analyst.post("/interactions/x/move", json={"queue": q}).status_code == 403
    stranger = login(server, new_user(server)[0])
    assert stranger.get("/wallboard").json()["queues"] == []
    assert stranger.get(f"/queues/{q}/thresholds").status_code == 404
