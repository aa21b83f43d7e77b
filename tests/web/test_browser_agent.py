"""The agent desktop in Chromium: ready, an offer pops, accept, chat both ways,
hold, end, wrap-up with a disposition; in every language, nothing untranslated."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.server.conftest import Api, Server, login, new_user
from tests.web.conftest import (
    TABLET,
    main_thread_report,
    shot,
    untranslated,
    watch_main_thread,
    web_login,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
AREAS = ("agent",)


def _codes(admin: Api) -> bool:
    """Reason codes and dispositions for the tenant (when the server has them)."""
    made = []
    for path, code, label in (("/reason-codes", "break", "Coffee break"),
                              ("/dispositions", "resolved", "Resolved"),
                              ("/dispositions", "callback", "Call back later")):
        r = admin.post(path, json={"code": code, "label": label})
        made.append(r.status_code == 201)
    return all(made)


def _tenant(server: Server) -> tuple[Api, Api, str, str, str]:
    admin = login(server, new_user(server)[0])
    tenant = admin.get("/me").json()["tenant"]
    q = admin.post("/queues", json={"name": "Support", "skills": {"support": 1},
                                    "wrapup_s": 300, "ring_timeout_s": 120}).json()["id"]
    aid = admin.post("/agents", json={"name": "Ines", "skills": {"support": 5},
                                      "capacity": {"chat": 2, "voice": 1}}).json()["id"]
    user, _ = new_user(server, "agent", tenant=tenant, agent=aid)
    sup = login(server, new_user(server, "supervisor", tenant=tenant)[0])
    return admin, sup, q, aid, user


def _chat(sup: Api, q: str, name: str, text: str) -> str:
    r = sup.post("/interactions", json={
        "channel": "chat", "queue": q, "customer": {"name": name, "phone": "+33 1 42 68 53 00"},
        "attributes": {"order": "A-17"}})
    assert r.status_code == 201, r.text
    iid = str(r.json()["id"])
    assert sup.post(f"/interactions/{iid}/messages", json={"text": text}).status_code == 201
    return iid


def test_an_agent_takes_a_chat_from_offer_to_wrapup(web_server: Server,
                                                    new_page: Callable[..., Any]) -> None:
    admin, sup, q, aid, user = _tenant(web_server)
    assert _codes(admin), "the reason-code and disposition resources are missing"
    page = new_page("en")
    watch_main_thread(page)
    web_login(page, web_server, user)
    assert page.url.endswith("/agent")
    page.wait_for_selector("#desktop[data-loaded='1']")
    page.wait_for_selector("#feed-status[data-status='live']")
    assert page.inner_text("#agent-name") == "Ines"
    assert page.get_attribute("#status-badge", "data-status") == "offline"
    # not ready with the tenant's reason, then ready
    assert page.locator("#reason option").all_inner_texts() == ["Coffee break"]
    page.click("#go-not-ready")
    page.wait_for_selector("#status-badge[data-status='not_ready']")
    assert page.inner_text("#status-badge") == "Not ready: Coffee break"
    assert admin.get(f"/agents/{aid}").json()["reason"] == "break"
    page.click("#go-ready")
    page.wait_for_selector("#status-badge[data-status='ready']")
    assert re.fullmatch(r"0:0\d", page.inner_text("#status-timer"))
    # a chat arrives through the API: the screen pop
    iid = _chat(sup, q, "Camille Martin", "Bonjour, where is my order?")
    offer = page.wait_for_selector(f"[data-offer='{iid}']")
    assert "Incoming chat" in offer.inner_text() and "Camille Martin" in offer.inner_text()
    assert "+33142685300" in offer.inner_text() and "order: A-17" in offer.inner_text()
    assert "Support" in offer.inner_text()
    assert re.fullmatch(r"\d:\d\d", page.inner_text(f"[data-ring='{iid}']"))
    assert page.evaluate("document.activeElement.dataset.accept") == iid  # focus on Accept
    shot(page, "agent-offer-en")
    page.click(f"[data-accept='{iid}']")
    panel = page.wait_for_selector(f"#panel-{iid}")
    page.wait_for_selector(f"#panel-{iid} [data-contact-state='connected']")
    assert page.query_selector(f"[data-offer='{iid}']") is None
    assert "Bonjour, where is my order?" in panel.inner_text()
    # the agent answers (Enter sends) and the customer writes back (pushed on the feed)
    page.fill(f"#msg-{iid}", "Let me check that for you.")
    page.press(f"#msg-{iid}", "Enter")
    page.wait_for_selector(f"#panel-{iid} .msg.agent")
    sent = sup.get(f"/interactions/{iid}/messages").json()
    assert [(m["sender"], m["text"]) for m in sent] == [
        ("customer", "Bonjour, where is my order?"), ("agent", "Let me check that for you.")]
    assert sup.post(f"/interactions/{iid}/messages",
                    json={"text": "Thank you!"}).status_code == 201
    page.wait_for_selector(f"#panel-{iid} .msg.customer >> text=Thank you!")
    assert page.locator(f"#panel-{iid} .msg").count() == 3
    shot(page, "agent-chat-en")
    # hold, resume, end
    page.click(f"#panel-{iid} [data-action='hold']")
    page.wait_for_selector(f"#panel-{iid} [data-contact-state='held']")
    page.click(f"#panel-{iid} [data-action='resume']")
    page.wait_for_selector(f"#panel-{iid} [data-contact-state='connected']")
    page.click(f"#panel-{iid} [data-action='end']")
    page.wait_for_selector(f"#panel-{iid} .wrapup-form")
    assert re.fullmatch(r"[45]:\d\d", page.inner_text(f"[data-wrapup='{iid}']"))
    # wrap-up: the disposition is required (shown next to the field), then saved
    page.click(f"#panel-{iid} .wrapup-form button[type=submit]")
    page.wait_for_selector(f"#disp-{iid}[aria-invalid='true']")
    assert "Choose a disposition." in page.inner_text(f"#panel-{iid} .wrapup-form")
    page.select_option(f"#disp-{iid}", "resolved")
    page.fill(f"#notes-{iid}", "Parcel tracking sent.")
    shot(page, "agent-wrapup-en")
    page.click(f"#panel-{iid} .wrapup-form button[type=submit]")
    page.wait_for_selector(f"#panel-{iid}", state="detached")
    page.wait_for_selector("#today tbody tr >> text=resolved")
    assert "1 contact answered today" in page.inner_text("#today-summary")
    events = admin.get(f"/interactions/{iid}/events").json()
    wrap = [e for e in events if e["kind"] == "wrapup_ended"]
    assert [(w["disposition"], w["notes"]) for w in wrap] == [("resolved",
                                                               "Parcel tracking sent.")]
    assert page.get_attribute("#state-badge", "data-state") == "idle"
    shot(page, "agent-after-en")
    report = main_thread_report(page)
    print(f"agent desktop main thread: {report}")


def test_two_chats_at_once_transfer_and_reject(web_server: Server,
                                               new_page: Callable[..., Any]) -> None:
    admin, sup, q, _aid, user = _tenant(web_server)
    other_q = admin.post("/queues", json={"name": "Billing", "skills": {"billing": 1}}).json()["id"]
    page = new_page("en", *TABLET)
    web_login(page, web_server, user)
    page.wait_for_selector("#desktop[data-loaded='1']")
    page.click("#go-ready")
    page.wait_for_selector("#status-badge[data-status='ready']")
    first = _chat(sup, q, "Ann", "first")
    page.click(f"[data-accept='{first}']")
    page.wait_for_selector(f"#panel-{first} [data-contact-state='connected']")
    second = _chat(sup, q, "Bob", "second")
    page.click(f"[data-accept='{second}']")
    page.wait_for_selector(f"#tab-{second}[aria-selected='true']")
    assert page.locator(".contact-tab").count() == 2
    assert page.inner_text("#capacity") == "Chats: 2 of 2"
    # a message to the contact not shown counts as unread on its tab
    sup.post(f"/interactions/{first}/messages", json={"text": "still there?"})
    page.wait_for_selector(f"#tab-{first} .unread")
    page.focus(f"#tab-{second}")
    page.keyboard.press("ArrowLeft")  # keyboard between the tabs
    page.wait_for_selector(f"#tab-{first}[aria-selected='true']")
    assert page.query_selector(f"#tab-{first} .unread") is None
    shot(page, "agent-two-chats-tablet")
    # transfer the first to the other queue: it leaves the desktop
    page.select_option(f"#target-{first}", f"queue:{other_q}")
    page.click(f"#panel-{first} form.transfer button[type=submit]")
    page.wait_for_selector(f"#panel-{first}", state="detached")
    assert sup.get(f"/interactions/{first}").json()["queue"] == other_q
    # end the second; a third offer is rejected and goes back to the queue
    page.click(f"#panel-{second} [data-action='end']")
    page.wait_for_selector(f"#panel-{second} .wrapup-form")
    page.click(f"#panel-{second} .wrapup-form button[type=submit]")
    page.wait_for_selector(f"#panel-{second}", state="detached")
    assert page.get_attribute("#status-badge", "data-status") == "ready"  # still ready
    third = _chat(sup, q, "Cleo", "third")
    page.click(f"[data-reject='{third}']")
    page.wait_for_selector(f"[data-offer='{third}']", state="detached")
    assert sup.get(f"/interactions/{third}").json()["state"] in ("queued", "offered")


@pytest.mark.parametrize("lang", ["it", "fr", "zh"])
def test_the_desktop_in_each_language_has_no_untranslated_string(
        web_server: Server, new_page: Callable[..., Any], lang: str) -> None:
    admin, sup, q, _aid, user = _tenant(web_server)
    _codes(admin)
    page = new_page(lang)
    web_login(page, web_server, user)
    page.wait_for_selector("#desktop[data-loaded='1']")
    page.wait_for_selector("#feed-status[data-status='live']")
    assert page.get_attribute("html", "data-lang") == lang
    assert untranslated(page, lang, AREAS) == []
    page.click("#go-ready")
    page.wait_for_selector("#status-badge[data-status='ready']")
    iid = _chat(sup, q, "Li Wei", "你好")
    page.wait_for_selector(f"[data-offer='{iid}']")
    assert untranslated(page, lang, AREAS) == []
    shot(page, f"agent-offer-{lang}")
    page.click(f"[data-accept='{iid}']")
    page.wait_for_selector(f"#panel-{iid} [data-contact-state='connected']")
    page.fill(f"#msg-{iid}", "ok")
    page.press(f"#msg-{iid}", "Enter")
    page.wait_for_selector(f"#panel-{iid} .msg.agent")
    assert untranslated(page, lang, AREAS) == []
    shot(page, f"agent-chat-{lang}")
    page.click(f"#panel-{iid} [data-action='end']")
    page.wait_for_selector(f"#panel-{iid} .wrapup-form")
    page.click(f"#panel-{iid} .wrapup-form button[type=submit]")  # the missing disposition
    page.wait_for_selector(".field-error")
    assert untranslated(page, lang, AREAS) == []
    shot(page, f"agent-wrapup-{lang}")


def test_the_desktop_is_for_agents_only(web_server: Server,
                                        new_page: Callable[..., Any]) -> None:
    anon = httpx.get(f"{web_server.url}/agent", follow_redirects=False)
    assert anon.status_code == 303 and anon.headers["location"] == "/?next=/agent"
    admin, _sup, _q, _aid, _user = _tenant(web_server)
    tenant = admin.get("/me").json()["tenant"]
    analyst, _ = new_user(web_server, "analyst", tenant=tenant)
    page = new_page("en")
    web_login(page, web_server, analyst)
    response = page.goto(f"{web_server.url}/agent")
    assert response is not None and response.status == 403
    assert "Not allowed" in page.inner_text("h1")
