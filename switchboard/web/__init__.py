"""The web UI served by ``switchboard serve``: pages, static files, the cookie
session and the translation catalogues (see docs/web.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI

from switchboard.server.auth import Principal
from switchboard.server.runtime import Runtime

Authenticate = Callable[[str, str, Any], Awaitable[tuple[str, Any, float]]]


def install_web(app: FastAPI, runtime: Runtime, clock: Callable[[], float],
                principal: Callable[..., Awaitable[Principal]],
                authenticate: Authenticate) -> None:
    """Add the pages, ``/static``, ``/api/v1/auth/session``, ``PATCH /api/v1/me``
    and ``/api/v1/i18n/{lang}`` to ``app``."""
    from switchboard.web.routes import build_web

    build_web(app, runtime, clock, principal, authenticate)
