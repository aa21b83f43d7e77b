"""Browser tests: the real server (``switchboard serve`` on uvicorn) and Debian's
Chromium driven by Playwright (sync API).

Fixtures and helpers for every page's tests (see docs/web.md):

- ``web_server``: a server on SQLite for the module (``Server`` from tests/server);
  ``server`` (re-exported) runs on SQLite and PostgreSQL for HTTP-level tests.
- ``browser``: one headless Chromium for the session (``/usr/bin/chromium``,
  never a downloaded browser; ``sh scripts/test-deps.sh`` installs it).
- ``new_page(lang="en", width=1280, height=800)``: a fresh context and page (own
  cookies), closed after the test.
- ``web_login(page, server, username)``: log in through the login form.
- ``shot(page, name)``: a screenshot in ``test-artifacts/screenshots/NAME.png``.
- ``watch_main_thread(page)`` before navigating, ``main_thread_report(page)``
  after: the longest main-thread task (PerformanceObserver ``longtask``) and the
  longest gap between animation frames.
- ``untranslated(page)``: visible strings of the page that are English msgids
  although the page is in another language, plus msgids the scripts asked for
  without a translation; it must be empty.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.web import i18n
from tests.server.conftest import _OPEN, PASSWORD, Api, Server, login, new_user
from tests.server.conftest import _close_clients as _close_clients  # fixture
from tests.server.conftest import admin as admin  # fixture: a fresh admin of a fresh tenant
from tests.server.conftest import server as server  # fixture: SQLite, PostgreSQL
from tests.store.conftest import database_url

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
TABLET = (768, 1024)
DESKTOP = (1280, 800)

__all__ = ["PASSWORD", "Api", "Server", "login", "new_user"]


@pytest.fixture(scope="module")
def web_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real server on SQLite for the test module (a boot admin in tenant ``boot``)."""
    from switchboard.commands.admin import create_user

    tmp = tmp_path_factory.mktemp("web")
    srv = Server(database_url("sqlite", tmp), tmp / "server.log")
    create_user(srv.db_url, username=f"boot-{uuid.uuid4().hex}", password=PASSWORD,
                role="admin", tenant="boot")
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API keeps an event loop
    running while it is open, so it must not outlive the browser tests (tests
    elsewhere call ``asyncio.run``)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing (make test installs it: sh scripts/test-deps.sh)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_page(lang="en", width=1280, height=800)``: a page in a fresh context
    whose Accept-Language is ``lang``. A script error, a console error, a 5xx or
    a missing file (404 outside the API) fails the test; API refusals (4xx) that
    a test provokes on purpose do not."""
    contexts: list[Any] = []
    errors: list[str] = []

    def make(lang: str = "en", width: int = DESKTOP[0], height: int = DESKTOP[1]) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": height},
                                  locale={"zh": "zh-CN"}.get(lang, lang),
                                  extra_http_headers={"Accept-Language": lang})
        ctx.set_default_timeout(20_000)  # generous: the CI machine is shared
        contexts.append(ctx)
        page = ctx.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error"
                and not m.text.startswith("Failed to load resource") else None)
        page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
        page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
                if r.status >= 500 or (r.status == 404 and "/api/" not in r.url) else None)
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    assert not errors, f"errors in the browser console: {errors}"


def web_login(page: Any, server: Server, username: str, password: str = PASSWORD,
              path: str = "/") -> None:
    """Open ``path`` (the login page, or a page that sends there) and log in
    through the form; returns once the next page is loaded and ready."""
    page.goto(f"{server.url}{path}")
    page.wait_for_selector("html[data-ready='1']")
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#login-form button[type=submit]")
    page.wait_for_selector("html[data-ready='1']")


def shot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as test-artifacts/screenshots/NAME.png."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


_MAIN_THREAD_MONITOR = """
(() => {
  const m = window.__mainThread = { longtaskMax: 0, longtasks: 0, rafGapMax: 0, frames: 0 };
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        m.longtasks += 1;
        m.longtaskMax = Math.max(m.longtaskMax, e.duration);
      }
    }).observe({ type: "longtask", buffered: true });
  } catch (e) { m.unsupported = String(e); }
  let last = 0;
  const tick = (now) => {
    if (last && document.visibilityState === "visible") {
      m.rafGapMax = Math.max(m.rafGapMax, now - last);
    }
    last = now;
    m.frames += 1;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  m.reset = () => { m.longtaskMax = 0; m.longtasks = 0; m.rafGapMax = 0; m.frames = 0; last = 0; };
})();
"""


def watch_main_thread(page: Any) -> None:
    """Install the main-thread monitor in every document the page loads (call
    before ``goto``): long tasks (over 50 ms, as the browser reports them) and
    gaps between animation frames."""
    page.add_init_script(_MAIN_THREAD_MONITOR)


def reset_main_thread(page: Any) -> None:
    """Start measuring afresh (e.g. once the page has loaded)."""
    page.evaluate("window.__mainThread.reset()")


def main_thread_report(page: Any) -> dict[str, float]:
    """``{"longtask_max_ms", "longtasks", "raf_gap_max_ms", "frames"}`` since the
    load or the last reset: the longest task that blocked the main thread."""
    m = page.evaluate("({...window.__mainThread})")
    return {"longtask_max_ms": float(m["longtaskMax"]), "longtasks": int(m["longtasks"]),
            "raf_gap_max_ms": float(m["rafGapMax"]), "frames": int(m["frames"])}


def english_msgids(areas: tuple[str, ...], lang: str) -> set[str]:
    """English msgids of the areas whose translation in ``lang`` differs (so the
    English text on a page in ``lang`` means a string was left untranslated)."""
    from switchboard.web.catalogs import extract

    catalog = i18n.Catalogs().catalog(lang, areas)
    out = set()
    for area in ("common", "metrics", *areas):
        for msgid in extract(area):
            if catalog.gettext(msgid) != msgid and "%(" not in msgid and "{" not in msgid:
                out.add(msgid)
    return out


_VISIBLE_TEXTS = """
() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    const text = node.textContent.trim();
    const parent = node.parentElement;
    if (!text || !parent || parent.closest("script, style, [data-i18n-skip], option")) continue;
    const style = getComputedStyle(parent);
    if (style.display === "none" || style.visibility === "hidden") continue;
    out.push(text);
  }
  const labelled = "[title], [aria-label], [placeholder], [aria-description]";
  for (const node of document.querySelectorAll(labelled)) {
    for (const name of ["title", "aria-label", "placeholder", "aria-description"]) {
      const v = node.getAttribute(name);
      if (v && !node.closest("[data-i18n-skip]")) out.push(v.trim());
    }
  }
  out.push(document.title.split(" · ")[0]);
  return out;
}
"""


def untranslated(page: Any, lang: str, areas: tuple[str, ...] = ()) -> list[str]:
    """English strings shown on a page in ``lang`` (visible text, title,
    aria-label, placeholder), and msgids its scripts found no translation for.
    Empty on a fully translated page; always empty for English."""
    if lang == "en":
        return []
    english = english_msgids(areas, lang)
    shown = page.evaluate(_VISIBLE_TEXTS)
    found = sorted({s for s in shown if s in english})
    missing = page.evaluate("Array.from(window.__i18nMissing || [])")
    return found + [f"(no translation) {m}" for m in missing]


def cookie_session(server: Server, username: str, password: str = PASSWORD
                   ) -> tuple[httpx.Client, str]:
    """An httpx client logged in with the session cookie (closed after the
    test), and its CSRF token."""
    client = httpx.Client(base_url=server.url, timeout=10)
    _OPEN.append(client)  # closed after the test
    r = client.post("/api/v1/auth/session", json={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return client, str(r.json()["csrf"])
