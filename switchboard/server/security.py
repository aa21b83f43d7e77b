"""Login rate limiting and the audit log of admin and supervisor actions.

Rate limits are kept in memory, per process, on purpose: the server is one
process by design (the runtime owns each tenant's routing engine, so two
processes over one database would be wrong anyway), a failed login then costs
no database write (an attacker cannot turn guessing into write load), and the
check runs before the Argon2 verification. A restart forgets the counts: at
worst an attacker who can restart the server gets a fresh hour.

Two sliding one-hour windows of failed logins: at most :data:`ACCOUNT_FAILURES`
per user name and at most :data:`IP_FAILURES` per client IP (so spraying many
names from one address is bounded too). Beyond either, every attempt answers
429 with ``Retry-After`` (until the oldest failure is an hour old), before the
password is even checked. Successful logins are never counted.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection

from switchboard.domain.errors import SwitchboardError
from switchboard.server.auth import Principal
from switchboard.store import audit

WINDOW_S = 3600.0
ACCOUNT_FAILURES = 100
IP_FAILURES = 1000
AUDITED_ROLES = frozenset({"admin", "supervisor"})


class TooManyRequests(SwitchboardError):
    """Too many login attempts; ``retry_after_s`` says when to try again."""

    code = "rate_limited"
    http_status = 429

    def __init__(self, message: str, *, retry_after_s: float, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_s = retry_after_s


class _Window:
    """Times of recent hits under one key, oldest first."""

    __slots__ = ("hits",)

    def __init__(self) -> None:
        self.hits: deque[float] = deque()

    def trim(self, now: float) -> None:
        while self.hits and self.hits[0] <= now - WINDOW_S:
            self.hits.popleft()


class LoginLimiter:
    """Sliding-window counters of failed logins per account and per client IP."""

    def __init__(self, *, account_failures: int = ACCOUNT_FAILURES,
                 ip_failures: int = IP_FAILURES) -> None:
        self.account_failures = account_failures
        self.ip_failures = ip_failures
        self._accounts: dict[str, _Window] = {}
        self._ips: dict[str, _Window] = {}

    def check(self, username: str, ip: str, now: float) -> None:
        """Raise :class:`TooManyRequests` when the address or the account has
        reached its limit of failures in the last hour (before the password check)."""
        w = self._window(self._ips, ip, now)
        if len(w.hits) >= self.ip_failures:
            raise TooManyRequests(
                f"{self.ip_failures} failed logins from this address in an hour",
                retry_after_s=w.hits[0] + WINDOW_S - now)
        a = self._window(self._accounts, username, now)
        if len(a.hits) >= self.account_failures:
            raise TooManyRequests(
                f"{self.account_failures} failed logins for this account in an hour",
                retry_after_s=a.hits[0] + WINDOW_S - now, field="username")

    def failed(self, username: str, ip: str, now: float) -> None:
        """Record a failed login for ``username`` from ``ip``."""
        self._window(self._accounts, username, now).hits.append(now)
        self._window(self._ips, ip, now).hits.append(now)

    def _window(self, table: dict[str, _Window], key: str, now: float) -> _Window:
        w = table.get(key)
        if w is None:
            if len(table) > 100_000:  # bound memory: forget keys with no recent hits
                for k, v in list(table.items()):
                    v.trim(now)
                    if not v.hits:
                        del table[k]
            w = table[key] = _Window()
        w.trim(now)
        return w


Write = Callable[[Connection], None]


def audited(p: Principal, action: str, now: float, *, target: str | None = None,
            detail: dict[str, Any] | None = None, write: Write | None = None) -> Write | None:
    """``write`` extended with the audit row of ``p``'s action when ``p`` is an
    admin or a supervisor (so the row commits in the action's transaction)."""
    if p.role not in AUDITED_ROLES:
        return write

    def both(conn: Connection) -> None:
        if write is not None:
            write(conn)
        audit.record(conn, p.tenant_id, at=now, user_id=p.user_id, role=p.role,
                     action=action, target=target, detail=detail or {})

    return both
