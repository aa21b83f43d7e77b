"""The newcomer's path through demo mode, in Chromium: ``switchboard serve --demo``
runs as a real process (its database in the test's folder); the test reads the
URL and logins it prints, as a person would, then

* as the demo supervisor: the wallboard is live and its numbers move (with the
  demo's default traffic), and the demo's thresholds colour its figures;
* as a demo agent: ready, a customer comes, accept, chat (the customer
  answers), end, wrap up with a disposition;
* with 200 agents in 20 queues: the wallboard shows them all and stays live
  (its update delays and longest main-thread task are printed and saved in
  test-artifacts/demo-wallboard-200.json, never asserted).

The delay from the process's start to its first routed contact is printed.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.server.test_demo import Demo
from tests.web.conftest import (
    main_thread_report,
    reset_main_thread,
    shot,
    watch_main_thread,
    web_login,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
OFFERED = """() => [...document.querySelectorAll("[data-figure=offered] .figure")]
  .reduce((n, f) => n + Number(f.dataset.offered || 0), 0)"""
LIVE = "() => window.__wallboard && window.__wallboard.live()"


def _login(page: Any, demo: Demo, username: str) -> None:
    web_login(page, demo, username, demo.logins[username])  # type: ignore[arg-type]


def _close(*pages: Any) -> None:
    """Close the pages before the demo stops (else their feeds' reconnections
    show as console errors)."""
    for page in pages:
        if page is not None:
            page.context.close()


def _offered_moves(page: Any, wait_ms: int = 30_000) -> tuple[int, int]:
    """The wallboard's total offered today now, and once it has grown."""
    before = int(page.evaluate(OFFERED))
    page.wait_for_function(f"() => ({OFFERED})() > {before}", timeout=wait_ms)
    return before, int(page.evaluate(OFFERED))


def test_a_newcomer_watches_the_wallboard_and_takes_a_contact(
        tmp_path: Path, new_page: Callable[..., Any]) -> None:
    demo = Demo(tmp_path, "--demo-db", str(tmp_path / "demo.db"))  # the default traffic
    board = page = None
    try:
        printed, seen_s = demo.first_routed()
        print(f"\ndemo: first contact routed {printed:.1f} s after the process started "
              f"(seen by the test after {seen_s:.1f} s)")
        assert demo.roles["demo-supervisor"] == "supervisor"
        # the supervisor: a live wallboard whose numbers move
        board = new_page("en")
        _login(board, demo, "demo-supervisor")
        assert board.url == f"{demo.url}/wallboard"
        board.wait_for_function(LIVE)
        names = board.locator(".wb-queue .wb-queue-name").all_inner_texts()
        assert sorted(names) == ["billing", "sales", "support", "vip"]
        before, after = _offered_moves(board)
        print(f"wallboard: offered today went from {before} to {after}")
        assert board.locator("[data-level=ok], [data-level=amber], [data-level=red]").count()
        assert board.locator("#wb-agent-rows [role=row]").count() == 20
        shot(board, "demo-wallboard")

        # a person's agent: ready, a customer comes (a chat), and it goes end to end
        page = new_page("en")
        _login(page, demo, "demo-sam")
        assert page.url == f"{demo.url}/agent"
        page.wait_for_selector("#desktop[data-loaded='1']")
        page.wait_for_selector("#feed-status[data-status='live']")
        assert page.locator("#reason option").count() == 5  # the demo's reason codes
        page.click("#go-ready")
        page.wait_for_selector("#status-badge[data-status='ready']")
        offer = page.wait_for_selector("[data-offer]", timeout=30_000)
        iid = offer.get_attribute("data-offer")
        assert "Incoming chat" in offer.inner_text() and "vip" in offer.inner_text()
        shot(page, "demo-agent-offer")
        page.click(f"[data-accept='{iid}']")
        page.wait_for_selector(f"#panel-{iid} [data-contact-state='connected']")
        page.wait_for_selector(f"#panel-{iid} .msg.customer")  # the customer's first words
        page.fill(f"#msg-{iid}", "Hello! Let me check that for you.")
        page.press(f"#msg-{iid}", "Enter")
        page.wait_for_selector(f"#panel-{iid} .msg.agent")
        page.wait_for_function(  # and the customer answers
            f"() => document.querySelectorAll('#panel-{iid} .msg.customer').length >= 2",
            timeout=30_000)
        shot(page, "demo-agent-chat")
        page.click(f"#panel-{iid} [data-action='end']")
        page.wait_for_selector(f"#panel-{iid} .wrapup-form")
        options = page.locator(f"#disp-{iid} option").all_inner_texts()
        assert "Resolved" in options and "Sale made" in options
        page.select_option(f"#disp-{iid}", "resolved")
        page.click(f"#panel-{iid} .wrapup-form button[type=submit]")
        page.wait_for_selector(f"#panel-{iid}", state="detached")
        page.wait_for_selector("#today tbody tr >> text=resolved")
        # the supervisor saw the vip queue's contact
        vip = board.locator(".wb-queue", has_text="vip").locator("[data-figure=offered] .figure")
        board.wait_for_function("(el) => Number(el.dataset.answered) >= 1",
                                arg=vip.element_handle())
    finally:
        _close(board, page)
        assert demo.stop() == 0, demo.text()[-3000:]


