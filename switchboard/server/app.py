"""The ASGI application: FastAPI under ``/api/v1``, one JSON error shape.

Every error answers ``{"error": {"code", "message", "field"?}}``: a
:class:`SwitchboardError` with its own code and status, a malformed request
422 ``invalid`` naming the field, an unknown route 404, a wrong method 405.
Only a bug gives a 5xx (``internal``).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine as Database
from starlette.exceptions import HTTPException

from switchboard.domain.errors import SwitchboardError
from switchboard.server import auth, reports
from switchboard.server.feed import install_feed
from switchboard.server.inputs import Body
from switchboard.server.runtime import Runtime
from switchboard.server.security import LoginLimiter, TooManyRequests
from switchboard.store import repo

logger = logging.getLogger("switchboard.api")
STATUS_CODES = {401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}


def error(status: int, code: str, message: str, field: str | None = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    return JSONResponse({"error": body}, status_code=status)


def _field(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or None


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(SwitchboardError)
    async def _sb(_: Request, exc: SwitchboardError) -> JSONResponse:
        resp = error(exc.http_status, exc.code, exc.message, exc.field)
        if isinstance(exc, TooManyRequests):
            resp.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
        return resp

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, SwitchboardError):  # raised by a model validator
            return error(422, cause.code, cause.message, cause.field)
        msg = str(first.get("msg", "invalid request"))
        return error(422, "invalid", msg, _field(tuple(first.get("loc", ()))))

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        code = STATUS_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def _bug(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error(500, "internal", "internal error (a bug: it has been logged)")


class _NoNul:
    """PostgreSQL text holds no NUL: refuse one in a path or query up front (422).
    Plain ASGI: starlette's ``BaseHTTPMiddleware`` runs each request in an extra
    task with memory streams, a cost every request paid."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and ("\x00" in scope["path"]
                                        or b"%00" in scope.get("query_string", b"")):
            await error(422, "invalid", "must not contain a NUL character")(scope, receive, send)
            return
        await self.app(scope, receive, send)


class TokenRequest(Body):
    username: str
    password: str


class TokenResponse(BaseModel):
    token: str
    expires_at: float


def _limiter() -> LoginLimiter:
    env = os.environ.get
    return LoginLimiter(
        account_failures=int(env("SWITCHBOARD_LOGIN_ACCOUNT_FAILURES", "100")),
        ip_failures=int(env("SWITCHBOARD_LOGIN_IP_FAILURES", "1000")))


