"""The page shell in Chromium: login form, errors, language switch, logout."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.server.conftest import Server, new_user
from tests.web.conftest import TABLET, shot, untranslated, web_login

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.mark.parametrize("lang", ["en", "it", "fr", "zh"])
def test_the_login_page_in_each_language(web_server: Server, new_page: Callable[..., Any],
                                         lang: str) -> None:
    page = new_page(lang)
    page.goto(web_server.url)
    page.wait_for_selector("html[data-ready='1']")
    assert page.get_attribute("html", "data-lang") == lang
    assert untranslated(page, lang) == []
    shot(page, f"login-{lang}")
    page.click("#login-form button[type=submit]")  # empty: the browser-side check
    assert page.get_attribute("#username", "aria-invalid") == "true"
    assert page.locator(".field-error").count() == 2
    assert page.evaluate("document.activeElement.id") == "username"
    assert untranslated(page, lang) == []


def test_wrong_password_then_login_language_switch_and_logout(
        web_server: Server, new_page: Callable[..., Any]) -> None:
    name, _ = new_user(web_server, "analyst")
    page = new_page("en")
    page.goto(web_server.url)
    page.wait_for_selector("html[data-ready='1']")
    page.fill("#username", name)
    page.fill("#password", "not the password")
    page.click("#login-form button[type=submit]")
    page.wait_for_selector(".form-error:not([hidden])")
    assert page.inner_text(".form-error") == "Wrong user name or password."
    web_login(page, web_server, name)
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert cookies["sb_session"]["httpOnly"] and cookies["sb_session"]["sameSite"] == "Strict"
    assert page.is_visible("#logout")
    # switch to Italian from the page: stored on the user, the page comes back in Italian
    with page.expect_navigation():
        page.select_option("#language", "it")
    page.wait_for_selector("html[data-ready='1']")
    assert page.get_attribute("html", "lang") == "it"
    assert page.inner_text("#logout") == "Esci"
    assert untranslated(page, "it") == []
    shot(page, "shell-logged-in-it")
    # a new browser (English) logs in and gets the user's language
    other = new_page("en", *TABLET)
    web_login(other, web_server, name)
    assert other.get_attribute("html", "data-lang") == "it"
    shot(other, "shell-tablet-it")
    # logout ends the session: the cookie no longer opens anything
    with page.expect_navigation():
        page.click("#logout")
    assert not page.is_visible("#logout")
    status = page.evaluate("fetch('/api/v1/me').then(r => r.status)")
    assert status == 401
    assert other.evaluate("fetch('/api/v1/me').then(r => r.status)") == 200


def test_keyboard_reaches_every_control_with_visible_focus(
        web_server: Server, new_page: Callable[..., Any]) -> None:
    page = new_page("fr")
    page.goto(web_server.url)
    page.wait_for_selector("html[data-ready='1']")
    assert page.evaluate("document.activeElement.id") == "username"  # autofocus
    back = []
    for _ in range(3):  # backwards: language, brand, then the skip link first of all
        page.keyboard.press("Shift+Tab")
        back.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert back == ["language", "brand", "skip-link"]
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "solid"
    assert page.evaluate("document.activeElement.getBoundingClientRect().top") >= 0  # shown
    page.keyboard.press("Enter")  # skip to the main content
    assert page.evaluate("document.activeElement.id") == "main"
    forward = []
    for _ in range(3):
        page.keyboard.press("Tab")
        forward.append(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
    assert forward == ["username", "password", "BUTTON"]
