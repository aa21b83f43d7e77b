"""Reports from the event log, and today's figures in the queue stats (equal to them)."""

from __future__ import annotations

import csv
import io
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from switchboard.metrics import EXPORT_NAMES
from switchboard.server.reports import day_end, day_start, instant
from tests.server.conftest import Api, Server, login, new_user

ZONES = ("UTC", "Asia/Kathmandu")


def _day(tz: str) -> tuple[str, str]:
    today = datetime.now(ZoneInfo(tz)).date()
    return today.isoformat(), (today + timedelta(days=1)).isoformat()


def _traffic(server: Server, admin: Api) -> tuple[str, str]:
    """One contact answered and wrapped up, one that leaves the queue on its
    timeout (an exit: offered, neither answered nor abandoned): (queue, agent).
    The queue's stats are read first, so that today's figures are then kept up
    to date from the runtime's committed events (not read back from the log)."""
    tenant = admin.get("/me").json()["tenant"]
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    q = admin.post("/queues", json={"name": "R", "timeout_s": 0.3}).json()["id"]
    for tz in ZONES:
        today = admin.get(f"/queues/{q}/stats", params={"tz": tz}).json()["today"]
        assert (today["offered"], today["service_level"]) == (0, None)
    a = admin.post("/agents", json={"name": "Ra"}).json()["id"]
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    c1 = sup.post("/interactions", json={"queue": q, "channel": "voice"}).json()["id"]
    assert sup.post(f"/interactions/{c1}/accept", json={"agent": a}).status_code == 200
    c2 = sup.post("/interactions", json={"queue": q, "channel": "voice"}).json()["id"]
    deadline = time.monotonic() + 5
    while sup.get(f"/interactions/{c2}").json()["state"] == "queued":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    sup.post(f"/interactions/{c1}/end", json={})
    sup.post(f"/interactions/{c1}/wrapup", json={"agent": a})
    return q, a


def test_queue_report_equals_todays_stats_in_json_and_csv(server: Server,
                                                          admin: Api) -> None:
    q, a = _traffic(server, admin)
    for tz in ZONES:
        today = admin.get(f"/queues/{q}/stats", params={"tz": tz}).json()["today"]
        start, end = _day(tz)
        assert today.pop("from") == instant(start, ZoneInfo(tz), "from")
        r = admin.get("/reports/queue", params={"from": start, "to": end, "tz": tz})
        assert r.status_code == 200, r.text
        rows = {row.pop("key"): row for row in r.json()}
        assert rows[q] == today
    assert (today["offered"], today["answered"], today["abandoned"]) == (2, 1, 0)
    assert today["service_level"] == 1.0  # answered at once; the exit is not counted
    assert (today["transfers"], today["callbacks"], today["overflows"]) == (0, 0, 0)
    start, end = _day("UTC")
    text = admin.get("/reports/queue", params={"from": start, "to": end,
                                               "format": "csv"})
    assert text.headers["content-type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(text.text)))
    assert table[0] == ["key", *EXPORT_NAMES]
    row = dict(zip(table[0], next(r for r in table[1:] if r[0] == q), strict=True))
    assert (row["offered"], row["answered"], row["service_level"]) == ("2", "1", "1.0")
    by_interval = admin.get("/reports/interval", params={"from": start, "to": end}).json()
    assert sum(r["offered"] for r in by_interval) == 2
    agents = admin.get("/reports/agent", params={"from": start, "to": end}).json()
    # the contact no agent answered is reported under the empty key
    by_agent = {r["key"]: r for r in agents}
    assert {k: (r["offered"], r["answered"]) for k, r in by_agent.items()} == {
        a: (1, 1), "": (1, 0)}
    assert by_agent[a]["logged_in_s"] > 0
    empty = admin.get("/reports/queue", params={"from": 0, "to": 1}).json()
    assert empty == []


def test_today_is_null_free_of_contacts_and_bad_parameters_are_4xx(server: Server,
                                                                   admin: Api) -> None:
    q = admin.post("/queues", json={"name": "Quiet"}).json()["id"]
    today = admin.get(f"/queues/{q}/stats").json()["today"]
    assert (today["offered"], today["answered"], today["service_level"]) == (0, 0, None)
    cases = [({"from": "0", "to": "1", "tz": "Mars/Olympus"}, "tz"),
             ({"from": "10", "to": "5"}, "to"),
             ({"from": "yesterday", "to": "5"}, "from")]
    for params, field in cases:
        r = admin.get("/reports/day", params=params)
        assert (r.status_code, r.json()["error"]["field"]) == (422, field), r.text
    assert admin.get("/reports/week", params={"from": 0, "to": 1}).status_code == 422
    for tz in ("a" * 300, "Europe/../UTC", ""):  # a name too long for a file: not a 500
        bad = admin.get(f"/queues/{q}/stats", params={"tz": tz})
        assert (bad.status_code, bad.json()["error"]["field"]) == (422, "tz")
    far = admin.get("/reports/day", params={"from": "0001-01-01", "to": "2000-01-01",
                                            "tz": "Pacific/Kiritimati"})
    assert far.status_code == 200 and far.json() == []
    tenant = admin.get("/me").json()["tenant"]
    agent = admin.post("/agents", json={"name": "No"}).json()["id"]
    me = login(server, new_user(server, "agent", tenant=tenant, agent=agent)[0])
    assert me.get("/reports/day", params={"from": 0, "to": 1}).status_code == 403


def test_local_days_follow_the_zone_across_dst() -> None:
    rome = ZoneInfo("Europe/Rome")
    noon = datetime(2026, 3, 29, 12, tzinfo=rome).timestamp()  # spring forward: 23 h
    start = day_start(noon, rome)
    assert start == datetime(2026, 3, 28, 23, tzinfo=UTC).timestamp()
    assert day_end(start, rome) - start == 23 * 3600
    assert instant("2026-03-29T00:00", rome, "from") == start
    assert instant("1700000000.5", rome, "from") == 1700000000.5
