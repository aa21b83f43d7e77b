"""The supervisor wallboard in headless Chromium against a real server: live
updates (the delay from an API call to the DOM change, measured and saved),
the page's figures against the reports, the supervisor's actions through the
page, the four languages, and the 1280x800 and tablet layouts."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.conftest import Api, Server, login, new_user
from tests.web.conftest import TABLET, cookie_session, shot, untranslated, web_login

pytestmark = [pytest.mark.slow, pytest.mark.browser]
RESULTS = Path(__file__).resolve().parents[2] / "test-artifacts"

# Sets window.__seen to Date.now() at the first DOM mutation after which every
# condition holds: [selector, data attribute or "text", expected value or text
# contained]. (A MutationObserver: the moment the page changed the DOM; no
# eval, which the page's Content-Security-Policy forbids.)
WATCH = """
(conds) => {
  window.__seen = null;
  const holds = ([sel, key, want]) => {
    const node = document.querySelector(sel);
    if (!node) return false;
    return key === "text" ? node.textContent.includes(want) : node.dataset[key] === want;
  };
  const obs = new MutationObserver(() => {
    if (window.__seen === null && conds.every(holds)) {
      window.__seen = Date.now();
      obs.disconnect();
    }
  });
  obs.observe(document.body, { subtree: true, childList: true, characterData: true,
                               attributes: true });
}
"""


def _team(server: Server) -> tuple[Api, Api, str, str]:
    """(admin API, supervisor API, supervisor user name, tenant) of a fresh tenant."""
    name, tenant = new_user(server)
    admin = login(server, name)
    sup_name, _ = new_user(server, "supervisor", tenant=tenant)
    return admin, login(server, sup_name), sup_name, tenant


def _open(page: Any, server: Server, username: str) -> None:
    web_login(page, server, username)
    assert page.url.endswith("/wallboard"), page.url  # a supervisor's home page
    page.wait_for_function("() => window.__wallboard && window.__wallboard.live()")


def _delay_ms(page: Any, conds: list[tuple[str, str, str]], act: Any) -> float:
    """Milliseconds from just before ``act()`` (an API call) to the DOM change
    after which every condition of ``conds`` holds (see WATCH)."""
    page.evaluate(WATCH, conds)
    t0 = time.time() * 1000
    act()
    page.wait_for_function("() => window.__seen !== null", timeout=10_000)
    return float(page.evaluate("window.__seen")) - t0


def _save(name: str, data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"\n{name}: {json.dumps(data)}")


def test_the_supervisor_sees_a_queue_and_an_agent_change_within_a_second(
        web_server: Server, new_page: Any) -> None:
    admin, sup, sup_name, _ = _team(web_server)
    q = admin.post("/queues", json={"name": "Sales"}).json()["id"]
    a = admin.post("/agents", json={"name": "Ann Lee"}).json()["id"]
    page = new_page()
    _open(page, web_server, sup_name)
    tile, row = f"[data-queue='{q}']", f"[role=row][data-agent='{a}']"
    assert page.text_content(f"{tile} .wb-queue-name") == "Sales"
    page.focus(f"{tile} [data-figure=service_level] .metric-name")  # the definition, by keyboard
    assert page.is_visible("#wb-tip")
    assert page.text_content("#wb-tip") == ("Service level: Contacts answered within the "
                                            "threshold ÷ (answered + abandoned).")
    page.keyboard.press("Escape")
    assert not page.is_visible("#wb-tip")
    delays: dict[str, Any] = {
        "agent_ready_ms": _delay_ms(
            page, [(row, "presence", "available")],
            lambda: sup.post(f"/agents/{a}/status", json={"status": "ready"})),
        "agent_not_ready_ms": _delay_ms(
            page, [(f"{row} .status", "text", "coffee")],
            lambda: sup.post(f"/agents/{a}/status",
                             json={"status": "not_ready", "reason": "coffee"})),
        "queue_waiting_ms": _delay_ms(
            page, [(f"{tile} [data-figure=waiting] .figure", "value", "1"),
                   (f"{tile} [data-figure=offered] .figure", "offered", "1")],
            lambda: sup.post("/interactions", json={"queue": q, "channel": "voice"})),
    }
    assert page.evaluate("Object.keys(window.__wallboard.figures().queues)") == [q]
    # the agent is offered the contact, accepts: its current contact, the queue's answered
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    page.wait_for_selector(f"{row}[data-presence='reserved']")
    page.wait_for_function("(sel) => document.querySelector(sel).dataset.contact",
                           arg=f"{row} .contact")
    iid = page.get_attribute(f"{row} .contact", "data-contact")
    delays["contact_answered_ms"] = _delay_ms(
        page, [(f"{tile} [data-figure=offered] .figure", "answered", "1"),
               (row, "presence", "busy")],
        lambda: sup.post(f"/interactions/{iid}/accept", json={"agent": a}))
    assert "Sales" in (page.text_content(f"{row} .contact") or "")
    stats = page.evaluate("window.__wallboard.stats()")
    assert stats["events"] > 0 and stats["refreshes"] > 0
    _save("wallboard-latency.json", {k: round(v, 1) if isinstance(v, float) else v
                                     for k, v in delays.items()})
    shot(page, "wallboard-live")


def _today() -> dict[str, str]:
    day = datetime.now(UTC).date()
    return {"from": day.isoformat(), "to": (day + timedelta(days=1)).isoformat()}


def test_the_pages_figures_are_the_reports(web_server: Server, new_page: Any) -> None:
    admin, sup, sup_name, _ = _team(web_server)
    q1 = admin.post("/queues", json={"name": "Billing", "timeout_s": 0.5,
                                     "wrapup_s": 60}).json()["id"]
    q2 = admin.post("/queues", json={"name": "Care"}).json()["id"]
    a = admin.post("/agents", json={"name": "Bo"}).json()["id"]
    page = new_page()
    _open(page, web_server, sup_name)
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    c1 = sup.post("/interactions", json={"queue": q1, "channel": "voice"}).json()["id"]
    time.sleep(0.2)
    sup.post(f"/interactions/{c1}/accept", json={"agent": a})
    sup.post("/interactions", json={"queue": q1, "channel": "voice"})  # leaves on timeout
    c3 = sup.post("/interactions", json={"queue": q2, "channel": "voice"}).json()["id"]
    sup.post(f"/interactions/{c1}/end", json={})
    sup.post(f"/interactions/{c1}/wrapup", json={"agent": a})
    sup.post(f"/interactions/{c3}/accept", json={"agent": a})
    time.sleep(1.0)  # the timeout exit
    want = {r.pop("key"): r for r in sup.get("/reports/queue", params=_today()).json()}
    trend = sup.get("/reports/interval", params=_today()).json()
    page.wait_for_function(
        "([q, n]) => window.__wallboard.figures().queues[q].offered === n", arg=[q1, 2])
    deadline = time.monotonic() + 5
    while True:
        shown = page.evaluate("window.__wallboard.figures()")
        got = {k: {n: v for n, v in row.items() if n != "from"}
               for k, row in shown["queues"].items()}
        if (got, shown["trend"]) == ({q1: want[q1], q2: want[q2]}, trend) \
                or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert got == {q1: want[q1], q2: want[q2]}
    assert shown["trend"] == trend
    # and the DOM shows those figures
    for q in (q1, q2):
        fig = f"[data-queue='{q}'] [data-figure=offered] .figure"
        assert page.get_attribute(fig, "data-offered") == str(want[q]["offered"])
        assert page.get_attribute(fig, "data-answered") == str(want[q]["answered"])
        for figure in ("service_level", "asa_s", "abandon_rate"):
            shown_value = page.get_attribute(
                f"[data-queue='{q}'] [data-figure={figure}] .figure", "data-value")
            if want[q][figure] is None:
                assert shown_value == ""
            else:
                assert shown_value is not None and float(shown_value) == want[q][figure]
    sl_text = page.text_content(f"[data-queue='{q1}'] [data-figure=service_level] .figure")
    assert sl_text == "100.0%"  # en: Intl percent with one decimal
    rows = page.locator("#wb-trend-table tbody tr")
    assert rows.count() == len(trend)


def _dialog_button(page: Any, text: str) -> Any:
    return page.locator("#wb-dialog").get_by_role("button", name=text, exact=True)


def test_the_actions_work_from_the_page(web_server: Server, new_page: Any) -> None:
    admin, sup, sup_name, _ = _team(web_server)
    admin.post("/skills", json={"name": "french"})
    q1 = admin.post("/queues", json={"name": "General"}).json()["id"]
    q2 = admin.post("/queues", json={"name": "French", "skills": {"french": 2}}).json()["id"]
    a = admin.post("/agents", json={"name": "Cy"}).json()["id"]
    b = admin.post("/agents", json={"name": "Di", "skills": {"french": 4}}).json()["id"]
    sup.post(f"/agents/{a}/status", json={"status": "ready"})
    page = new_page()
    _open(page, web_server, sup_name)

    # not ready with a reason, by keyboard: focus the row's button, Enter, type, Enter
    page.focus(f"[role=row][data-agent='{a}'] button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#wb-dialog[open]")
    page.focus("#wb-reason")
    page.keyboard.type("coaching")
    page.keyboard.press("Enter")
    assert "Set Cy not ready (coaching)?" in page.text_content("#wb-dialog .wb-question")
    assert page.evaluate("document.activeElement.textContent") == "Confirm"
    page.keyboard.press("Enter")
    page.wait_for_selector("#wb-dialog[open]", state="detached")
    assert page.evaluate("document.activeElement.closest('[role=row]')?.dataset.agent") == a
    agent = sup.get(f"/agents/{a}").json()
    assert (agent["status"], agent["reason"]) == ("not_ready", "coaching")
    page.wait_for_function(f"() => document.querySelector('[role=row][data-agent=\"{a}\"]')"
                           ".dataset.presence === 'not_ready'")

    # skills: give Cy french, confirm; the French queue now routes to Cy
    page.click(f"[role=row][data-agent='{a}'] button")
    page.wait_for_selector("#wb-skill-add option[value='french']", state="attached")
    page.select_option("#wb-skill-add", "french")
    page.click("#wb-dialog [data-action=add]")
    page.fill("#wb-skill-french", "3")
    _dialog_button(page, "Save skills").click()
    _dialog_button(page, "Confirm").click()
    page.wait_for_selector("#wb-dialog[open]", state="detached")
    assert sup.get(f"/agents/{a}").json()["skills"] == {"french": 3}
    page.wait_for_function(f"() => document.querySelector('[role=row][data-agent=\"{a}\"] .queues')"
                           ".textContent === '2'")

    # log out, after Back then Confirm
    page.click(f"[role=row][data-agent='{a}'] button")
    _dialog_button(page, "Log out").click()
    _dialog_button(page, "Back").click()
    assert sup.get(f"/agents/{a}").json()["status"] == "not_ready"
    _dialog_button(page, "Log out").click()
    _dialog_button(page, "Confirm").click()
    page.wait_for_selector("#wb-dialog[open]", state="detached")
    assert sup.get(f"/agents/{a}").json()["status"] == "offline"

    # move a waiting contact from General to French: Di (french, ready) gets it
    it = sup.post("/interactions", json={"queue": q1, "channel": "voice"}).json()["id"]
    page.click(f"[data-queue='{q1}'] .wb-queue-head button")
    page.wait_for_selector(f"#wb-dialog form[data-interaction='{it}']")
    page.select_option(f"#wb-move-{it}", q2)
    page.locator(f"form[data-interaction='{it}'] button").click()
    _dialog_button(page, "Confirm").click()
    page.wait_for_selector("#wb-dialog[open]", state="detached")
    sup.post(f"/agents/{b}/status", json={"status": "ready"})
    moved = sup.get(f"/interactions/{it}").json()
    assert moved["queue"] == q2 and moved["offered_to"] == [b]

    # thresholds: a red level above amber is refused next to its field, then saved
    page.click(f"[data-queue='{q1}'] .wb-queue-head button")
    page.fill("#wb-th-service_level-amber", "80")
    page.fill("#wb-th-service_level-red", "90")
    page.fill("#wb-th-waiting-amber", "0")
    _dialog_button(page, "Save thresholds").click()
    error = page.locator("#wb-dialog .field-error")
    error.wait_for()
    assert "red is the worse level" in error.text_content()
    assert page.get_attribute("#wb-th-service_level-red", "aria-invalid") == "true"
    page.fill("#wb-th-service_level-red", "60")
    _dialog_button(page, "Save thresholds").click()
    page.wait_for_selector("#wb-dialog[open]", state="detached")
    assert sup.get(f"/queues/{q1}/thresholds").json()["service_level"] == {
        "amber": 0.8, "red": 0.6}
    sup.post("/interactions", json={"queue": q1, "channel": "voice"})
    badge = f"[data-queue='{q1}'] [data-figure=waiting]"
    page.wait_for_selector(f"{badge}[data-level='amber']")
    assert page.text_content(f"{badge} .wb-level") == "▲ Amber"  # not by colour alone
    page.keyboard.press("Escape")
    shot(page, "wallboard-actions")
    audit = [r["action"] for r in admin.get("/audit").json() if r["role"] == "supervisor"]
    assert {"POST /agents/{id}/status", "PUT /agents/{id}/skills",
            "POST /interactions/{id}/move", "PUT /queues/{id}/thresholds"} <= set(audit)


@pytest.mark.parametrize("lang", ["en", "it", "fr", "zh"])
def test_the_page_is_translated_and_fits_desktop_and_tablet(web_server: Server, new_page: Any,
                                                            lang: str) -> None:
    admin, sup, sup_name, _ = _team(web_server)
    qs = [admin.post("/queues", json={"name": f"Q{i}", "wrapup_s": 30}).json()["id"]
          for i in range(6)]
    agents = [admin.post("/agents", json={"name": f"Agent {i}"}).json()["id"]
              for i in range(6)]
    for a in agents[:3]:
        sup.post(f"/agents/{a}/status", json={"status": "ready"})
    sup.post(f"/agents/{agents[3]}/status", json={"status": "not_ready", "reason": "break"})
    sup.put(f"/queues/{qs[0]}/thresholds", json={"waiting": {"red": 0},
                                                 "service_level": {"amber": 0.9}})
    for i in range(5):
        sup.post("/interactions", json={"queue": qs[i % 2], "channel": "voice"})
    page = new_page(lang)
    _open(page, web_server, sup_name)
    page.wait_for_selector(f"[data-queue='{qs[0]}'] [data-figure=waiting][data-level='red']")
    page.wait_for_function("() => document.querySelector('#wb-trend svg')")
    assert untranslated(page, lang, ("wallboard",)) == []
    page.click(f"[data-queue='{qs[0]}'] .wb-queue-head button")  # the dialog's strings too
    page.wait_for_selector("#wb-dialog form.wb-move")
    assert untranslated(page, lang, ("wallboard",)) == []
    shot(page, f"wallboard-dialog-{lang}")
    page.keyboard.press("Escape")
    page.click(f"[role=row][data-agent='{agents[0]}'] button")
    page.wait_for_selector("#wb-dialog[open]")
    assert untranslated(page, lang, ("wallboard",)) == []
    page.keyboard.press("Escape")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shot(page, f"wallboard-{lang}")
    page.set_viewport_size({"width": TABLET[0], "height": TABLET[1]})
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, f"wallboard-tablet-{lang}")


def test_who_may_open_the_wallboard(web_server: Server) -> None:
    admin, _, _, tenant = _team(web_server)
    a = admin.post("/agents", json={"name": "Eve"}).json()["id"]
    agent, _ = cookie_session(web_server, new_user(web_server, "agent", tenant=tenant,
                                                   agent=a)[0])
    assert agent.get("/wallboard").status_code == 403
    analyst, _ = cookie_session(web_server, new_user(web_server, "analyst", tenant=tenant)[0])
    assert analyst.get("/wallboard").status_code == 403
    admin_web, _ = cookie_session(web_server, new_user(web_server, "admin", tenant=tenant)[0])
    page = admin_web.get("/wallboard")
    assert page.status_code == 200 and "js/wallboard/main.js" in page.text
    anonymous = httpx.get(f"{web_server.url}/wallboard", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == "/?next=/wallboard"
