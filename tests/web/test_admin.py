"""The administration page in Chromium: an admin creates a queue (strategy,
skills, an expansion step, overflow) and a reason code; the browser's checks
and the server's refusals show next to their field; every section in four
languages, at 1280x800 and 768 px; keyboard only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.server.conftest import Api, Server, login, new_user
from tests.web.conftest import TABLET, shot, untranslated, web_login

pytestmark = [pytest.mark.slow, pytest.mark.browser]

SECTIONS = ("users", "agents", "queues", "reason-codes", "dispositions", "hours", "holidays",
            "tenant")


def admin_page(server: Server, new_page: Callable[..., Any], lang: str = "en",
               size: tuple[int, int] = (1280, 800)) -> tuple[Any, Api]:
    """A fresh tenant's admin, logged in through the form, on /admin (loaded)."""
    name, _ = new_user(server, "admin")
    api = login(server, name)
    page = new_page(lang, *size)
    web_login(page, server, name)
    assert page.url.endswith("/admin")
    page.wait_for_selector("body[data-loaded='1']")
    return page, api


def open_section(page: Any, section: str) -> None:
    page.click(f".admin-nav a[href='#{section}']")
    page.wait_for_selector(f"#{section}:not([hidden])")


def test_an_admin_creates_a_queue_and_a_reason_code(web_server: Server,
                                                    new_page: Callable[..., Any]) -> None:
    page, api = admin_page(web_server, new_page)
    spill = api.post("/queues", json={"name": "Spillover"}).json()["id"]
    ann = api.post("/agents", json={"name": "Ann Example", "skills": {"billing": 4}}).json()
    page.reload()
    page.wait_for_selector("body[data-loaded='1']")
    open_section(page, "queues")
    page.click("#queues .new-item")
    page.fill("#queue-name", "Billing")
    page.select_option("#queue-strategy", "best_skill")
    page.fill("#queue-sl", "30")
    page.click("#queues-form .skills-editor .add-skill")
    page.fill("#queues-form .skill-row .skill-name", "billing")
    page.fill("#queues-form .skill-row .skill-level", "3")
    page.click("#queues-form .add-step")
    page.fill("[name='steps[0].after_s']", "45")
    page.fill("[name='steps[0].skills']", "billing:1")
    page.select_option("[name='steps[0].add_agents']", [ann["id"]])
    page.click("#queues-form .add-overflow")
    page.select_option("[name='overflow[0].to_queue']", spill)
    page.fill("[name='overflow[0].after_s']", "120")
    shot(page, "admin-queue-form-en")
    page.click("#queues-form button[type=submit]")
    page.wait_for_selector("#queues-form", state="hidden")
    page.wait_for_selector("#queues-table td:has-text('Billing')")
    q = next(x for x in api.get("/queues").json() if x["name"] == "Billing")
    assert (q["strategy"], q["skills"], q["sl_threshold_s"]) == ("best_skill", {"billing": 3}, 30)
    assert q["steps"] == [{"after_s": 45, "skills": {"billing": 1}, "add_agents": [ann["id"]],
                           "add_queues": []}]
    assert q["overflow"] == [{"to_queue": spill, "after_s": 120, "ewt_above_s": None}]
    row = page.locator("#queues-table tr", has_text="Billing")
    assert "Best skill level" in row.inner_text() and "Spillover" in row.inner_text()

    open_section(page, "reason-codes")
    page.click("#reason-codes .new-item")
    page.fill("#reason-codes-code", "lunch")
    page.fill("#reason-codes-label", "Lunch break")
    page.click("#reason-codes-form button[type=submit]")
    page.wait_for_selector("#reason-codes-table td:has-text('Lunch break')")
    assert [(c["code"], c["label"]) for c in api.get("/reason-codes").json()] == [
        ("lunch", "Lunch break")]
    actions = [a["action"] for a in api.get("/audit").json()]
    assert actions[-2:] == ["POST /queues", "POST /reason-codes"]
    shot(page, "admin-reason-codes-en")


