"""The reports page in Chromium: queue, agent, day and interval reports for a
period as a table and an SVG chart; CSV, XLSX and Parquet downloads that open
with the csv module, openpyxl and pyarrow and hold the report's rows; four
languages, 1280x800 and 768 px."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.server.conftest import Api, Server, login, new_user
from tests.web.conftest import TABLET, shot, untranslated, web_login

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ZONE = "America/New_York"


def traffic(server: Server) -> tuple[Api, str, dict[str, str]]:
    """A tenant in New York with two queues and two agents: 3 contacts answered
    in Sales (2 by Ann, 1 by Bo), 1 in Support by Bo; (admin, tenant, ids)."""
    name, tenant = new_user(server, "admin")
    admin = login(server, name)
    admin.patch("/tenant", json={"timezone": ZONE})
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    ids = {"sales": admin.post("/queues", json={"name": "Sales"}).json()["id"],
           "support": admin.post("/queues", json={"name": "Support"}).json()["id"],
           "ann": admin.post("/agents", json={"name": "Ann"}).json()["id"],
           "bo": admin.post("/agents", json={"name": "Bo"}).json()["id"]}
    for queue, agent in (("sales", "ann"), ("sales", "ann"), ("sales", "bo"), ("support", "bo")):
        sup.post(f"/agents/{ids[agent]}/status", json={"status": "ready"})
        other = "bo" if agent == "ann" else "ann"
        sup.post(f"/agents/{ids[other]}/status", json={"status": "offline"})
        it = sup.post("/interactions", json={"queue": ids[queue]}).json()["id"]
        assert sup.post(f"/interactions/{it}/accept",
                        json={"agent": ids[agent]}).status_code == 200
        sup.post(f"/interactions/{it}/end", json={})
        sup.post(f"/interactions/{it}/wrapup", json={"agent": ids[agent]})
    return admin, tenant, ids


def today() -> str:
    return datetime.now(ZoneInfo(ZONE)).date().isoformat()


def reports_page(server: Server, new_page: Callable[..., Any], tenant: str, lang: str = "en",
                 size: tuple[int, int] = (1280, 800)) -> Any:
    analyst, _ = new_user(server, "analyst", tenant=tenant)
    page = new_page(lang, *size)
    web_login(page, server, analyst)
    assert page.url.endswith("/reports")
    page.wait_for_selector("body[data-loaded='1']")
    return page


def show(page: Any, by: str) -> None:
    page.select_option("#report-by", by)
    page.click("#report-form button[type=submit]")
    page.wait_for_selector(f"#report-result[data-by='{by}'][aria-busy='false']")


def download(page: Any, fmt: str, tmp: Path) -> Path:
    with page.expect_download() as info:
        page.click(f".export[data-format='{fmt}']")
    d = info.value
    assert d.suggested_filename.startswith("switchboard-") and d.suggested_filename.endswith(fmt)
    path = tmp / d.suggested_filename
    d.save_as(path)
    return path


def test_a_queue_report_shows_and_downloads_the_same_rows(
        web_server: Server, new_page: Callable[..., Any], tmp_path: Path) -> None:
    import openpyxl
    import pyarrow.parquet as pq

    admin, tenant, ids = traffic(web_server)
    page = reports_page(web_server, new_page, tenant)
    assert page.input_value("#report-tz") == ZONE  # the tenant's zone
    assert page.input_value("#report-from") == today()
    show(page, "queue")
    rows = page.locator("#report-table tbody tr")
    assert rows.count() == 2
    sales = page.locator("#report-table tbody tr", has_text="Sales")
    assert sales.locator("td").first.inner_text() == "3"  # offered
    assert page.locator("#chart svg > rect.bar.answered").count() == 2
    shot(page, "reports-queue-en")
    api_rows = admin.get("/reports/queue", params={"from": today(), "to": "2100-01-01"}).json()
    by_key = {r["key"]: r for r in api_rows}

    text = download(page, "csv", tmp_path).read_text()
    table = {r["key"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(table) == {ids["sales"], ids["support"]}
    assert [table[ids[q]]["offered"] for q in ("sales", "support")] == ["3", "1"]
    assert table[ids["sales"]]["answered"] == str(by_key[ids["sales"]]["answered"])

    book = openpyxl.load_workbook(download(page, "xlsx", tmp_path))
    sheet = list(book["queue"].iter_rows(values_only=True))
    header = list(sheet[0])
    xrows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet[1:]}
    assert (xrows[ids["sales"]]["offered"], xrows[ids["support"]]["answered"]) == (3, 1)
    params = dict(book["parameters"].iter_rows(values_only=True))
    assert (params["tz"], params["from"]) == (ZONE, today())

    data = pq.read_table(download(page, "parquet", tmp_path)).to_pydict()
    i = data["key"].index(ids["sales"])
    assert (data["offered"][i], data["answered"][i]) == (3, 3)


def test_agent_day_and_interval_reports_with_charts(
        web_server: Server, new_page: Callable[..., Any], tmp_path: Path) -> None:
    _, tenant, ids = traffic(web_server)
    page = reports_page(web_server, new_page, tenant)
    show(page, "agent")
    ann = page.locator("#report-table tbody tr", has_text="Ann")
    assert ann.locator("td").first.inner_text() == "2"  # answered
    assert page.locator("#chart svg > rect.bar.answered").count() == 2  # Ann and Bo
    text = download(page, "csv", tmp_path).read_text()
    answered = {r["key"]: r["answered"] for r in csv.DictReader(io.StringIO(text))}
    assert (answered[ids["ann"]], answered[ids["bo"]]) == ("2", "2")
    show(page, "day")
    assert page.locator("#report-table tbody tr").count() == 1
    assert page.locator("#report-table tfoot td").first.inner_text() == "4"
    page.select_option("#report-by", "interval")  # shows the interval length
    page.select_option("#report-interval", "60")
    show(page, "interval")
    assert page.locator("#report-table tbody tr").count() >= 1
    assert page.locator("#chart svg path.line.sl").count() == 1
    assert page.locator("#report-table tfoot td").first.inner_text() == "4"
    shot(page, "reports-interval-en")
    # a period the browser refuses: no request, the error next to the field
    page.fill("#report-from", "2030-02-10")
    page.fill("#report-to", "2030-02-01")
    page.click("#report-form button[type=submit]")
    assert page.inner_text("#report-form .field:has(#report-to) .field-error") == \
        "The end comes before the start."
    assert page.get_attribute(".export[data-format='csv']", "aria-disabled") == "true"


@pytest.mark.parametrize("lang", ["en", "it", "fr", "zh"])
def test_the_reports_page_in_each_language(web_server: Server, new_page: Callable[..., Any],
                                           lang: str) -> None:
    _, tenant, _ = traffic(web_server)
    page = reports_page(web_server, new_page, tenant, lang)
    for by in ("interval", "day", "queue", "agent"):
        show(page, by)
        assert untranslated(page, lang, ("reports",)) == [], by
        shot(page, f"reports-{by}-{lang}")
    tablet = reports_page(web_server, new_page, tenant, lang, TABLET)
    show(tablet, "queue")
    assert tablet.evaluate("document.documentElement.scrollWidth") <= TABLET[0]
    assert untranslated(tablet, lang, ("reports",)) == []
    shot(tablet, f"reports-queue-tablet-{lang}")


def test_the_interval_chart_fills_the_empty_intervals_across_a_dst_change(
        web_server: Server, new_page: Callable[..., Any]) -> None:
    _, tenant, _ = traffic(web_server)
    page = reports_page(web_server, new_page, tenant)
    # New York springs forward at 02:00 on 2025-03-09: 01:30 EST is followed by 03:00 EDT
    rows = [{"key": "2025-03-09T01:00:00-05:00", "offered": 2, "answered": 1, "service_level": .5},
            {"key": "2025-03-09T04:00:00-04:00", "offered": 3, "answered": 3, "service_level": 1}]
    got = page.evaluate("""(rows) => import('/static/js/reports/chart.js').then(
        (m) => m.everyInterval(rows, {interval: '30', tz: 'America/New_York'}))""", rows)
    assert [r["key"][11:16] for r in got] == ["01:00", "01:30", "03:00", "03:30", "04:00"]
    assert [r["offered"] for r in got] == [2, 0, 0, 0, 3]
    assert got[1]["service_level"] is None
