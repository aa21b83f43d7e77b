"""Authentication and authorization.

Passwords are hashed with Argon2id (``argon2-cffi`` defaults, RFC 9106). A
login returns a random bearer token of which only the SHA-256 is stored.

Authorization is deny-by-default: :data:`ROUTE_ROLES` is the single table of
every route and the roles that may call it. A route missing from it answers
403 to everyone (and a test fails for any route of the app not in the table).
Checks that depend on the object (an agent acting only for itself) are made in
the handlers, through :meth:`Principal.acting_agent`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Request

from switchboard.domain.errors import SwitchboardError, ValidationError

TOKEN_TTL_S = 12 * 3600.0
# The browser's session: the same kind of token as a bearer token (same table,
# same expiry, same logout), carried in an HttpOnly SameSite=Strict cookie.
SESSION_COOKIE = "sb_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC: frozenset[str] = frozenset()  # marks a route that needs no token

ALL = frozenset({"admin", "supervisor", "agent", "analyst"})
ADMIN = frozenset({"admin"})
STAFF = frozenset({"admin", "supervisor"})
WATCHERS = frozenset({"admin", "supervisor", "analyst"})

P = "/api/v1"
ROUTE_ROLES: dict[tuple[str, str], frozenset[str]] = {
    ("POST", f"{P}/auth/token"): PUBLIC,
    ("POST", f"{P}/auth/logout"): ALL,
    ("GET", f"{P}/me"): ALL,
    ("WEBSOCKET", f"{P}/events/ws"): ALL,
    ("POST", f"{P}/queues"): frozenset({"admin"}),
    ("GET", f"{P}/queues"): ALL,
    ("GET", f"{P}/queues/{{queue_id}}"): ALL,
    ("GET", f"{P}/queues/{{queue_id}}/stats"): WATCHERS,
    ("POST", f"{P}/agents"): frozenset({"admin"}),
    ("GET", f"{P}/agents"): WATCHERS,
    ("GET", f"{P}/agents/{{agent_id}}"): ALL,
    ("POST", f"{P}/agents/{{agent_id}}/status"): frozenset({"admin", "supervisor", "agent"}),
    ("POST", f"{P}/interactions"): STAFF,
    ("GET", f"{P}/interactions/{{interaction_id}}"): ALL,
    ("GET", f"{P}/interactions/{{interaction_id}}/events"): WATCHERS,
    ("POST", f"{P}/interactions/{{interaction_id}}/accept"): frozenset({"agent", "supervisor"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/reject"): frozenset({"agent", "supervisor"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/hold"): frozenset({"agent", "supervisor"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/resume"): frozenset({"agent", "supervisor"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/end"): frozenset({"agent", "supervisor"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/wrapup"): frozenset({"agent", "supervisor"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/transfer"):
        frozenset({"agent", "supervisor"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/transfer/complete"):
        frozenset({"agent", "supervisor"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/transfer/cancel"):
        frozenset({"agent", "supervisor"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/callback"): STAFF,
    ("GET", f"{P}/interactions"): WATCHERS,
    ("POST", f"{P}/callbacks"): STAFF,
    ("POST", f"{P}/users"): ADMIN,
    ("GET", f"{P}/users"): ADMIN,
    ("PATCH", f"{P}/users/{{user_id}}"): ADMIN,
    ("POST", f"{P}/skills"): ADMIN,
    ("GET", f"{P}/skills"): ALL,
    ("PATCH", f"{P}/queues/{{queue_id}}"): ADMIN,
    ("DELETE", f"{P}/queues/{{queue_id}}"): ADMIN,
    ("GET", f"{P}/audit"): ADMIN,
    ("GET", f"{P}/reports/{{by}}"): WATCHERS,
    # administration (routes_config.py)
    ("GET", f"{P}/tenant"): ALL,
    ("PATCH", f"{P}/tenant"): ADMIN,
    ("GET", f"{P}/reason-codes"): ALL,
    ("POST", f"{P}/reason-codes"): ADMIN,
    ("GET", f"{P}/reason-codes/{{code_id}}"): ALL,
    ("PATCH", f"{P}/reason-codes/{{code_id}}"): ADMIN,
    ("DELETE", f"{P}/reason-codes/{{code_id}}"): ADMIN,
    ("GET", f"{P}/dispositions"): ALL,
    ("POST", f"{P}/dispositions"): ADMIN,
    ("GET", f"{P}/dispositions/{{code_id}}"): ALL,
    ("PATCH", f"{P}/dispositions/{{code_id}}"): ADMIN,
    ("DELETE", f"{P}/dispositions/{{code_id}}"): ADMIN,
    ("GET", f"{P}/business-hours"): ALL,
    ("POST", f"{P}/business-hours"): ADMIN,
    ("GET", f"{P}/business-hours/{{hours_id}}"): ALL,
    ("PATCH", f"{P}/business-hours/{{hours_id}}"): ADMIN,
    ("DELETE", f"{P}/business-hours/{{hours_id}}"): ADMIN,
    ("GET", f"{P}/business-hours/{{hours_id}}/status"): ALL,
    ("GET", f"{P}/holidays"): ALL,
    ("POST", f"{P}/holidays"): ADMIN,
    ("GET", f"{P}/holidays/{{holiday_id}}"): ALL,
    ("PATCH", f"{P}/holidays/{{holiday_id}}"): ADMIN,
    ("DELETE", f"{P}/holidays/{{holiday_id}}"): ADMIN,
    ("PATCH", f"{P}/agents/{{agent_id}}"): ADMIN,
    ("DELETE", f"{P}/agents/{{agent_id}}"): ADMIN,
    ("DELETE", f"{P}/users/{{user_id}}"): ADMIN,
    ("POST", f"{P}/users/{{user_id}}/password"): ADMIN,
    ("DELETE", f"{P}/skills/{{name}}"): ADMIN,
    # the supervisor wallboard (routes_wallboard.py)
    ("GET", f"{P}/wallboard"): WATCHERS,
    ("GET", f"{P}/queues/{{queue_id}}/thresholds"): WATCHERS,
    ("PUT", f"{P}/queues/{{queue_id}}/thresholds"): STAFF,
    ("PUT", f"{P}/agents/{{agent_id}}/skills"): STAFF,
    ("POST", f"{P}/interactions/{{interaction_id}}/move"): STAFF,
    # recordings and voicemail (routes_media.py); pause/resume: the agent on the call
    ("GET", f"{P}/interactions/{{interaction_id}}/recordings"): ALL,
    ("GET", f"{P}/recordings/{{recording_id}}"): ALL,
    ("GET", f"{P}/recordings/{{recording_id}}/audio"): ALL,
    ("DELETE", f"{P}/recordings/{{recording_id}}"): ADMIN,
    ("GET", f"{P}/voicemail"): WATCHERS,
    ("GET", f"{P}/recording-retention"): ADMIN,
    ("PUT", f"{P}/recording-retention"): ADMIN,
    ("POST", f"{P}/recording-retention/purge"): ADMIN,
    ("POST", f"{P}/interactions/{{interaction_id}}/recording/pause"): frozenset({"agent"}),
    ("POST", f"{P}/interactions/{{interaction_id}}/recording/resume"): frozenset({"agent"}),
    # voice (switchboard/voice/routes.py): 409 voice_not_running without serve --voice
    ("POST", f"{P}/voice/calls"): frozenset({"agent"}),
    ("GET", f"{P}/voice/phones"): WATCHERS,
    # the web UI (switchboard/web): cookie session, preferences, catalogues
    ("POST", f"{P}/auth/session"): PUBLIC,
    ("DELETE", f"{P}/auth/session"): ALL,
    ("PATCH", f"{P}/me"): ALL,
    ("GET", f"{P}/i18n/{{lang}}"): PUBLIC,
    # the agent desktop (routes_desktop.py)
    ("GET", f"{P}/interactions/{{interaction_id}}/messages"): ALL,
    ("POST", f"{P}/interactions/{{interaction_id}}/messages"):
        frozenset({"admin", "supervisor", "agent"}),
    ("GET", f"{P}/interactions/{{interaction_id}}/card"): ALL,
    ("GET", f"{P}/agents/{{agent_id}}/today"): ALL,
    ("GET", f"{P}/directory/agents"): ALL,
    # pages (switchboard/web/pages.py PAGES): "/" is the login, then a redirect by role
    ("GET", "/"): PUBLIC,
    ("GET", "/admin"): ADMIN,
    ("GET", "/reports"): WATCHERS,
    ("GET", "/agent"): frozenset({"agent"}),
    ("GET", "/wallboard"): STAFF,
}

_hasher = PasswordHasher()


class Unauthorized(SwitchboardError):
    code = "unauthorized"
    http_status = 401


class Forbidden(SwitchboardError):
    code = "forbidden"
    http_status = 403


class CsrfRefused(Forbidden):
    """A request authenticated by the session cookie without the session's
    ``X-CSRF-Token`` (an unsafe method: anything but GET, HEAD, OPTIONS)."""

    code = "csrf"


def hash_password(password: str) -> str:
    """The Argon2id hash of a password (8 to 1024 characters)."""
    if not isinstance(password, str) or not 8 <= len(password) <= 1024:
        raise ValidationError("must be 8 to 1024 characters", field="password")
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> tuple[str, str]:
    """A fresh bearer token and the SHA-256 (hex) that is stored for it."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: user, tenant, role and (for agents) their agent id."""

    user_id: str
    tenant_id: str
    role: str
    agent_id: str | None

    def acting_agent(self, agent_id: str | None) -> str:
        """The agent a request acts for: an agent user acts only for itself
        (``agent_id`` may be left out); other roles must name one."""
        if self.role == "agent":
            if self.agent_id is None:
                raise Forbidden("this user is not linked to an agent")
            if agent_id not in (None, self.agent_id):
                raise Forbidden("an agent may act only for itself", field="agent")
            return self.agent_id
        if not agent_id:
            raise ValidationError("name the agent", field="agent")
        return agent_id


