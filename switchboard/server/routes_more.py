"""Interactions list, callbacks, warm-transfer completion and reports.

Actions go through the runtime (one command, its events and the request's rows
in one transaction, the audit row of an admin or supervisor included).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import Connection

from switchboard.domain import commands as c
from switchboard.domain.enums import Channel, InteractionState
from switchboard.domain.errors import NotFound, ValidationError
from switchboard.domain.model import Customer
from switchboard.metrics import ReportParams
from switchboard.server import reports
from switchboard.server.auth import Principal
from switchboard.server.inputs import Body
from switchboard.server.routes import CustomerIn, Idempotency, interaction_view
from switchboard.server.runtime import Runtime
from switchboard.server.security import audited
from switchboard.store import config as admin_config
from switchboard.store import log, repo
from switchboard.store.contacts import check_email, to_e164

MAX_DUE_S = 366 * 86400.0  # a callback is scheduled at most a year ahead


class CallbackIn(Body):
    queue: str = Field(min_length=1, max_length=64)
    due_at: float | None = Field(default=None, ge=0, le=1e11)
    customer: CustomerIn = Field(default_factory=CustomerIn)
    priority: int = Field(default=0, ge=-1000, le=1000)
    channel: Channel = Channel.VOICE


class VirtualHoldIn(Body):
    phone: str | None = Field(default=None, max_length=40)
    region: str | None = Field(default=None, min_length=2, max_length=2)


def build_more_router(runtime: Runtime, clock: Callable[[], float],
                      principal: Callable[..., Awaitable[Principal]]) -> APIRouter:
    """The routes of this module (see ``auth.ROUTE_ROLES``)."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(principal)])
    db = runtime.db
    who = Depends(principal)

    def read(fn: Callable[[Connection], Any]) -> Any:
        with db.connect() as conn:
            return fn(conn)

    def view(iid: str, p: Principal) -> dict[str, Any]:
        return interaction_view(runtime, read(lambda conn: log.interaction_row(
            conn, p.tenant_id, iid)), p)

    def act(iid: str, p: Principal, action: str, cmd: c.Command,
            detail: dict[str, Any] | None = None) -> dict[str, Any]:
        view(iid, p)  # 404 for another tenant's id, or a contact not the agent's
        runtime.execute(p.tenant_id, cmd, write=audited(p, action, clock(), target=iid,
                                                        detail=detail))
        return view(iid, p)

    # ------------------------------------------------------------------ interactions
    @router.get("/interactions", tags=["interactions"])
    async def list_interactions(
            p: Principal = who, state: InteractionState | None = None,
            queue: str | None = Query(None, max_length=64),
            limit: int = Query(50, ge=1, le=500),
            offset: int = Query(0, ge=0, le=10_000_000)) -> dict[str, Any]:
        """Contacts, newest first, filtered by ``state`` and ``queue``; ``next_offset``
        pages on (null on the last page)."""
        rows = read(lambda conn: log.list_interactions(
            conn, p.tenant_id, state=state.value if state else None, queue_id=queue,
            offset=offset, limit=limit + 1))
        items = [interaction_view(runtime, r, p) for r in rows[:limit]]
        return {"items": items, "next_offset": offset + limit if len(rows) > limit else None}

    @router.post("/interactions/{interaction_id}/callback", tags=["callbacks"])
    async def virtual_hold(interaction_id: str, body: VirtualHoldIn,
                           p: Principal = who) -> dict[str, Any]:
        """Virtual hold: the waiting customer is called back, keeping its place."""
        phone = to_e164(body.phone, region=body.region, field="phone") if body.phone else None
        return act(interaction_id, p, "POST /interactions/{id}/callback",
                   c.RequestCallback(interaction_id=interaction_id, phone=phone),
                   {"phone": phone})

    @router.post("/interactions/{interaction_id}/transfer/complete", tags=["interactions"])
    async def complete_transfer(interaction_id: str, p: Principal = who) -> dict[str, Any]:
        """Finish a warm transfer: the consulted agent keeps the customer."""
        return act(interaction_id, p, "POST /interactions/{id}/transfer/complete",
                   c.CompleteTransfer(interaction_id=interaction_id))

    @router.post("/interactions/{interaction_id}/transfer/cancel", tags=["interactions"])
    async def cancel_transfer(interaction_id: str, p: Principal = who) -> dict[str, Any]:
        """Call a warm transfer off: the customer comes back to the first agent."""
        return act(interaction_id, p, "POST /interactions/{id}/transfer/cancel",
                   c.CancelTransfer(interaction_id=interaction_id))

    # ------------------------------------------------------------------ callbacks
    @router.post("/callbacks", status_code=201, tags=["callbacks"])
    async def schedule_callback(body: CallbackIn, request: Request, response: Response,
                                p: Principal = who) -> dict[str, Any]:
        """A callback that enters ``queue`` at ``due_at`` (now when left out);
        ``Idempotency-Key`` honoured."""
        idem: Idempotency = read(lambda conn: Idempotency(conn, request, p.tenant_id,
                                                          "callbacks", body))
        if idem.existing:
            response.headers["Idempotent-Replayed"] = "true"
            return scheduled(idem.existing, p)
        try:
            read(lambda conn: repo.queue_config(conn, p.tenant_id, body.queue))
        except NotFound as exc:  # another tenant's queue is unknown: a body error
            raise ValidationError(f"no queue {body.queue!r}", field="queue") from exc
        cust = body.customer
        phone = to_e164(cust.phone, region=cust.region, field="customer.phone") \
            if cust.phone else None
        if phone is None:
            raise ValidationError("a callback needs the customer's phone",
                                  field="customer.phone")
        email = check_email(cust.email, field="customer.email") if cust.email else None
        now = clock()
        due = now if body.due_at is None else body.due_at
        if due > now + MAX_DUE_S:
            raise ValidationError("must be within a year", field="due_at")
        iid = repo.new_id()

        def write(conn: Connection) -> None:
            contact = repo.find_or_create_contact(conn, p.tenant_id, now=now, name=cust.name,
                                                  phone=phone, email=email)
            log.insert_interaction(conn, p.tenant_id, interaction_id=iid,
                                   channel=body.channel.value, contact_id=contact,
                                   queue_id=body.queue, priority=body.priority,
                                   attributes={}, now=now)
            idem.save(conn, iid, now)

        runtime.execute(p.tenant_id, c.ScheduleCallback(
            interaction_id=iid, queue_id=body.queue, due_at=due, phone=phone,
            priority=body.priority, channel=body.channel,
            customer=Customer(name=cust.name, phone=phone, email=email)),
            write=audited(p, "POST /callbacks", now, target=iid,
                          detail=body.model_dump(mode="json"), write=write))
        return scheduled(iid, p)

    def scheduled(iid: str, p: Principal) -> dict[str, Any]:
        out = view(iid, p)
        events = read(lambda conn: log.events(conn, p.tenant_id, interaction_id=iid))
        out["due_at"] = next(ev["due_at"] for ev in events
                             if ev["kind"] == "callback_scheduled")
        return out

    # ------------------------------------------------------------------ reports
    @router.get("/reports/{by}", tags=["reports"], response_model=None)
    async def report(by: Literal["interval", "day", "queue", "agent", "channel"],
                     p: Principal = who,
                     from_: str = Query(..., alias="from", max_length=40),
                     to: str = Query(..., max_length=40),
                     tz: str | None = Query(None, max_length=64),
                     interval: int = Query(30, description="minutes: 15, 30 or 60"),
                     sl_threshold: float = Query(20.0, ge=0, le=86400),
                     fmt: Literal["json", "csv", "xlsx", "parquet"] = Query("json",
                                                                            alias="format"),
                     ) -> list[dict[str, Any]] | Response:
        """METRICS.md figures from the event log, events with ``from <= at < to``
        (POSIX seconds or ISO 8601, local to ``tz`` without an offset; ``tz`` is
        the tenant's zone when left out). ``format`` csv, xlsx and parquet are
        downloads (``Content-Disposition: attachment``)."""
        if tz is None:
            tz = read(lambda conn: admin_config.tenant_zone(conn, p.tenant_id))
        zone = reports.zone(tz)
        start = reports.instant(from_, zone, "from")
        end = reports.instant(to, zone, "to")
        if interval not in (15, 30, 60):  # a query string is text: Literal[15, ...] refused "30"
            raise ValidationError("must be 15, 30 or 60 (minutes)", field="interval")
        params = ReportParams(interval_min=interval, sl_threshold_s=sl_threshold, tz=zone)
        rows: list[dict[str, Any]] = read(
            lambda conn: reports.report(conn, p.tenant_id, by, start, end, params))
        if fmt != "json":
            meta = {"report": by, "from": from_, "to": to, "tz": tz, "interval_min": interval,
                    "sl_threshold_s": sl_threshold, "from_s": start, "to_s": end}
            data = await run_in_threadpool(reports.export, rows, by, fmt, meta)
            media, suffix = reports.EXPORTS[fmt]
            name = reports.file_name(by, from_, to, suffix)
            return Response(data, media_type=media,
                            headers={"Content-Disposition": f'attachment; filename="{name}"'})
        return rows

    return router
