"""The REST resources: queues, agents, interactions.

Each handler checks everything (body, tenant, the caller's right to act) before
its one action, a runtime command whose rows commit in the same transaction as
the command and its events; so a refused request changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import Connection

from switchboard.domain import commands as c
from switchboard.domain.enums import AgentStatus, Channel, Strategy
from switchboard.domain.errors import ConfigError, NotFound, SwitchboardError, ValidationError
from switchboard.domain.model import AgentConfig, Customer, JoinRule, QueueConfig
from switchboard.server import reports
from switchboard.server.auth import Forbidden, Principal, credential, token_digest
from switchboard.server.inputs import Body, SkillMap
from switchboard.server.queue_body import (
    OverflowIn,
    StepIn,
    build_queue,
    check_references,
    engine_error,
    queue_routing_out,
    skills_named,
)
from switchboard.server.runtime import Runtime
from switchboard.server.security import audited
from switchboard.store import config as admin_config
from switchboard.store import log, repo
from switchboard.store.codec import command_to_json
from switchboard.store.contacts import check_email, to_e164


class QueueIn(Body):
    name: str = Field(min_length=1, max_length=200)
    strategy: Strategy = Strategy.LONGEST_IDLE
    skills: SkillMap = Field(default_factory=dict)
    ring_timeout_s: float = Field(default=20.0, gt=0, le=3600)
    wrapup_s: float = Field(default=0.0, ge=0, le=3600)
    timeout_s: float | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)
    sl_threshold_s: float = Field(default=20.0, ge=0)
    priority_aging_s: float = Field(default=0.0, ge=0)
    # routing beyond the strategy (domain QueueConfig; see docs/routing.md)
    members: list[str] | None = Field(default=None, max_length=1000)
    weight: int = Field(default=0, ge=-1000, le=1000)
    steps: list[StepIn] = Field(default_factory=list, max_length=20)
    overflow: list[OverflowIn] = Field(default_factory=list, max_length=20)
    join_rule: JoinRule = JoinRule.ALWAYS
    leave_rule: JoinRule = JoinRule.ALWAYS
    max_wrapup_s: float = Field(default=600.0, ge=0, le=86400)
    max_misses: int = Field(default=3, ge=0, le=100)
    affinity_timeout_s: float = Field(default=0.0, ge=0, le=86400)
    callback_ewt_s: float | None = Field(default=None, ge=0, le=86400)


class AgentIn(Body):
    name: str = Field(min_length=1, max_length=200)
    skills: SkillMap = Field(default_factory=dict)
    capacity: dict[Channel, int] | None = None


class StatusIn(Body):
    status: Literal["ready", "not_ready", "offline"]
    reason: str | None = Field(default=None, max_length=100)


class CustomerIn(Body):
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=320)
    name: str | None = Field(default=None, max_length=200)
    region: str | None = Field(default=None, min_length=2, max_length=2)


class InteractionIn(Body):
    channel: Channel = Channel.CHAT
    queue: str = Field(min_length=1, max_length=64)
    customer: CustomerIn = Field(default_factory=CustomerIn)
    priority: int = Field(default=0, ge=-1000, le=1000)
    attributes: dict[str, Any] = Field(default_factory=dict)


class AgentRef(Body):
    agent: str | None = None


class WrapupIn(AgentRef):
    disposition: str | None = Field(default=None, max_length=100)
    notes: str | None = Field(default=None, max_length=4000)


class TransferIn(Body):
    to_agent: str | None = None
    to_queue: str | None = None
    mode: Literal["blind", "warm"] = "blind"


class IdempotencyMismatch(ValidationError):
    """An ``Idempotency-Key`` came back with another route or body."""

    code = "idempotency_mismatch"


class Idempotency:
    """The ``Idempotency-Key`` of a creating POST: the id created by an earlier
    request with the same key (``existing``), or what to save with this one."""

    def __init__(self, conn: Connection | None, request: Request, tenant_id: str, route: str,
                 body: BaseModel) -> None:
        """``conn`` may be ``None`` only for a request without the header."""
        self.tenant_id, self.route = tenant_id, route
        self.key = request.headers.get("idempotency-key")
        self.digest = ""
        self.existing: str | None = None
        if self.key is None:
            return
        assert conn is not None
        self.digest = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
        if not 1 <= len(self.key) <= 200:
            raise ValidationError("must be 1 to 200 characters", field="Idempotency-Key")
        row = repo.idempotent_request(conn, tenant_id, self.key)
        if row is not None:
            if (row.route, row.request_hash) != (route, self.digest):
                raise IdempotencyMismatch("this key was used with another request",
                                          field="Idempotency-Key")
            self.existing = row.resource_id

    def save(self, conn: Connection, resource_id: str, now: float) -> None:
        if self.key is not None:
            repo.save_idempotent_request(conn, self.tenant_id, key=self.key, route=self.route,
                                         request_hash=self.digest, resource_id=resource_id,
                                         now=now)


VERBS: dict[type[c.Command], str] = {
    c.Accept: "accept", c.Reject: "reject", c.Hold: "hold", c.Resume: "resume",
    c.Hangup: "end", c.EndWrapup: "wrapup", c.Transfer: "transfer"}


def queue_out(q: QueueConfig) -> dict[str, Any]:
    return {"id": q.id, "name": q.name, "strategy": q.strategy.value, "skills": dict(q.skills),
            "ring_timeout_s": q.ring_timeout_s, "wrapup_s": q.wrapup_s,
            "timeout_s": q.timeout_s, "max_length": q.max_length,
            "sl_threshold_s": q.sl_threshold_s, "priority_aging_s": q.priority_aging_s,
            **queue_routing_out(q)}


def agent_out(runtime: Runtime, tenant_id: str, agent_id: str) -> dict[str, Any]:
    """The engine's view of an agent, with its capacity per channel."""
    engine = runtime.engine(tenant_id)
    out = engine.agent(agent_id)
    out["capacity"] = {ch.value: n for ch, n in engine.agent_config(agent_id).capacity.items()}
    return out