def required_roles(request: Request) -> frozenset[str] | None:
    """The roles allowed on the matched route; ``None`` when it is not in the table."""
    route: Any = request.scope.get("route")
    path = getattr(route, "path", None)
    return ROUTE_ROLES.get((request.method, path)) if path else None


def csrf_token(session_token: str) -> str:
    """The CSRF token of a cookie session: derived from the session's secret (so
    nothing more is stored), given to the page, sent back in ``X-CSRF-Token``.
    A page of another site can neither read the cookie nor this token."""
    return hmac.new(b"switchboard csrf", session_token.encode(), hashlib.sha256).hexdigest()


def credential(request: Request) -> tuple[str, bool]:
    """The caller's token and whether it came from the session cookie. A bearer
    header wins; with the cookie alone, an unsafe method needs the session's
    ``X-CSRF-Token`` (:class:`CsrfRefused` otherwise)."""
    if request.headers.get("authorization"):
        return bearer(request), False
    token = request.cookies.get(SESSION_COOKIE, "")
    if not token or "\x00" in token:
        return bearer(request), False  # raises Unauthorized with the usual advice
    if request.method not in SAFE_METHODS:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), csrf_token(token).encode()):
            raise CsrfRefused(f"send the page's {CSRF_HEADER} header with this request "
                              "(reload the page if it is missing)", field=CSRF_HEADER)
    return token, True


def bearer(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("send Authorization: Bearer <token> (POST /api/v1/auth/token)")
    return token.strip()
