"""Routes of the web UI: the login page and the pages of :data:`pages.PAGES`,
the cookie session (``POST``/``DELETE /api/v1/auth/session``), the user's
language (``PATCH /api/v1/me``) and the catalogues (``GET /api/v1/i18n/{lang}``).

The session is a token of the same table as bearer tokens (same expiry, same
login rate limits, same revocation: the event feeds of a session that logs out
close within a second). It travels in an HttpOnly, SameSite=Strict cookie
(Secure over https); every unsafe request authenticated by it must carry the
session's CSRF token in ``X-CSRF-Token`` (``auth.credential``), which the page
receives in ``<meta name="csrf-token">``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import Connection, update
from starlette.responses import RedirectResponse

from switchboard.server import auth
from switchboard.server.auth import Principal
from switchboard.server.inputs import Body
from switchboard.server.runtime import Runtime
from switchboard.server.security import audited
from switchboard.store import repo
from switchboard.store import schema as s
from switchboard.web import i18n
from switchboard.web.metrics import translated
from switchboard.web.pages import (
    PAGES,
    STATIC,
    Page,
    Renderer,
    Static,
    home,
    language_for,
    login_redirect,
    nav,
    page_roles,
    safe_next,
)

Authenticate = Callable[[str, str, Any], Awaitable[tuple[str, Any, float]]]


class SessionIn(Body):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1024)


class MeIn(Body):
    language: str = Field(min_length=2, max_length=16)


def build_web(app: FastAPI, runtime: Runtime, clock: Callable[[], float],
              principal: Callable[..., Awaitable[Principal]],
              authenticate: Authenticate) -> None:
    db = runtime.db
    catalogs = i18n.Catalogs()
    renderer = Renderer(catalogs)
    who = Depends(principal)

    def session_user(request: Request) -> Any:
        token = request.cookies.get(auth.SESSION_COOKIE, "")
        if not token or "\x00" in token:
            return None
        with db.connect() as conn:
            user = repo.user_for_token(conn, auth.token_digest(token), clock())
        return user

    def shell(user: Any, request: Request) -> dict[str, Any]:
        token = request.cookies.get(auth.SESSION_COOKIE, "")
        return {"user": user, "csrf": auth.csrf_token(token) if user is not None else "",
                "nav": nav(user.role) if user is not None else [],
                "path": request.url.path}

    # ------------------------------------------------------------------ pages
    async def login_page(request: Request, next: str | None = Query(None, max_length=500)
                         ) -> Response:
        user = session_user(request)
        target = safe_next(next)
        if user is not None:
            dest = target or home(user.role)
            if dest is not None:
                return RedirectResponse(dest, status_code=303)
        lang = language_for(request, user)
        return renderer.render("login.html", lang=lang, areas=("common", "metrics"),
                               title="", next=target or "", no_page=user is not None,
                               **shell(user, request))

    app.add_api_route("/", login_page, methods=["GET"], include_in_schema=False)

    def page_handler(page: Page) -> Callable[[Request], Awaitable[Response]]:
        roles = page_roles(page.path)
        areas = ("common", "metrics", *page.areas)

        async def handler(request: Request) -> Response:
            user = session_user(request)
            if user is None:
                return login_redirect(request)
            lang = language_for(request, user)
            if user.role not in roles:
                return renderer.render("forbidden.html", lang=lang, areas=areas, status=403,
                                       title="", page=page, **shell(user, request))
            runtime.ensure_tenant(user.tenant_id)
            return renderer.render(page.template, lang=lang, areas=areas, page=page,
                                   title=page.title, script=page.script,
                                   **shell(user, request))

        return handler

    for page in PAGES:
        app.add_api_route(page.path, page_handler(page), methods=["GET"],
                          include_in_schema=False)
    app.mount("/static", Static(directory=STATIC), name="static")

    # ------------------------------------------------------------------ API
    router = APIRouter(prefix="/api/v1")

    @router.post("/auth/session", tags=["auth"])
    async def open_session(body: SessionIn, request: Request) -> JSONResponse:
        """Log in for the web UI: sets the session cookie (HttpOnly, SameSite=Strict)
        and returns the CSRF token its unsafe requests must send in
        ``X-CSRF-Token``, the user's role and the page to go to."""
        token, user, _now = await authenticate(body.username, body.password, request)
        resp = JSONResponse({"role": user.role, "home": home(user.role),
                             "csrf": auth.csrf_token(token), "language": user.language})
        resp.set_cookie(auth.SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/")
        return resp

    @router.delete("/auth/session", status_code=204, tags=["auth"])
    async def close_session(request: Request, p: Principal = who) -> Response:
        """Log out: the session ends everywhere (its feeds close within a second)."""
        token, _ = auth.credential(request)
        with db.begin() as conn:
            repo.delete_token(conn, p.tenant_id, auth.token_digest(token))
        resp = Response(status_code=204)
        resp.delete_cookie(auth.SESSION_COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.url.scheme == "https")
        return resp

    @router.patch("/me", tags=["auth"])
    async def update_me(body: MeIn, response: Response, p: Principal = who) -> dict[str, Any]:
        """Choose the calling user's language (en, it, fr, zh) for every page."""
        lang = i18n.check_language(body.language)

        def write(conn: Connection) -> None:
            conn.execute(update(s.User).where(s.User.tenant_id == p.tenant_id,
                                              s.User.id == p.user_id).values(language=lang))

        w = audited(p, "PATCH /me", clock(), target=p.user_id, detail={"language": lang},
                    write=write)
        assert w is not None
        runtime.write(p.tenant_id, w)
        response.set_cookie(i18n.LANG_COOKIE, lang, max_age=365 * 86400, samesite="strict",
                            path="/")
        return {"id": p.user_id, "language": lang}

    @router.get("/i18n/{lang}", tags=["i18n"])
    async def catalogue(lang: str, response: Response,
                        areas: str = Query("common", max_length=200)) -> dict[str, Any]:
        """The translated messages of some areas (comma separated; ``common`` and
        ``metrics`` always included) and every metric's name and definition."""
        i18n.check_language(lang, "lang")
        wanted = i18n.check_areas(["metrics", *areas.split(",")])
        catalog = catalogs.catalog(lang, wanted)
        response.headers["Cache-Control"] = "no-cache"
        return {**i18n.locale_info(lang), "messages": catalog.messages,
                "metrics": translated(catalog)}

    app.include_router(router)
    app.state.api_routers.append(router)  # the route-table test walks these
