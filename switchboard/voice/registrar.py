"""Where agents' phones are: REGISTER bindings with expiry (RFC 3261 section 10).

A binding ties a phone's user name (its address of record) to a contact
address until it expires. Times are passed in (monotonic seconds), so the
registrar is tested without a clock. The SIP thread writes bindings; any
thread may read them (a lock guards the table).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Binding:
    """One registered contact of ``username``: send INVITEs to ``host``:``port``
    with request URI ``uri``, until ``expires_at``."""

    username: str
    uri: str
    host: str
    port: int
    user: str | None
    expires_at: float
    call_id: str
    cseq: int


class OutOfOrder(ValueError):
    """A REGISTER older than the one that made the binding (same Call-ID, lower CSeq)."""


class Registrar:
    """The binding table. ``min_s``/``max_s`` bound the expiry a phone may ask."""

    def __init__(self, min_s: int = 60, max_s: int = 3600) -> None:
        self.min_s = min_s
        self.max_s = max_s
        self._lock = threading.Lock()
        self._table: dict[str, dict[str, Binding]] = {}

    def grant(self, asked: int | None) -> int:
        """The expiry granted for ``asked`` seconds (None: the default, 3600),
        clamped down to ``max_s``; 0 stays 0 (remove). Below ``min_s`` the caller
        must answer 423 with Min-Expires (checked with :meth:`too_brief`)."""
        if asked is None:
            asked = 3600
        return min(asked, self.max_s)

    def too_brief(self, asked: int | None) -> bool:
        return asked is not None and 0 < asked < self.min_s

    def update(self, username: str, uri: str, host: str, port: int, user: str | None,
               expires: int, call_id: str, cseq: int, now: float) -> None:
        """Add, refresh or (``expires`` 0) remove the binding of ``uri``.
        Raises :class:`OutOfOrder` for a stale REGISTER of the same Call-ID."""
        with self._lock:
            mine = self._table.setdefault(username, {})
            old = mine.get(uri)
            if old is not None and old.call_id == call_id and cseq <= old.cseq:
                raise OutOfOrder(f"CSeq {cseq} is not above {old.cseq}")
            if expires <= 0:
                mine.pop(uri, None)
            else:
                mine[uri] = Binding(username, uri, host, port, user, now + expires, call_id,
                                    cseq)
            if not mine:
                del self._table[username]

    def remove_all(self, username: str) -> None:
        with self._lock:
            self._table.pop(username, None)

    def bindings(self, username: str, now: float) -> list[Binding]:
        """``username``'s live bindings, the latest to expire first."""
        with self._lock:
            mine = self._table.get(username, {})
            for uri in [u for u, b in mine.items() if b.expires_at <= now]:
                del mine[uri]
            return sorted(mine.values(), key=lambda b: -b.expires_at)

    def lookup(self, username: str, now: float) -> Binding | None:
        """Where to ring ``username`` now (None: not registered)."""
        live = self.bindings(username, now)
        return live[0] if live else None

    def all(self, now: float) -> list[Binding]:
        with self._lock:
            names = list(self._table)
        return [b for name in names for b in self.bindings(name, now)]
