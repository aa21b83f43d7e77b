"""The live event feed: ``WS /api/v1/events/ws?token=...``, one per tenant.
(A browser page sends its session cookie instead of ``token``.)

Events arrive only after they are committed to the log (the runtime publishes
after the commit). Supervisors, admins and analysts see every event of their
tenant; an agent sees its own events and those of the contacts offered to it
or handled by it. The handshake is refused (close code 1008) for a foreign
``Origin``, a missing or unknown token, or a role not in the route table; the
token is re-checked at least twice a second, so a logout closes the socket
within a second. A subscriber too slow to keep up is closed (1013).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from sqlalchemy import Engine as Database
from sqlalchemy import select

from switchboard.server import auth
from switchboard.server.runtime import AgentFilter, Runtime, Subscription
from switchboard.store import repo
from switchboard.store import schema as s

__all__ = ["PATH", "AgentFilter", "TokenWatch", "install_feed"]

logger = logging.getLogger("switchboard.feed")
PATH = "/api/v1/events/ws"
RECHECK_S = 0.5
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
CHUNK = 500  # token hashes per query


class TokenWatch:
    """Re-checks the token of every open feed every :data:`RECHECK_S`, all of
    them in one query (per 500), and wakes the feeds whose token is gone."""

    def __init__(self, db: Database, clock: Callable[[], float]) -> None:
        self.db = db
        self.clock = clock
        self.feeds: dict[str, set[Subscription]] = {}
        self.revoked: set[Subscription] = set()
        self.task: asyncio.Task[None] | None = None

    def watch(self, digest: str, sub: Subscription) -> None:
        self.feeds.setdefault(digest, set()).add(sub)
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run())

    def unwatch(self, digest: str, sub: Subscription) -> None:
        subs = self.feeds.get(digest)
        if subs is not None:
            subs.discard(sub)
            if not subs:
                del self.feeds[digest]
        self.revoked.discard(sub)

    def live(self, digests: list[str]) -> set[str]:
        """The digests among ``digests`` whose token is still valid."""
        alive: set[str] = set()
        now = self.clock()
        with self.db.connect() as conn:
            for i in range(0, len(digests), CHUNK):
                alive.update(conn.scalars(
                    select(s.Token.token_hash).join(s.User, s.User.id == s.Token.user_id)
                    .where(s.Token.token_hash.in_(digests[i:i + CHUNK]),
                           s.Token.expires_at > now, s.Token.tenant_id == s.User.tenant_id)))
        return alive

    async def _run(self) -> None:
        while self.feeds:
            await asyncio.sleep(RECHECK_S)
            digests = list(self.feeds)
            try:
                alive = self.live(digests)
            except Exception:
                logger.exception("could not re-check the feeds' tokens")
                continue
            for digest in digests:
                if digest not in alive:
                    for sub in self.feeds.get(digest, ()):
                        self.revoked.add(sub)
                        sub.wake.set()


def _same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == ws.headers.get("host")


def install_feed(app: FastAPI, runtime: Runtime, db: Database,
                 clock: Callable[[], float]) -> None:
    """Add the WebSocket route to ``app``."""
    tokens = TokenWatch(db, clock)

    def lookup(token: str) -> Any:
        with db.connect() as conn:
            return repo.user_for_token(conn, auth.token_digest(token), clock())

    @app.websocket(PATH)
    async def feed(ws: WebSocket, token: str = "") -> None:
        token = token or ws.cookies.get(auth.SESSION_COOKIE, "")  # the web UI's session
        user = lookup(token) if token and "\x00" not in token else None
        roles = auth.ROUTE_ROLES.get(("WEBSOCKET", PATH), frozenset())
        if not _same_origin(ws) or user is None or user.role not in roles:
            await ws.close(code=POLICY_VIOLATION)
            return
        runtime.ensure_tenant(user.tenant_id)
        await ws.accept()
        agent = (user.agent_id or "") if user.role == "agent" else None
        sub = runtime.subscribe(user.tenant_id, agent)
        digest = auth.token_digest(token)
        tokens.watch(digest, sub)
        gone = asyncio.create_task(_until_disconnect(ws))
        gone.add_done_callback(lambda _: sub.wake.set())
        try:
            # Everything that needs this loop sets ``wake``: an event for it, the
            # token watch finding the token gone, the client leaving, the buffer
            # overflowing. So an idle feed costs no CPU (no polling per socket).
            while not gone.done():
                if sub.closed:
                    await ws.close(code=TRY_AGAIN_LATER)
                    return
                if sub in tokens.revoked:
                    await ws.close(code=POLICY_VIOLATION)
                    return
                if sub.queue.empty():
                    sub.wake.clear()
                    await sub.wake.wait()
                    continue
                await ws.send_text(sub.queue.get_nowait().text)
        except WebSocketDisconnect:
            return
        finally:
            gone.cancel()
            if gone.done() and not gone.cancelled():
                gone.exception()  # retrieved: the socket is gone either way
            tokens.unwatch(digest, sub)
            runtime.unsubscribe(sub)


async def _until_disconnect(ws: WebSocket) -> None:
    """Read (and drop) what the client sends until it goes away, so that a
    closed socket is noticed within a recheck even when no events flow."""
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass
