"""What the agent desktop needs beyond the core resources: chat messages, the
customer's card (CTI screen pop), the agent's day and a directory of agents
to transfer to.

Messages are stored in their own table (not the engine's log: they change no
routing state) and pushed on the feed as ``{"kind": "message", ...}`` events
to the tenant's watchers and to the agent the contact is offered to or
connected with. An agent writes as ``agent`` to a contact connected to it; an
admin or a supervisor writes as the ``customer`` (the chat channel's gateway,
the demo's traffic, a test) while the contact is open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field
from sqlalchemy import Connection

from switchboard.domain.errors import Conflict, ValidationError
from switchboard.server import reports
from switchboard.server.auth import Forbidden, Principal
from switchboard.server.inputs import Body
from switchboard.server.routes import Idempotency, interaction_view
from switchboard.server.runtime import Runtime
from switchboard.server.security import audited
from switchboard.store import desktop, log, repo

TEXT_CHANNELS = frozenset({"chat", "email", "sms"})
OPEN_STATES = frozenset({"ivr", "queued", "offered", "connected", "held"})
HISTORY = 20


class MessageIn(Body):
    text: str = Field(min_length=1, max_length=4000)
    sender: Literal["agent", "customer"] | None = None


def build_desktop_router(runtime: Runtime, clock: Callable[[], float],
                         principal: Callable[..., Awaitable[Principal]]) -> APIRouter:
    """The routes of this module (see ``auth.ROUTE_ROLES``)."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(principal)])
    db = runtime.db
    who = Depends(principal)

    def read(fn: Callable[[Connection], Any]) -> Any:
        with db.connect() as conn:
            return fn(conn)

    def view(iid: str, p: Principal) -> tuple[Any, dict[str, Any]]:
        row = read(lambda conn: log.interaction_row(conn, p.tenant_id, iid))
        return row, interaction_view(runtime, row, p)  # 404: another tenant's, not the agent's

    # ------------------------------------------------------------------ messages
    @router.get("/interactions/{interaction_id}/messages", tags=["messages"])
    async def list_messages(interaction_id: str, p: Principal = who) -> list[dict[str, Any]]:
        """The contact's chat messages, oldest first."""
        view(interaction_id, p)
        out: list[dict[str, Any]] = read(
            lambda conn: desktop.messages(conn, p.tenant_id, interaction_id))
        return out

    @router.post("/interactions/{interaction_id}/messages", status_code=201, tags=["messages"])
    async def post_message(interaction_id: str, body: MessageIn, request: Request,
                           response: Response, p: Principal = who) -> dict[str, Any]:
        """Send a chat message: an agent answers a contact connected to it; an
        admin or supervisor writes as the customer while the contact is open.
        ``Idempotency-Key`` honoured."""
        row, it = view(interaction_id, p)
        sender = body.sender or ("agent" if p.role == "agent" else "customer")
        if p.role == "agent" and sender != "agent":
            raise Forbidden("an agent writes as the agent", field="sender")
        if p.role != "agent" and sender != "customer":
            raise ValidationError("an admin or supervisor writes as the customer "
                                  "(sender: customer)", field="sender")
        if row.channel not in TEXT_CHANNELS:
            raise Conflict(f"a {row.channel} contact has no messages", field="interaction")
        if sender == "agent" and (it["agent"] != p.agent_id or it["state"] != "connected"):
            raise Conflict("the contact is not connected to you: accept it or resume it "
                           "first", field="interaction")
        if sender == "customer" and it["state"] not in OPEN_STATES:
            raise Conflict(f"the contact is {it['state']}: no more messages from the customer",
                           field="interaction")
        idem: Idempotency = read(lambda conn: Idempotency(
            conn, request, p.tenant_id, f"interactions/{interaction_id}/messages", body))
        if idem.existing:
            response.headers["Idempotent-Replayed"] = "true"
            existing: dict[str, Any] = read(
                lambda conn: desktop.message(conn, p.tenant_id, str(idem.existing)))
            return existing
        now = clock()
        mid = repo.new_id()
        made: list[dict[str, Any]] = []

        def write(conn: Connection) -> None:
            made.append(desktop.add_message(
                conn, p.tenant_id, message_id=mid, interaction_id=interaction_id,
                sender=sender, text=body.text, at=now,
                agent_id=p.agent_id if sender == "agent" else None, user_id=p.user_id))
            idem.save(conn, mid, now)

        w = audited(p, "POST /interactions/{id}/messages", now, target=interaction_id,
                    detail={"sender": sender, "message": mid}, write=write)
        assert w is not None
        runtime.write(p.tenant_id, w)
        runtime.publish(p.tenant_id, {"kind": "message", "at": now,
                                      "interaction_id": interaction_id,
                                      "queue_id": it["queue"], "message": made[0]})
        return made[0]

    # ------------------------------------------------------------------ the card
    @router.get("/interactions/{interaction_id}/card", tags=["interactions"])
    async def card(interaction_id: str, p: Principal = who) -> dict[str, Any]:
        """The customer's card for the screen pop: the contact (state, queue,
        wait, the offer's expiry, the wrap-up's end), the customer, what they
        keyed in the IVR and the attributes, and their earlier contacts."""
        row, it = view(interaction_id, p)
        now = clock()

        def gather(conn: Connection) -> dict[str, Any]:
            contact = repo.contact_row(conn, p.tenant_id, row.contact_id) \
                if row.contact_id else None
            earlier = desktop.earlier_contacts(conn, p.tenant_id, row.contact_id,
                                               before=row.id, limit=HISTORY) \
                if row.contact_id else []
            wraps = desktop.dispositions_of(conn, p.tenant_id, [r.id for r in earlier])
            events = desktop.interaction_events(
                conn, p.tenant_id, interaction_id,
                ("ivr_input", "offered", "answered", "ended", "wrapup_extended"))
            queues, agents = desktop.names(conn, p.tenant_id)
            return {"contact": contact, "earlier": earlier, "wraps": wraps,
                    "events": events, "queues": queues, "agents": agents}

        got = read(gather)
        events, queues, agents = got["events"], got["queues"], got["agents"]
        me = p.agent_id if p.role == "agent" else None
        offers = [e for e in events if e["kind"] == "offered"
                  and (me is None or e.get("agent_id") == me)]
        answered = [e for e in events if e["kind"] == "answered"]
        wrap_ends = [e.get("wrapup_until") for e in events
                     if e["kind"] in ("ended", "wrapup_extended")]
        enqueued = it["enqueued_at"]
        if answered:
            wait_s: float | None = answered[0].get("wait_s", 0.0)
        elif enqueued is not None and it["state"] in ("queued", "offered"):
            wait_s = max(0.0, now - enqueued)
        else:
            wait_s = None
        c = got["contact"]
        return {
            "interaction": it,
            "queue": {"id": it["queue"], "name": queues.get(it["queue"] or "", it["queue"])},
            "customer": None if c is None else {"id": c.id, "name": c.name, "phone": c.phone,
                                                "email": c.email},
            "attributes": row.attributes,
            "ivr": [{"at": e["at"], "step": e.get("step"), "digits": e.get("digits", ""),
                     "attributes": e.get("attributes", {})}
                    for e in events if e["kind"] == "ivr_input"],
            "wait_s": wait_s,
            "answered_at": answered[-1]["at"] if answered else None,
            "offer": ({"expires_at": offers[-1].get("expires_at"),
                       "reservation_id": offers[-1].get("reservation_id")}
                      if offers and it["state"] == "offered" else None),
            "wrapup_until": next((w for w in reversed(wrap_ends) if w is not None), None),
            "history": [_history(r, got["wraps"].get(r.id, {}), queues, agents)
                        for r in got["earlier"]],
        }

    # ------------------------------------------------------------------ the agent's day
    @router.get("/agents/{agent_id}/today", tags=["agents"])
    async def agent_today(agent_id: str, p: Principal = who,
                          tz: str = Query("UTC", max_length=64)) -> dict[str, Any]:
        """The agent's live view with its capacity, when its status and state
        began, and the contacts it answered since local midnight in ``tz``."""
        if p.role == "agent" and p.agent_id != agent_id:
            raise Forbidden("an agent sees only itself", field="agent")
        read(lambda conn: repo.agent_row(conn, p.tenant_id, agent_id))
        zone = reports.zone(tz)
        now = clock()
        start = reports.day_start(now, zone)
        engine = runtime.engine(p.tenant_id)
        agent = engine.agent(agent_id)
        agent["capacity"] = {ch.value: n
                             for ch, n in engine.agent_config(agent_id).capacity.items()}

        def gather(conn: Connection) -> dict[str, Any]:
            handled = desktop.handled_since(conn, p.tenant_id, agent_id, start)
            ids = list(dict.fromkeys(e["interaction_id"] for _, e in handled))
            return {"handled": handled, "rows": desktop.interactions(conn, p.tenant_id, ids),
                    "wraps": desktop.dispositions_of(conn, p.tenant_id, ids),
                    "since": desktop.status_since(conn, p.tenant_id, agent_id, now - 86400.0),
                    "names": desktop.names(conn, p.tenant_id)}

        got = read(gather)
        queues, _ = got["names"]
        contacts = []
        for at, ev in reversed(got["handled"]):
            r = got["rows"].get(ev["interaction_id"])
            wrap = got["wraps"].get(ev["interaction_id"], {})
            contacts.append({
                "id": ev["interaction_id"], "answered_at": at, "wait_s": ev.get("wait_s"),
                "queue": ev.get("queue_id"), "queue_name": queues.get(ev.get("queue_id") or ""),
                "channel": r.channel if r is not None else None,
                "state": r.state if r is not None else None,
                "closed_at": r.closed_at if r is not None else None,
                "disposition": wrap.get("disposition") if wrap.get("agent_id") in (
                    None, agent_id) else None})
        status_at, state_at = got["since"]
        return {"agent": agent, "status_since": status_at, "state_since": state_at,
                "day_start": start, "contacts": contacts}

    # ------------------------------------------------------------------ directory
    @router.get("/directory/agents", tags=["agents"])
    async def directory(p: Principal = who) -> list[dict[str, Any]]:
        """Every agent's name, status and state: whom a contact can be transferred to."""
        engine = runtime.engine(p.tenant_id)
        out = []
        for r in read(lambda conn: repo.list_agents(conn, p.tenant_id)):
            a = engine.agent(r.id)
            out.append({"id": a["id"], "name": a["name"], "status": a["status"],
                        "state": a["state"]})
        return out

    return router


def _history(r: Any, wrap: dict[str, Any], queues: dict[str, str],
             agents: dict[str, str]) -> dict[str, Any]:
    return {"id": r.id, "channel": r.channel, "state": r.state, "queue": r.queue_id,
            "queue_name": queues.get(r.queue_id or ""), "agent": r.agent_id,
            "agent_name": agents.get(r.agent_id or ""), "created_at": r.created_at,
            "closed_at": r.closed_at, "disposition": wrap.get("disposition"),
            "notes": wrap.get("notes")}