def test_invalid_forms_show_the_error_next_to_the_field(web_server: Server,
                                                        new_page: Callable[..., Any]) -> None:
    page, api = admin_page(web_server, new_page)
    api.post("/reason-codes", json={"code": "lunch", "label": "Lunch"})
    open_section(page, "reason-codes")
    page.click("#reason-codes .new-item")
    page.fill("#reason-codes-code", "lunch")
    page.fill("#reason-codes-label", "Another lunch")
    page.click("#reason-codes-form button[type=submit]")
    # the server's refusal (409, field "code") next to the code field
    error = page.wait_for_selector("#reason-codes-form .field:has(#reason-codes-code) .field-error")
    assert error.inner_text() == "reason code 'lunch' exists"
    assert page.get_attribute("#reason-codes-code", "aria-invalid") == "true"
    assert page.evaluate("document.activeElement.id") == "reason-codes-code"
    shot(page, "admin-server-error-en")
    assert len(api.get("/reason-codes").json()) == 1

    # the browser's own checks stop a bad form before any request
    open_section(page, "hours")
    page.click("#hours .new-item")
    page.fill("#hours-name", "main")
    page.fill("#hours-mon", "08:00-12:00, 11:00-13:00")
    page.fill("#hours-tue", "8-12")
    page.click("#hours-form button[type=submit]")
    page.wait_for_selector("#hours-form .field-error")
    errors = {e.get_attribute("id"): e.inner_text()
              for e in page.query_selector_all("#hours-form .field-error")}
    assert errors == {"err-hours-mon": "08:00-12:00 and 11:00-13:00 overlap.",
                      "err-hours-tue": "8-12 is not a range like 08:00-12:00."}
    assert api.get("/business-hours").json() == []
    # a queue that overflows into itself: the engine's refusal under the row's field
    q = api.post("/queues", json={"name": "Loop"}).json()["id"]
    page.reload()
    page.wait_for_selector("body[data-loaded='1']")
    open_section(page, "queues")
    page.click(f"#queues-table tr[data-id='{q}'] button:has-text('Edit')")
    page.click("#queues-form .add-step")
    page.fill("[name='steps[0].after_s']", "10")
    page.fill("[name='steps[0].skills']", "french:11")
    page.click("#queues-form button[type=submit]")
    step_error = page.wait_for_selector("#queues-form .field:has([name='steps[0].skills']) "
                                        ".field-error")
    assert "name:level" in step_error.inner_text()  # the browser's check
    page.fill("[name='steps[0].skills']", "")
    page.fill("#queue-wrapup", "4000")  # over the server's 3600
    page.evaluate("document.getElementById('queue-wrapup').removeAttribute('max')")
    page.click("#queues-form button[type=submit]")
    server_error = page.wait_for_selector("#queues-form .field:has(#queue-wrapup) .field-error")
    assert "3600" in server_error.inner_text()  # the server's 422, field wrapup_s
    assert api.get(f"/queues/{q}").json()["wrapup_s"] == 0


def test_keyboard_alone_creates_a_disposition(web_server: Server,
                                              new_page: Callable[..., Any]) -> None:
    page, api = admin_page(web_server, new_page)
    page.focus(".admin-nav a[href='#dispositions']")
    page.keyboard.press("Enter")
    page.wait_for_selector("#dispositions:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "dispositions-title"
    page.keyboard.press("Tab")  # the section's "New" button
    assert page.evaluate("document.activeElement.className").endswith("new-item")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "dispositions-code"
    page.keyboard.type("sold")
    page.keyboard.press("Tab")
    page.keyboard.type("Sale made")
    page.keyboard.press("Enter")  # submits the form
    page.wait_for_selector("#dispositions-table td:has-text('Sale made')")
    assert [c["code"] for c in api.get("/dispositions").json()] == ["sold"]
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # focus went back to the new row's button, visibly


@pytest.mark.parametrize("lang", ["en", "it", "fr", "zh"])
def test_every_section_in_each_language(web_server: Server, new_page: Callable[..., Any],
                                        lang: str) -> None:
    page, api = admin_page(web_server, new_page, lang)
    a = api.post("/agents", json={"name": "Bea", "skills": {"sales": 2}}).json()["id"]
    q = api.post("/queues", json={"name": "Sales", "steps": [{"after_s": 30}]}).json()["id"]
    api.post("/queues", json={"name": "Backup", "overflow": [{"to_queue": q, "after_s": 60}]})
    api.post("/reason-codes", json={"code": "lunch", "label": "Lunch"})
    hours = api.post("/business-hours", json={"name": "main", "weekly": {
        "mon": ["08:00-18:00"]}}).json()["id"]
    api.post("/holidays", json={"date": "2030-12-25", "name": "Xmas", "business_hours": hours})
    api.post("/users", json={"username": f"bea-{lang}-{a[:6]}", "password": "long enough pw",
                             "role": "agent", "agent": a})
    page.reload()
    page.wait_for_selector("body[data-loaded='1']")
    for section in SECTIONS:
        open_section(page, section)
        new = page.query_selector(f"#{section} .new-item")
        if new is not None:
            new.click()
            if section == "queues":  # the rows' strings too
                page.click("#queues-form .add-skill")
                page.click("#queues-form .add-step")
                page.click("#queues-form .add-overflow")
            page.click(f"#{section}-form button[type=submit]")  # empty: every check shows
            page.wait_for_selector(f"#{section}-form .field-error")
        assert untranslated(page, lang, ("admin",)) == [], section
        shot(page, f"admin-{section}-{lang}")
    tablet = new_page(lang, *TABLET)
    name, _ = new_user(web_server, "admin", tenant=api.get("/me").json()["tenant"])
    web_login(tablet, web_server, name)
    tablet.wait_for_selector("body[data-loaded='1']")
    open_section(tablet, "queues")
    tablet.click(f"#queues-table tr[data-id='{q}'] td.actions button >> nth=0")  # Edit
    width = tablet.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET[0]  # nothing wider than the tablet's screen
    assert untranslated(tablet, lang, ("admin",)) == []
    shot(tablet, f"admin-queues-tablet-{lang}")
