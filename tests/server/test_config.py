"""Administration resources on the real server (SQLite and PostgreSQL): reason
codes and dispositions, business hours and holidays, queue routing (steps and
overflow), agent and user changes, the tenant's zone, report downloads."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.server.conftest import PASSWORD, Api, Server, login, new_user


def err(r: httpx.Response) -> tuple[int, str, str | None]:
    body = r.json()["error"]
    return r.status_code, body["code"], body.get("field")


def tenant_of(api: Api) -> str:
    return str(api.get("/me").json()["tenant"])


# ------------------------------------------------------------------ codes
@pytest.mark.parametrize("path", ["reason-codes", "dispositions"])
def test_codes_are_created_listed_changed_and_deleted_with_checks(
        server: Server, admin: Api, path: str) -> None:
    r = admin.post(f"/{path}", json={"code": "lunch", "label": "  Lunch break "})
    assert r.status_code == 201, r.text
    lunch = r.json()
    assert (lunch["code"], lunch["label"]) == ("lunch", "Lunch break")
    admin.post(f"/{path}", json={"code": "coffee", "label": "Coffee"})
    listed = admin.get(f"/{path}").json()
    assert [(c["code"], c["label"]) for c in listed] == [("coffee", "Coffee"),
                                                         ("lunch", "Lunch break")]
    assert set(listed[0]) >= {"id", "code", "label"}
    assert err(admin.post(f"/{path}", json={"code": "lunch", "label": "x"})) == (
        409, "conflict", "code")
    assert err(admin.post(f"/{path}", json={"code": "two words", "label": "x"})) == (
        422, "invalid", "code")
    assert err(admin.post(f"/{path}", json={"code": "ok", "label": "   "})) == (
        422, "invalid", "label")
    assert err(admin.post(f"/{path}", json={"code": "ok"}))[0] == 422
    # idempotent create: the retry returns the first, nothing new
    key = {"Idempotency-Key": uuid.uuid4().hex}
    first = admin.post(f"/{path}", json={"code": "train", "label": "Training"}, headers=key)
    again = admin.post(f"/{path}", json={"code": "train", "label": "Training"}, headers=key)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    changed = admin.patch(f"/{path}/{lunch['id']}", json={"label": "Long lunch"})
    assert changed.json()["label"] == "Long lunch" and changed.json()["code"] == "lunch"
    assert err(admin.patch(f"/{path}/{lunch['id']}", json={"code": "coffee"})) == (
        409, "conflict", "code")
    assert err(admin.patch(f"/{path}/{lunch['id']}", json={"label": None}))[2] == "label"
    # the agent desktop reads the list; only an admin changes it
    tenant = tenant_of(admin)
    agent = admin.post("/agents", json={"name": "A"}).json()["id"]
    me = login(server, new_user(server, "agent", tenant=tenant, agent=agent)[0])
    assert len(me.get(f"/{path}").json()) == 3
    assert me.post(f"/{path}", json={"code": "x", "label": "x"}).status_code == 403
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    assert sup.delete(f"/{path}/{lunch['id']}").status_code == 403
    # another tenant's ids are unknown
    other = login(server, new_user(server)[0])
    assert other.get(f"/{path}").json() == []
    for call in (other.get, other.delete):
        assert call(f"/{path}/{lunch['id']}").status_code == 404
    assert other.patch(f"/{path}/{lunch['id']}", json={"label": "x"}).status_code == 404
    assert admin.delete(f"/{path}/{lunch['id']}").status_code == 204
    assert admin.get(f"/{path}/{lunch['id']}").status_code == 404
    assert [c["code"] for c in admin.get(f"/{path}").json()] == ["coffee", "train"]
    actions = [a["action"] for a in admin.get("/audit").json()]
    assert actions.count(f"POST /{path}") == 3 and f"DELETE /{path}/{{id}}" in actions


def test_status_refuses_an_unknown_reason_once_the_tenant_has_codes(admin: Api) -> None:
    a = admin.post("/agents", json={"name": "R"}).json()["id"]
    free = admin.post(f"/agents/{a}/status", json={"status": "not_ready", "reason": "any"})
    assert free.status_code == 200  # no codes defined: any reason goes
    admin.post("/reason-codes", json={"code": "lunch", "label": "Lunch"})
    bad = admin.post(f"/agents/{a}/status", json={"status": "not_ready", "reason": "nap"})
    assert err(bad) == (422, "invalid", "reason")
    assert "lunch" in bad.json()["error"]["message"]
    assert admin.get(f"/agents/{a}").json()["reason"] == "any"  # unchanged
    ok = admin.post(f"/agents/{a}/status", json={"status": "not_ready", "reason": "lunch"})
    assert ok.status_code == 200 and ok.json()["reason"] == "lunch"
    assert admin.post(f"/agents/{a}/status", json={"status": "ready"}).status_code == 200


def test_wrapup_refuses_an_unknown_disposition_once_the_tenant_has_codes(
        server: Server, admin: Api) -> None:
    tenant = tenant_of(admin)
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    q = admin.post("/queues", json={"name": "W", "wrapup_s": 600}).json()["id"]
    a = admin.post("/agents", json={"name": "W"}).json()["id"]
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    admin.post("/dispositions", json={"code": "sold", "label": "Sale made"})
    it = sup.post("/interactions", json={"queue": q}).json()["id"]
    sup.post(f"/interactions/{it}/accept", json={"agent": a})
    sup.post(f"/interactions/{it}/end", json={})
    bad = sup.post(f"/interactions/{it}/wrapup", json={"agent": a, "disposition": "nope"})
    assert err(bad) == (422, "invalid", "disposition")
    assert sup.get(f"/interactions/{it}").json()["state"] == "wrapup"  # unchanged
    ok = sup.post(f"/interactions/{it}/wrapup", json={"agent": a, "disposition": "sold"})
    assert ok.status_code == 200, ok.text
    events = sup.get(f"/interactions/{it}/events").json()
    assert [e.get("disposition") for e in events if e["kind"] == "wrapup_ended"] == ["sold"]


# ------------------------------------------------------------------ business hours
WEEK = {"mon": ["08:00-12:00", "13:00-18:00"], "tue": ["08:00-18:00"],
        "wed": ["08:00-18:00"], "thu": ["08:00-18:00"], "fri": ["08:00-16:00"]}


def rome(*args: int) -> float:
    from zoneinfo import ZoneInfo
    return datetime(*args, tzinfo=ZoneInfo("Europe/Rome")).timestamp()


def test_business_hours_and_holidays_with_every_refusal_naming_its_field(
        server: Server, admin: Api) -> None:
    assert admin.get("/tenant").json()["timezone"] == "UTC"
    assert err(admin.patch("/tenant", json={"timezone": "Mars/Olympus"})) == (
        422, "invalid", "timezone")
    assert admin.patch("/tenant", json={"timezone": "Europe/Rome"}).json()["timezone"] == \
        "Europe/Rome"
    r = admin.post("/business-hours", json={"name": "main", "weekly": WEEK})
    assert r.status_code == 201, r.text
    main = r.json()
    assert (main["timezone"], main["queue"]) == ("Europe/Rome", None)  # the tenant's zone
    assert main["weekly"]["mon"] == ["08:00-12:00", "13:00-18:00"]
    assert main["weekly"]["sat"] == []
    q = admin.post("/queues", json={"name": "Sales"}).json()["id"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"weekly": {"mon": ["08:00-12:00", "11:00-13:00"]}}, "weekly.mon[1]"),
        ({"weekly": {"tue": ["25:00-26:00"]}}, "weekly.tue[0]"),
        ({"weekly": {"wed": ["18:00-08:00"]}}, "weekly.wed[0]"),
        ({"weekly": {"funday": ["08:00-09:00"]}}, "weekly.funday"),
        ({"weekly": {"mon": "08:00-12:00"}}, "weekly.mon"),
        ({"timezone": "Europe/Atlantis"}, "timezone"),
        ({"queue": "nope"}, "queue"),
        ({"name": "has space"}, "name"),
    ]
    for extra, field in bad:
        body = {"name": "sales", "queue": q, **extra}
        got = admin.post("/business-hours", json=body)
        assert (got.status_code, got.json()["error"].get("field")) == (422, field), got.text
    assert err(admin.post("/business-hours", json={"name": "main2"})) == (
        409, "conflict", "queue")  # the tenant has its hours already
    assert err(admin.post("/business-hours", json={"name": "main", "queue": q})) == (
        409, "conflict", "name")
    sales = admin.post("/business-hours", json={
        "name": "sales", "queue": q, "timezone": "America/New_York",
        "weekly": {"sat": ["10:00-14:00"]}}).json()
    assert err(admin.post("/business-hours", json={"name": "s2", "queue": q}))[2] == "queue"
    assert len(admin.get("/business-hours").json()) == 2
    # holidays: all day for every calendar, part of a day for one
    xmas = admin.post("/holidays", json={"date": "2025-12-25", "name": "Christmas"})
    assert xmas.status_code == 201, xmas.text
    eve = admin.post("/holidays", json={"date": "2025-12-24", "name": "Christmas Eve",
                                        "hours": ["09:00-12:00"],
                                        "business_hours": main["id"]}).json()
    assert eve["hours"] == ["09:00-12:00"] and eve["business_hours"] == main["id"]
    hol_bad: list[tuple[dict[str, Any], str]] = [
        ({"date": "2025-02-30"}, "date"), ({"date": "25/12/2025"}, "date"),
        ({"hours": ["09:00-12:00", "10:00-11:00"]}, "hours[1]"),
        ({"hours": ["9-12"]}, "hours[0]"), ({"name": " "}, "name"),
        ({"business_hours": "nope"}, "business_hours")]
    for extra, field in hol_bad:
        body = {"date": "2026-01-01", "name": "New year", **extra}
        got = admin.post("/holidays", json=body)
        assert (got.status_code, got.json()["error"].get("field")) == (422, field), got.text
    assert err(admin.post("/holidays", json={"date": "2025-12-25", "name": "again"})) == (
        409, "conflict", "date")
    assert admin.get("/holidays", params={"year": 2025}).json()[0]["name"] == "Christmas Eve"
    assert admin.get("/holidays", params={"year": 2026}).json() == []

    def status(hours_id: str, at: float) -> str:
        r = admin.get(f"/business-hours/{hours_id}/status", params={"at": at})
        assert r.status_code == 200, r.text
        return str(r.json()["status"])

    assert status(main["id"], rome(2025, 12, 22, 12, 30)) == "closed"  # Monday lunch
    assert status(main["id"], rome(2025, 12, 22, 13, 0)) == "open"
    assert status(main["id"], rome(2025, 12, 24, 10, 0)) == "open"    # special hours
    assert status(main["id"], rome(2025, 12, 24, 13, 0)) == "holiday"
    assert status(main["id"], rome(2025, 12, 25, 10, 0)) == "holiday"  # tenant-wide
    assert status(sales["id"], rome(2025, 12, 27, 16, 30)) == "open"  # 10:30 in New York
    assert status(sales["id"], rome(2025, 12, 24, 10, 0)) == "closed"  # not its holiday
    # changes: a weekly edit, a bad one refused and nothing changed
    assert err(admin.patch(f"/business-hours/{main['id']}",
                           json={"weekly": {"mon": ["08:00-09:00", "08:30-10:00"]}}))[2] == \
        "weekly.mon[1]"
    assert admin.get(f"/business-hours/{main['id']}").json()["weekly"]["mon"] == \
        WEEK["mon"]
    admin.patch(f"/business-hours/{main['id']}", json={"weekly": {"mon": ["00:00-24:00"]}})
    assert status(main["id"], rome(2025, 12, 22, 12, 30)) == "open"
    assert admin.delete(f"/queues/{q}").status_code == 409  # its hours name it
    other = login(server, new_user(server)[0])
    assert other.get(f"/business-hours/{main['id']}").status_code == 404
    assert other.get(f"/holidays/{eve['id']}").status_code == 404
    assert other.post("/holidays", json={"date": "2025-01-01", "name": "x",
                                         "business_hours": main["id"]}).status_code == 422
    # deleting the hours deletes their own holidays, not the tenant-wide ones
    assert admin.delete(f"/business-hours/{main['id']}").status_code == 204
    assert [h["name"] for h in admin.get("/holidays").json()] == ["Christmas"]
    assert admin.delete(f"/business-hours/{sales['id']}").status_code == 204
    assert admin.delete(f"/queues/{q}").status_code == 204


# ------------------------------------------------------------------ queues
def test_queue_steps_and_overflow_use_the_engines_checks_naming_the_field(
        admin: Api) -> None:
    a = admin.post("/agents", json={"name": "Ex", "skills": {"fr": 2}}).json()["id"]
    spill = admin.post("/queues", json={"name": "Spill"}).json()["id"]
    body = {"name": "Main", "strategy": "best_skill", "skills": {"fr": 5},
            "steps": [{"after_s": 30, "skills": {"fr": 2}},
                      {"after_s": 60, "add_agents": [a], "add_queues": [spill]}],
            "overflow": [{"to_queue": spill, "after_s": 120}], "join_rule": "logged_in",
            "max_misses": 2, "callback_ewt_s": 300}
    r = admin.post("/queues", json=body)
    assert r.status_code == 201, r.text
    q = r.json()
    assert [s["after_s"] for s in q["steps"]] == [30, 60]
    assert q["overflow"] == [{"to_queue": spill, "after_s": 120, "ewt_above_s": None}]
    assert (q["join_rule"], q["max_misses"], q["callback_ewt_s"]) == ("logged_in", 2, 300)
    assert admin.get(f"/queues/{q['id']}").json() == q
    cases: list[tuple[dict[str, Any], str]] = [
        ({"overflow": [{"to_queue": "nope", "after_s": 5}]}, "overflow[0].to_queue"),
        ({"overflow": [{"to_queue": spill}]}, "overflow[0]"),
        ({"steps": [{"after_s": 60}, {"after_s": 30}]}, "steps[1].after_s"),
        ({"steps": [{"after_s": 10, "add_agents": ["ghost"]}]}, "steps[0].add_agents"),
        ({"steps": [{"after_s": 10, "add_queues": ["ghost"]}]}, "steps[0].add_queues"),
        ({"steps": [{"after_s": 10, "skills": {"fr": 11}}]}, "steps[0].skills.fr"),
        ({"skills": {"fr": 0}}, "skills.fr"),
        ({"members": ["ghost"]}, "members"),
        ({"join_rule": "sometimes"}, "join_rule"),
    ]
    for extra, field in cases:
        got = admin.post("/queues", json={"name": "Bad", **extra})
        assert (got.status_code, got.json()["error"].get("field")) == (422, field), got.text
    # a change to itself: the engine's own refusal, under the body's field name
    loop = admin.patch(f"/queues/{q['id']}", json={"overflow": [{"to_queue": q["id"],
                                                                 "after_s": 1}]})
    assert err(loop) == (422, "invalid_config", "overflow[0].to_queue")
    assert admin.get(f"/queues/{q['id']}").json() == q  # nothing changed
    moved = admin.patch(f"/queues/{q['id']}", json={"steps": [], "overflow": [
        {"to_queue": spill, "ewt_above_s": 600}]}).json()
    assert (moved["steps"], moved["overflow"][0]["ewt_above_s"]) == ([], 600)
    assert len(admin.get("/queues").json()) == 2  # the refused ones made nothing
    assert err(admin.delete(f"/queues/{spill}"))[0] == 409  # Main overflows into it


# ------------------------------------------------------------------ agents, users, skills
def test_agents_skills_and_capacity_change_and_deletion_is_refused_while_in_use(
        server: Server, admin: Api) -> None:
    tenant = tenant_of(admin)
    a = admin.post("/agents", json={"name": "Cap", "skills": {"en": 3}}).json()["id"]
    r = admin.patch(f"/agents/{a}", json={"skills": {"en": 5, "de": 1},
                                          "capacity": {"chat": 2, "voice": 1}})
    assert r.status_code == 200, r.text
    got = admin.get(f"/agents/{a}").json()
    assert got["skills"] == {"en": 5, "de": 1} and got["capacity"] == {"chat": 2, "voice": 1}
    assert {"name": "de"} in admin.get("/skills").json()
    assert err(admin.patch(f"/agents/{a}", json={"skills": {"en": 11}})) == (
        422, "invalid_config", "skills.en")
    assert err(admin.patch(f"/agents/{a}", json={"capacity": {"chat": 101}})) == (
        422, "invalid_config", "capacity.chat")
    assert err(admin.patch(f"/agents/{a}", json={"capacity": {"fax": 1}}))[0] == 422
    assert err(admin.patch(f"/agents/{a}", json={"name": None})) == (422, "invalid", "name")
    assert admin.get(f"/agents/{a}").json()["skills"] == {"en": 5, "de": 1}
    # a chat queue now routes to it by its new skill
    q = admin.post("/queues", json={"name": "De", "skills": {"de": 1},
                                    "members": [a]}).json()["id"]
    admin.post(f"/agents/{a}/status", json={"status": "ready"})
    it = admin.post("/interactions", json={"queue": q}).json()
    assert it["offered_to"] == [a]
    assert err(admin.delete(f"/agents/{a}")) == (409, "conflict", "agent")  # logged in
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    sup.post(f"/interactions/{it['id']}/reject", json={"agent": a})
    admin.post(f"/agents/{a}/status", json={"status": "offline"})
    refused = admin.delete(f"/agents/{a}")
    assert err(refused) == (409, "conflict", "agent") and "De" in refused.json()[
        "error"]["message"]  # a queue's members name it
    admin.patch(f"/queues/{q}", json={"members": None})
    linked, _ = new_user(server, "agent", tenant=tenant, agent=a)
    assert linked in admin.delete(f"/agents/{a}").json()["error"]["message"]
    user = next(u for u in admin.get("/users").json() if u["username"] == linked)
    assert admin.delete(f"/users/{user['id']}").status_code == 204
    assert sup.patch(f"/agents/{a}", json={"name": "x"}).status_code == 403
    other = login(server, new_user(server)[0])
    assert other.patch(f"/agents/{a}", json={"name": "x"}).status_code == 404
    assert other.delete(f"/agents/{a}").status_code == 404
    assert admin.delete(f"/agents/{a}").status_code == 204
    assert admin.get(f"/agents/{a}").status_code == 404
    assert a not in [x["id"] for x in admin.get("/agents").json()]


def test_users_are_deleted_and_passwords_reset_and_skills_leave_the_catalogue(
        server: Server, admin: Api) -> None:
    tenant = tenant_of(admin)
    name, _ = new_user(server, "analyst", tenant=tenant)
    ann = login(server, name)
    uid = ann.get("/me").json()["id"]
    short = admin.post(f"/users/{uid}/password", json={"password": "short"})
    assert err(short) == (422, "invalid", "password")
    assert admin.post(f"/users/{uid}/password",
                      json={"password": "a new long secret"}).status_code == 204
    assert ann.get("/me").status_code == 401  # its tokens are revoked
    assert httpx.post(f"{server.url}/api/v1/auth/token",
                      json={"username": name, "password": PASSWORD}).status_code == 401
    ann = login(server, name, "a new long secret")
    me = admin.get("/me").json()["id"]
    assert err(admin.delete(f"/users/{me}")) == (409, "conflict", "user")
    other = login(server, new_user(server)[0])
    assert other.delete(f"/users/{uid}").status_code == 404
    assert admin.delete(f"/users/{uid}").status_code == 204
    assert ann.get("/me").status_code == 401
    assert admin.delete(f"/users/{uid}").status_code == 404
    # skills in use stay
    admin.post("/skills", json={"name": "spare"})
    admin.post("/agents", json={"name": "S", "skills": {"used": 1}})
    admin.post("/queues", json={"name": "Q", "steps": [{"after_s": 5,
                                                        "skills": {"stepped": 1}}]})
    for used in ("used", "stepped"):
        assert err(admin.delete(f"/skills/{used}")) == (409, "conflict", "name")
    assert admin.delete("/skills/spare").status_code == 204
    assert admin.delete("/skills/spare").status_code == 404
    assert {s["name"] for s in admin.get("/skills").json()} == {"used", "stepped"}
    assert admin.post("/skills", json={"name": "spare"}).status_code == 201  # back again


# ------------------------------------------------------------------ report downloads
def test_reports_download_as_csv_xlsx_and_parquet_in_the_tenants_zone(
        server: Server, admin: Api) -> None:
    import openpyxl
    import pyarrow.parquet as pq

    tenant = tenant_of(admin)
    admin.patch("/tenant", json={"timezone": "Asia/Kathmandu"})
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    q = admin.post("/queues", json={"name": "X"}).json()["id"]
    a = admin.post("/agents", json={"name": "Xa"}).json()["id"]
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    for _ in range(3):
        it = sup.post("/interactions", json={"queue": q}).json()["id"]
        sup.post(f"/interactions/{it}/accept", json={"agent": a})
        sup.post(f"/interactions/{it}/end", json={})
        sup.post(f"/interactions/{it}/wrapup", json={"agent": a})
    from zoneinfo import ZoneInfo
    today = datetime.now(ZoneInfo("Asia/Kathmandu")).date()
    period = {"from": today.isoformat(), "to": (today + timedelta(days=1)).isoformat()}
    as_json = admin.get("/reports/agent", params=period).json()
    explicit = admin.get("/reports/agent", params={**period, "tz": "Asia/Kathmandu"}).json()
    assert as_json == explicit  # the tenant's zone when tz is left out
    row = next(r for r in as_json if r["key"] == a)
    assert row["answered"] == 3
    got = admin.get("/reports/agent", params={**period, "format": "csv"})
    assert got.headers["content-disposition"] == (
        f'attachment; filename="switchboard-agent-{period["from"]}-{period["to"]}.csv"')
    table = list(csv.DictReader(io.StringIO(got.text)))
    assert [r["answered"] for r in table if r["key"] == a] == ["3"]
    xlsx = admin.get("/reports/agent", params={**period, "format": "xlsx"})
    assert xlsx.headers["content-type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content))
    sheet = book["agent"]
    rows = list(sheet.iter_rows(values_only=True))
    header = list(rows[0])
    by_key = {r[0]: dict(zip(header, r, strict=True)) for r in rows[1:]}
    assert by_key[a]["answered"] == 3 and by_key[a]["service_level"] == row["service_level"]
    assert {k: v for k, v in book["parameters"].iter_rows(values_only=True)}["tz"] == \
        "Asia/Kathmandu"
    parquet = admin.get("/reports/agent", params={**period, "format": "parquet"})
    data = pq.read_table(io.BytesIO(parquet.content))
    columns = data.to_pydict()
    i = columns["key"].index(a)
    assert columns["answered"][i] == 3 and columns["logged_in_s"][i] == row["logged_in_s"]
    assert b"Asia/Kathmandu" in data.schema.metadata[b"switchboard"]
    assert admin.get("/reports/agent", params={**period, "format": "pdf"}).status_code == 422
    hourly = admin.get("/reports/interval", params={**period, "interval": "60"}).json()
    assert sum(r["answered"] for r in hourly) == 3
    assert {r["key"][14:16] for r in hourly} == {"00"}  # whole hours
    bad = admin.get("/reports/interval", params={**period, "interval": "20"})
    assert err(bad) == (422, "invalid", "interval")
