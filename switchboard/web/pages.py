"""The pages: server-rendered Jinja2 shells that load one ES module each.

A page is one :class:`Page` in :data:`PAGES` plus one row ``("GET", path)`` in
``switchboard.server.auth.ROUTE_ROLES`` (the roles that may open it; the app
refuses to start when the row is missing). Opening a page without a session
redirects to the login (``/?next=PATH``); with a role not allowed it answers 403
with a page that says so. Templates live in ``templates/<area>/``, scripts in
``static/js/<area>/``; see docs/web.md.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from switchboard.server import auth
from switchboard.web import i18n
from switchboard.web.metrics import N_, translated

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


@dataclass(frozen=True, slots=True)
class Page:
    """A page of the UI. ``title`` is an English msgid (marked with ``N_``);
    ``areas`` the catalogues its template and scripts use (``common`` and
    ``metrics`` always come too); ``script`` its ES module under ``static/``."""

    path: str
    template: str
    title: str
    areas: tuple[str, ...]
    script: str


PAGES: tuple[Page, ...] = (
    Page("/admin", "admin/admin.html", N_("Administration"), ("admin",), "js/admin/main.js"),
    Page("/reports", "reports/reports.html", N_("Reports"), ("reports",), "js/reports/main.js"),
    Page("/agent", "agent/agent.html", N_("Agent desktop"), ("agent",), "js/agent/main.js"),
    Page("/wallboard", "wallboard/wallboard.html", N_("Wallboard"), ("wallboard",),
         "js/wallboard/main.js"),
)
# Where a user lands after logging in (the first page of its role that exists).
HOME_BY_ROLE: dict[str, tuple[str, ...]] = {
    "agent": ("/agent",),
    "supervisor": ("/wallboard", "/reports"),
    "admin": ("/admin", "/wallboard", "/reports"),
    "analyst": ("/reports",),
}
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def page_roles(path: str) -> frozenset[str]:
    roles = auth.ROUTE_ROLES.get(("GET", path))
    if roles is None:
        raise RuntimeError(f"page {path} has no row in switchboard.server.auth.ROUTE_ROLES")
    return roles


def home(role: str) -> str | None:
    """The page a user of ``role`` lands on, or ``None`` when no page is for it."""
    paths = {p.path for p in PAGES}
    return next((p for p in HOME_BY_ROLE.get(role, ()) if p in paths), None)


def safe_next(value: str | None) -> str | None:
    """A same-site path to go back to after login (never another host)."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")) \
            and "\x00" not in value and len(value) <= 500:
        return value
    return None


class Static(StaticFiles):
    """The static files, revalidated on every use (``no-cache`` with ETag): ES
    modules import each other by plain URLs, so a new version must never mix
    with cached old ones."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        resp = await super().get_response(path, scope)
        resp.headers["Cache-Control"] = "no-cache"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        return resp


@cache
def _asset_version(path: str) -> str:
    try:
        return hashlib.sha256((STATIC / path).read_bytes()).hexdigest()[:12]
    except OSError:
        return "0"


def static_url(path: str) -> str:
    return f"/static/{path}?v={_asset_version(path)}"


class Renderer:
    """Jinja2 environments, one per language and set of areas (gettext installed)."""

    def __init__(self, catalogs: i18n.Catalogs) -> None:
        self.catalogs = catalogs
        self._envs: dict[tuple[str, tuple[str, ...]], Environment] = {}

    def env(self, lang: str, areas: tuple[str, ...]) -> Environment:
        # One environment each (not overlays: an overlay shares its globals, where
        # gettext is installed, with the environment it came from).
        key = (lang, areas)
        env = self._envs.get(key)
        if env is None:
            env = Environment(loader=FileSystemLoader(TEMPLATES),
                              autoescape=select_autoescape(["html"]),
                              extensions=["jinja2.ext.i18n"], trim_blocks=True,
                              lstrip_blocks=True)
            env.install_gettext_translations(  # type: ignore[attr-defined]
                self.catalogs.catalog(lang, areas), newstyle=True)
            self._envs[key] = env
        return env

    def render(self, template: str, *, lang: str, areas: tuple[str, ...], status: int = 200,
               **context: Any) -> HTMLResponse:
        catalog = self.catalogs.catalog(lang, areas)
        metrics = translated(catalog)
        html = self.env(lang, areas).get_template(template).render(
            lang=lang, locale=i18n.locale_info(lang), languages=i18n.LANGUAGES,
            areas=",".join(areas), static=static_url, metrics=metrics, **context)
        return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def language_for(request: Request, user: Any | None) -> str:
    """The user's language, else the ``sb_lang`` cookie, else Accept-Language."""
    chosen = getattr(user, "language", None) if user is not None else None
    if chosen in i18n.LANGUAGES:
        return str(chosen)
    cookie = request.cookies.get(i18n.LANG_COOKIE)
    if cookie in i18n.LANGUAGES:
        return str(cookie)
    return i18n.negotiate(request.headers.get("accept-language"))


def nav(role: str) -> list[Page]:
    return [p for p in PAGES if role in page_roles(p.path)]


PageHandler = Callable[[Request], Any]


def login_redirect(request: Request) -> RedirectResponse:
    return RedirectResponse(f"/?next={quote(request.url.path)}", status_code=303)