def build_router(runtime: Runtime, clock: Callable[[], float],
                 principal: Callable[..., Awaitable[Principal]],
                 today_figures: reports.TodayFigures) -> APIRouter:
    """The routes under ``/api/v1`` that need a token (see ``auth.ROUTE_ROLES``).

    Handlers are ``async`` on purpose: they run on the event loop's thread, the
    only thread that may drive the runtime (FastAPI would run plain functions
    in a thread pool, where engine calls could interleave)."""
    # Router-wide: no route under it can skip the permission table; handlers that
    # need the caller declare the same dependency (FastAPI runs it once).
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(principal)])
    db = runtime.db
    who = Depends(principal)

    def read(fn: Callable[[Connection], Any]) -> Any:
        with db.connect() as conn:
            return fn(conn)

    def idempotency(request: Request, p: Principal, route: str, body: BaseModel,
                    response: Response) -> Idempotency:
        if "idempotency-key" not in request.headers:  # no database round trip
            return Idempotency(None, request, p.tenant_id, route, body)
        idem: Idempotency = read(lambda conn: Idempotency(conn, request, p.tenant_id, route,
                                                          body))
        if idem.existing:
            response.headers["Idempotent-Replayed"] = "true"
        return idem

    @router.post("/auth/logout", status_code=204, tags=["auth"])
    async def logout(request: Request, p: Principal = who) -> None:
        """Revoke the calling token (its event feeds close within a second)."""
        digest = token_digest(credential(request)[0])
        with db.begin() as conn:
            repo.delete_token(conn, p.tenant_id, digest)

    @router.get("/me", tags=["auth"])
    async def me(p: Principal = who) -> dict[str, Any]:
        """The calling user: id, tenant, role and agent."""
        return {"id": p.user_id, "tenant": p.tenant_id, "role": p.role, "agent": p.agent_id}

    # ------------------------------------------------------------------ queues
    @router.post("/queues", status_code=201, tags=["queues"])
    async def create_queue(body: QueueIn, request: Request, response: Response,
                           p: Principal = who) -> dict[str, Any]:
        """Create a queue; unknown skills join the tenant's catalogue."""
        idem = idempotency(request, p, "queues", body, response)
        if idem.existing:
            return queue_out(read(lambda conn: repo.queue_config(conn, p.tenant_id,
                                                                 str(idem.existing))))
        q = build_queue(repo.new_id(), body.model_dump())
        read(lambda conn: check_references(conn, p.tenant_id, q))
        now = clock()

        def write(conn: Connection) -> None:
            _catalogue(conn, p.tenant_id, skills_named(q), now)
            repo.insert_queue(conn, p.tenant_id, q, now)
            idem.save(conn, q.id, now)

        try:
            runtime.execute(p.tenant_id, c.UpsertQueue(queue=q), new_skills=skills_named(q),
                            write=audited(p, "POST /queues", now, target=q.id,
                                          detail=body.model_dump(mode="json"), write=write))
        except ConfigError as exc:
            raise engine_error(exc, q.id) from None
        return queue_out(q)

    @router.get("/queues", tags=["queues"])
    async def list_queues(p: Principal = who) -> list[dict[str, Any]]:
        return [queue_out(q) for q in read(lambda conn: repo.list_queues(conn, p.tenant_id))]

    @router.get("/queues/{queue_id}", tags=["queues"])
    async def get_queue(queue_id: str, p: Principal = who) -> dict[str, Any]:
        return queue_out(read(lambda conn: repo.queue_config(conn, p.tenant_id, queue_id)))

    @router.get("/queues/{queue_id}/stats", tags=["queues"])
    async def queue_stats(queue_id: str, p: Principal = who, tz: str = "UTC") -> dict[str, Any]:
        """Live figures (waiting, longest wait, agents ready and logged in, EWT) and
        ``today``: the queue report's METRICS.md figures since local midnight in ``tz``."""
        config = read(lambda conn: repo.queue_config(conn, p.tenant_id, queue_id))
        zone = reports.zone(tz)
        engine = runtime.engine(p.tenant_id)
        stats = engine.queue_stats(queue_id)
        if stats["waiting"]:  # the engine's clock stops between inputs; ours does not
            stats["longest_wait_s"] += max(0.0, clock() - engine.now)
        now = clock()
        rows = read(lambda conn: today_figures.rows(conn, p.tenant_id, zone, now,
                                                    config.sl_threshold_s))
        stats["today"] = reports.today(rows, queue_id, reports.day_start(now, zone),
                                       config.sl_threshold_s)
        return stats

    # ------------------------------------------------------------------ agents
    @router.post("/agents", status_code=201, tags=["agents"])
    async def create_agent(body: AgentIn, request: Request, response: Response,
                           p: Principal = who) -> dict[str, Any]:
        """Create an agent (offline); unknown skills join the tenant's catalogue."""
        idem = idempotency(request, p, "agents", body, response)
        if idem.existing:
            return agent_out(runtime, p.tenant_id, idem.existing)
        kwargs: dict[str, Any] = {"id": repo.new_id(), "name": body.name,
                                  "skills": body.skills}
        if body.capacity is not None:
            kwargs["capacity"] = body.capacity
        a = AgentConfig(**kwargs)
        now = clock()

        def write(conn: Connection) -> None:
            _catalogue(conn, p.tenant_id, a.skills, now)
            repo.insert_agent(conn, p.tenant_id, a, now)
            idem.save(conn, a.id, now)

        runtime.execute(p.tenant_id, c.UpsertAgent(agent=a), new_skills=a.skills,
                        write=audited(p, "POST /agents", now, target=a.id,
                                      detail=body.model_dump(mode="json"), write=write))
        return agent_out(runtime, p.tenant_id, a.id)

    @router.get("/agents", tags=["agents"])
    async def list_agents(p: Principal = who) -> list[dict[str, Any]]:
        return [agent_out(runtime, p.tenant_id, r.id)
                for r in read(lambda conn: repo.list_agents(conn, p.tenant_id))]

    @router.get("/agents/{agent_id}", tags=["agents"])
    async def get_agent(agent_id: str, p: Principal = who) -> dict[str, Any]:
        if p.role == "agent" and p.agent_id != agent_id:
            raise Forbidden("an agent sees only itself", field="agent")
        read(lambda conn: repo.agent_row(conn, p.tenant_id, agent_id))
        return agent_out(runtime, p.tenant_id, agent_id)

    @router.post("/agents/{agent_id}/status", tags=["agents"])
    async def set_status(agent_id: str, body: StatusIn, p: Principal = who) -> dict[str, Any]:
        """Ready, not ready (with a reason) or offline."""
        if p.role == "agent" and p.agent_id != agent_id:
            raise Forbidden("an agent sets only its own status", field="agent")
        read(lambda conn: repo.agent_row(conn, p.tenant_id, agent_id))
        read(lambda conn: admin_config.check_known(conn, p.tenant_id, "reason_codes",
                                                   body.reason, "reason"))
        cmd = c.SetAgentStatus(agent_id=agent_id, status=AgentStatus(body.status),
                               reason=body.reason, by=p.user_id)
        runtime.execute(p.tenant_id, cmd, write=audited(
            p, "POST /agents/{id}/status", clock(), target=agent_id,
            detail=body.model_dump(mode="json")))
        return agent_out(runtime, p.tenant_id, agent_id)

    # ------------------------------------------------------------------ interactions
    @router.post("/interactions", status_code=201, tags=["interactions"])
    async def create_interaction(body: InteractionIn, request: Request, response: Response,
                                 p: Principal = who) -> dict[str, Any]:
        """A contact from the API, chat or e-mail, enqueued at once."""
        idem = idempotency(request, p, "interactions", body, response)
        if idem.existing:
            return interaction_out(idem.existing, p)
        engine = runtime.engine(p.tenant_id)
        if not engine.has_queue(body.queue):  # the engine's queues are the table's
            raise ValidationError(f"no queue {body.queue!r}", field="queue")
        cust = body.customer
        phone = to_e164(cust.phone, region=cust.region, field="customer.phone") \
            if cust.phone else None
        email = check_email(cust.email, field="customer.email") if cust.email else None
        iid = repo.new_id()
        now = clock()
        contacts: list[str | None] = []

        def write(conn: Connection) -> None:
            contact = repo.find_or_create_contact(conn, p.tenant_id, now=now, name=cust.name,
                                                  phone=phone, email=email)
            contacts.append(contact)
            log.insert_interaction(conn, p.tenant_id, interaction_id=iid,
                                   channel=body.channel.value, contact_id=contact,
                                   queue_id=body.queue, priority=body.priority,
                                   attributes=body.attributes, now=now)
            idem.save(conn, iid, now)

        arrive = c.Arrive(interaction_id=iid, channel=body.channel, queue_id=body.queue,
                          priority=body.priority, attributes=body.attributes,
                          customer=Customer(name=cust.name, phone=phone, email=email))
        rows = audited(p, "POST /interactions", now, target=iid,
                       detail=body.model_dump(mode="json"), write=write)
        if idem.key is None:  # committed with the other creates of this loop turn
            await runtime.submit(p.tenant_id, arrive, write=rows)
        else:  # checked and saved with no other request in between
            runtime.execute(p.tenant_id, arrive, write=rows)
        engine = runtime.engine(p.tenant_id)
        try:
            live = engine.interaction(iid)
        except SwitchboardError:  # closed at once (queue full...): the table has its end
            return interaction_out(iid, p)
        # still live: the row just written plus the engine's view, without reading it back
        row = Row(id=iid, state="ivr", channel=body.channel.value, queue_id=body.queue,
                  agent_id=None, priority=body.priority, contact_id=contacts[0],
                  attributes=body.attributes, created_at=now, enqueued_at=None,
                  closed_at=None)
        return _view(row, live, p)

    def interaction_out(iid: str, p: Principal) -> dict[str, Any]:
        row = read(lambda conn: log.interaction_row(conn, p.tenant_id, iid))
        return interaction_view(runtime, row, p)

    @router.get("/interactions/{interaction_id}", tags=["interactions"])
    async def get_interaction(interaction_id: str, p: Principal = who) -> dict[str, Any]:
        """State, queue, position and times of a contact."""
        return interaction_out(interaction_id, p)

    @router.get("/interactions/{interaction_id}/events", tags=["interactions"])
    async def interaction_events(interaction_id: str,
                                 p: Principal = who) -> list[dict[str, Any]]:
        """The contact's events from the log, oldest first."""
        read(lambda conn: log.interaction_row(conn, p.tenant_id, interaction_id))
        return list(read(lambda conn: log.events(conn, p.tenant_id,
                                                 interaction_id=interaction_id)))

    def act(iid: str, p: Principal, make: Callable[[], c.Command]) -> dict[str, Any]:
        read(lambda conn: log.interaction_row(conn, p.tenant_id, iid))
        cmd = make()
        runtime.execute(p.tenant_id, cmd, write=audited(
            p, f"POST /interactions/{{id}}/{VERBS[type(cmd)]}", clock(), target=iid,
            detail={k: v for k, v in command_to_json(cmd)[1].items() if k != "interaction_id"}))
        return interaction_out(iid, p)

    @router.post("/interactions/{interaction_id}/accept", tags=["reservations"])
    async def accept(interaction_id: str, body: AgentRef, p: Principal = who) -> dict[str, Any]:
        """The agent takes the contact offered to it."""
        agent = p.acting_agent(body.agent)
        return act(interaction_id, p, lambda: c.Accept(interaction_id=interaction_id,
                                                       agent_id=agent))

    @router.post("/interactions/{interaction_id}/reject", tags=["reservations"])
    async def reject(interaction_id: str, body: AgentRef, p: Principal = who) -> dict[str, Any]:
        """The agent declines the offer; the contact goes back to its place."""
        agent = p.acting_agent(body.agent)
        return act(interaction_id, p, lambda: c.Reject(interaction_id=interaction_id,
                                                       agent_id=agent))

    def own(iid: str, p: Principal) -> None:
        if p.role == "agent":
            interaction_out(iid, p)  # 404 unless the contact is the agent's

    @router.post("/interactions/{interaction_id}/hold", tags=["interactions"])
    async def hold(interaction_id: str, p: Principal = who) -> dict[str, Any]:
        own(interaction_id, p)
        return act(interaction_id, p, lambda: c.Hold(interaction_id=interaction_id))

    @router.post("/interactions/{interaction_id}/resume", tags=["interactions"])
    async def resume(interaction_id: str, p: Principal = who) -> dict[str, Any]:
        own(interaction_id, p)
        return act(interaction_id, p, lambda: c.Resume(interaction_id=interaction_id))

    @router.post("/interactions/{interaction_id}/end", tags=["interactions"])
    async def end(interaction_id: str, p: Principal = who) -> dict[str, Any]:
        """The agent ends the contact; wrap-up follows."""
        own(interaction_id, p)
        return act(interaction_id, p, lambda: c.Hangup(interaction_id=interaction_id,
                                                       by="agent"))

    @router.post("/interactions/{interaction_id}/wrapup", tags=["interactions"])
    async def wrapup(interaction_id: str, body: WrapupIn, p: Principal = who) -> dict[str, Any]:
        """Finish after-contact work with a disposition."""
        agent = p.acting_agent(body.agent)
        read(lambda conn: admin_config.check_known(conn, p.tenant_id, "dispositions",
                                                   body.disposition, "disposition"))
        return act(interaction_id, p, lambda: c.EndWrapup(
            interaction_id=interaction_id, agent_id=agent, disposition=body.disposition,
            notes=body.notes))

    @router.post("/interactions/{interaction_id}/transfer", tags=["interactions"])
    async def transfer(interaction_id: str, body: TransferIn,
                       p: Principal = who) -> dict[str, Any]:
        """Blind or warm transfer to an agent or a queue."""
        own(interaction_id, p)
        to_queue = body.to_queue
        if to_queue is not None:
            read(lambda conn: _queue_in_body(conn, p.tenant_id, to_queue, "to_queue"))
        return act(interaction_id, p, lambda: c.Transfer(
            interaction_id=interaction_id, to_agent=body.to_agent, to_queue=body.to_queue,
            mode=body.mode))

    return router


