"""The live event feed: ``WS /api/v1/events/ws?token=...``, one per tenant.

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
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from sqlalchemy import Engine as Database

from switchboard.server import auth
from switchboard.server.runtime import Runtime
from switchboard.store import repo

PATH = "/api/v1/events/ws"
RECHECK_S = 0.5
POLICY_VIOLATION = 1008
TRY_AGAIN_LATER = 1013
_DONE_FOR_AGENT = {"offer_timeout", "offer_rejected", "offer_withdrawn", "wrapup_ended",
                   "transferred"}


class AgentFilter:
    """Which events an agent may see: its own, and its contacts' while it has them."""

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.mine: set[str] = set()

    def allows(self, event: dict[str, Any]) -> bool:
        iid = event.get("interaction_id")
        if event.get("agent_id") == self.agent_id or event.get("to_agent") == self.agent_id:
            if iid is not None:
                if event["kind"] in _DONE_FOR_AGENT and event.get("to_agent") != self.agent_id:
                    self.mine.discard(iid)
                else:
                    self.mine.add(iid)
            return True
        return iid is not None and iid in self.mine


def _same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == ws.headers.get("host")


def install_feed(app: FastAPI, runtime: Runtime, db: Database,
                 clock: Callable[[], float]) -> None:
    """Add the WebSocket route to ``app``."""

    def lookup(token: str) -> Any:
        with db.connect() as conn:
            return repo.user_for_token(conn, auth.token_digest(token), clock())

    @app.websocket(PATH)
    async def feed(ws: WebSocket, token: str = "") -> None:
        user = lookup(token) if token else None
        roles = auth.ROUTE_ROLES.get(("WEBSOCKET", PATH), frozenset())
        if not _same_origin(ws) or user is None or user.role not in roles:
            await ws.close(code=POLICY_VIOLATION)
            return
        runtime.ensure_tenant(user.tenant_id)
        await ws.accept()
        allow = AgentFilter(user.agent_id or "").allows if user.role == "agent" else None
        sub = runtime.subscribe(user.tenant_id)
        checked = time.monotonic()
        gone = asyncio.create_task(_until_disconnect(ws))
        try:
            while not gone.done():
                try:
                    event = await asyncio.wait_for(sub.queue.get(), RECHECK_S)
                except TimeoutError:
                    event = None
                if sub.closed:
                    await ws.close(code=TRY_AGAIN_LATER)
                    return
                if time.monotonic() - checked >= RECHECK_S:
                    if lookup(token) is None:
                        await ws.close(code=POLICY_VIOLATION)
                        return
                    checked = time.monotonic()
                if event is not None and (allow is None or allow(event)):
                    await ws.send_json(event)
        except WebSocketDisconnect:
            return
        finally:
            gone.cancel()
            if gone.done() and not gone.cancelled():
                gone.exception()  # retrieved: the socket is gone either way
            runtime.unsubscribe(sub)


async def _until_disconnect(ws: WebSocket) -> None:
    """Read (and drop) what the client sends until it goes away, so that a
    closed socket is noticed within a recheck even when no events flow."""
    while (await ws.receive())["type"] != "websocket.disconnect":
        pass
