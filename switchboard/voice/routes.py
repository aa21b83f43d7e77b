"""The voice API: click-to-dial for agents, and the state of agents' phones.

The routes exist whether or not the telephony service runs (the permission
table lists them); without it they answer 409 ``voice_not_running``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import Field

from switchboard.domain.errors import Conflict
from switchboard.server.auth import Principal
from switchboard.server.inputs import Body
from switchboard.store.contacts import to_e164


class VoiceNotRunning(Conflict):
    """The server runs without its telephony service (``serve --voice``)."""

    code = "voice_not_running"


class DialIn(Body):
    number: str = Field(min_length=1, max_length=40)
    region: str | None = Field(default=None, min_length=2, max_length=2)
    queue: str | None = Field(default=None, min_length=1, max_length=64)


def build_voice_router(principal: Callable[..., Awaitable[Principal]]) -> APIRouter:
    """``POST /voice/calls`` (an agent dials a customer: its phone rings, then
    the customer's) and ``GET /voice/phones`` (configured phones, registered
    or not)."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(principal)])
    who = Depends(principal)

    def service(request: Request) -> Any:
        svc = getattr(request.app.state, "telephony", None)
        if svc is None or svc.calls is None:
            raise VoiceNotRunning("no telephony service runs: start the server with --voice")
        return svc

    @router.post("/voice/calls", status_code=201, tags=["voice"])
    async def dial(body: DialIn, request: Request, p: Principal = who) -> dict[str, Any]:
        """Click-to-dial: ring the calling agent's phone, then ``number``
        (E.164, or national with ``region``), reported under ``queue`` (by
        default the agent's first queue). 409 ``agent_unavailable`` unless
        the agent is ready and free; 404 for an unknown queue."""
        agent = p.acting_agent(None)
        number = to_e164(body.number, region=body.region, field="number")
        svc = service(request)
        iid = svc.calls.click_to_dial(p.tenant_id, agent, number, body.queue)
        return {"interaction": iid, "agent": agent, "number": number}

    @router.get("/voice/phones", tags=["voice"])
    async def phones(request: Request, p: Principal = who) -> list[dict[str, Any]]:
        """The tenant's configured phones: fixed address, or where (and until
        when, in seconds from now) each registered."""
        svc = service(request)
        registrar = svc.signalling.registrar
        now = time.monotonic()
        out = []
        for phone in svc.config.phones.values():
            if phone.tenant != p.tenant_id:
                continue
            item: dict[str, Any] = {"username": phone.username, "agent": phone.agent}
            if phone.address is not None:
                item.update(kind="fixed", address=f"{phone.address[0]}:{phone.address[1]}")
            else:
                binding = registrar.lookup(phone.username, now)
                item.update(kind="registered", registered=binding is not None,
                            contact=binding.uri if binding else None,
                            expires_in_s=round(binding.expires_at - now) if binding else None)
            out.append(item)
        return out

    return router