def create_app(db: Database, *, clock: Callable[[], float] = time.time,
               media_dir: Path | None = None) -> FastAPI:
    """The API over a migrated database. The runtime starts (replaying the log)
    when the app's lifespan starts. Login limits come from the environment
    (``SWITCHBOARD_LOGIN_ACCOUNT_FAILURES``, ``SWITCHBOARD_LOGIN_IP_FAILURES``).
    Recordings and voicemail live under ``media_dir`` (default:
    ``SWITCHBOARD_MEDIA_DIR`` or ``var/media``)."""
    runtime = Runtime(db, clock=clock)
    limiter = _limiter()
    tokens = repo.TokenCache(db)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        runtime.start()
        try:
            yield
        finally:
            runtime.stop()

    app = FastAPI(title="Switchboard", version="1", openapi_url="/api/v1/openapi.json",
                  docs_url="/api/v1/docs", redoc_url=None, lifespan=lifespan,
                  swagger_ui_oauth2_redirect_url="/api/v1/docs/oauth2-redirect")
    app.state.runtime = runtime
    app.state.db = db
    _install_errors(app)

    app.add_middleware(_NoNul)

    async def principal(request: Request) -> auth.Principal:
        roles = auth.required_roles(request)
        if roles is None:
            raise auth.Forbidden("this route is not in the permission table")
        token, _ = auth.credential(request)  # bearer, or the session cookie + CSRF
        digest = auth.token_digest(token)
        user = tokens.user(digest, clock())  # cached; emptied by any token or user change
        if user is None:
            raise auth.Unauthorized("the token is unknown or expired; log in again")
        if user.role not in roles:
            raise auth.Forbidden(f"a {user.role} may not do this")
        runtime.ensure_tenant(user.tenant_id)
        return auth.Principal(user.id, user.tenant_id, user.role, user.agent_id)

    @app.post("/api/v1/auth/token", response_model=TokenResponse, tags=["auth"])
    async def login(body: TokenRequest, request: Request) -> TokenResponse:
        """Exchange a user name and password for a bearer token (429 with
        Retry-After after too many failures for the account or the address)."""
        token, _user, now = await authenticate(body.username, body.password, request)
        return TokenResponse(token=token, expires_at=now + auth.TOKEN_TTL_S)

    async def authenticate(username: str, password: str, request: Request) -> tuple[str, Any,
                                                                                   float]:
        """Check a login (rate limits first) and store a fresh token: (token, user
        row, now). Shared by the bearer login and the web UI's cookie session."""
        now = clock()
        ip = request.client.host if request.client else "-"
        limiter.check(username, ip, now)
        with db.connect() as conn:
            user = repo.user_by_username(conn, username)
        # Argon2 takes tens of milliseconds on purpose: off the event loop.
        ok = user is not None and await run_in_threadpool(
            auth.verify_password, user.password_hash, password)
        if not ok:
            limiter.failed(username, ip, now)
            raise auth.Unauthorized("wrong user name or password")
        if user.disabled:
            raise auth.Unauthorized("this user is disabled")
        token, digest = auth.new_token()
        with db.begin() as conn:
            repo.save_token(conn, user.tenant_id, token_hash=digest, user_id=user.id,
                            now=now, ttl_s=auth.TOKEN_TTL_S)
        return token, user, now

    from switchboard.server.routes import build_router

    install_feed(app, runtime, db, clock)
    # Today's live figures, one copy for the queue stats and the wallboard.
    today_figures = reports.TodayFigures()
    runtime.listeners.append(today_figures.feed)
    router = build_router(runtime, clock, principal, today_figures)
    app.include_router(router)
    app.state.api_router = router
    from switchboard.server.routes_admin import build_admin_router
    from switchboard.server.routes_more import build_more_router

    routers = [router, build_admin_router(runtime, clock, principal),
               build_more_router(runtime, clock, principal)]
    from switchboard.server.routes_wallboard import build_wallboard_router

    routers.append(build_wallboard_router(runtime, clock, principal, today_figures))
    from switchboard.media.control import ControlSlot
    from switchboard.media.recording import RecordingService
    from switchboard.server.routes_media import build_media_router

    # recordings and voicemail; the voice service registers its call controller
    # in app.state.media_control (until then pause/resume answer 409)
    app.state.media_control = ControlSlot()
    app.state.recordings = RecordingService(
        db, media_dir or Path(os.environ.get("SWITCHBOARD_MEDIA_DIR", "var/media")), clock=clock)
    routers.append(build_media_router(runtime, clock, principal, service=app.state.recordings,
                                      control=app.state.media_control))
    from switchboard.server.routes_config import build_config_router

    routers.append(build_config_router(runtime, clock, principal))  # administration
    for more in routers[1:]:
        app.include_router(more)
    app.state.api_routers = routers
    from switchboard.server.routes_desktop import build_desktop_router

    desktop = build_desktop_router(runtime, clock, principal)  # chat, card, agent's day
    app.include_router(desktop)
    app.state.api_routers.append(desktop)
    from switchboard.voice.routes import build_voice_router

    voice = build_voice_router(principal)  # click-to-dial, phones: 409 without serve --voice
    app.include_router(voice)
    app.state.api_routers.append(voice)
    from switchboard.web import install_web

    install_web(app, runtime, clock, principal, authenticate)  # pages, static, cookie login
    return app