@dataclass(frozen=True, slots=True)
class Row:
    """An interactions row as :func:`interaction_view` reads it."""

    id: str
    state: str
    channel: str
    queue_id: str | None
    agent_id: str | None
    priority: int
    contact_id: str | None
    attributes: dict[str, Any]
    created_at: float
    enqueued_at: float | None
    closed_at: float | None


def interaction_view(runtime: Runtime, row: Any, p: Principal) -> dict[str, Any]:
    """An interaction's projection row completed with the engine's live view;
    :class:`NotFound` for an agent that was never offered or given it."""
    try:
        live = runtime.engine(p.tenant_id).interaction(row.id)
    except SwitchboardError:
        live = None
    return _view(row, live, p)


def _view(row: Any, live: dict[str, Any] | None, p: Principal) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": row.id, "state": row.state, "channel": row.channel, "queue": row.queue_id,
        "agent": row.agent_id, "priority": row.priority, "contact": row.contact_id,
        "attributes": row.attributes, "created_at": row.created_at,
        "enqueued_at": row.enqueued_at, "closed_at": row.closed_at, "position": None,
        "ewt_s": None, "offered_to": []}
    if live is not None:
        out.update({k: live[k] for k in ("state", "queue", "agent", "position", "ewt_s",
                                         "offered_to", "enqueued_at")})
    if p.role == "agent" and p.agent_id not in (out["agent"], *out["offered_to"]):
        raise NotFound(f"no interaction {row.id!r}", field="interaction")
    return out


def _queue_in_body(conn: Connection, tenant_id: str, queue_id: str,
                   field: str = "queue") -> None:
    try:
        repo.queue_config(conn, tenant_id, queue_id)
    except NotFound:
        raise ValidationError(f"no queue {queue_id!r}", field=field) from None


def _catalogue(conn: Connection, tenant_id: str, skills: Any, now: float) -> None:
    repo.add_skills(conn, tenant_id, set(skills) - repo.skill_names(conn, tenant_id), now)