def _percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"p50": None, "p99": None, "max": None, "count": 0}
    v = sorted(values)
    return {"p50": round(v[len(v) // 2], 1), "p99": round(v[min(len(v) - 1, len(v) * 99 // 100)],
                                                          1),
            "max": round(v[-1], 1), "count": len(v)}


def test_the_wallboard_of_a_200_agent_demo_stays_live(
        tmp_path: Path, new_page: Callable[..., Any]) -> None:
    demo = Demo(tmp_path, "--demo-agents", "200", "--demo-queues", "20",
                "--demo-db", str(tmp_path / "big.db"))
    page = None
    try:
        printed, seen_s = demo.first_routed()
        print(f"\ndemo (200 agents, 20 queues): first contact routed {printed:.1f} s after the "
              f"process started (seen by the test after {seen_s:.1f} s)")
        page = new_page("en")
        watch_main_thread(page)
        _login(page, demo, "demo-supervisor")
        page.wait_for_function(LIVE)
        assert page.locator(".wb-queue").count() == 20
        assert page.locator("#wb-agent-rows [role=row]").count() == 200
        page.wait_for_timeout(500)
        reset_main_thread(page)
        page.evaluate("() => window.__wallboard.resetStats()")
        before, after = _offered_moves(page)
        page.wait_for_timeout(20_000)  # 20 s of the demo's own traffic
        stats = page.evaluate("() => window.__wallboard.stats()")
        main = main_thread_report(page)
        result = {"agents": 200, "queues": 20, "first_routed_s": printed,
                  "offered_before": before, "offered_after": int(page.evaluate(OFFERED)),
                  "events_applied": stats["events"], "refreshes": stats["refreshes"],
                  "update_latency_ms": _percentiles(stats["eventLatencies"]),
                  "figure_latency_ms": _percentiles(stats["figureLatencies"]), **main}
        shot(page, "demo-wallboard-200")
        first = page.locator("#wb-agent-rows [role=row]").first
        first.scroll_into_view_if_needed()
        page.wait_for_timeout(200)
        page.screenshot(path=str(ARTIFACTS / "screenshots" / "demo-wallboard-200-agents.png"))
        print("first row:", repr(first.inner_text()), first.evaluate("n => n.outerHTML")[:800])
        assert first.is_visible() and first.inner_text().strip()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "demo-wallboard-200.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"demo wallboard, 200 agents in 20 queues: {json.dumps(result)}")
        assert after > before and stats["events"] > 0 and stats["refreshes"] > 0
    finally:
        _close(page)
        assert demo.stop() == 0, demo.text()[-3000:]
