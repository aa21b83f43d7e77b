"""Administration routes: the tenant's settings, reason codes, dispositions,
business hours and holidays, agent changes and deletion, user deletion and
password reset, skill deletion.

Every handler checks everything first (body, tenant, references, conflicts),
then commits its rows and the admin's audit row in one transaction; a refused
request changes nothing. Another tenant's ids answer 404.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel
from sqlalchemy import Connection

from switchboard.domain import commands as c
from switchboard.domain.errors import ConfigError, Conflict, NotFound, ValidationError
from switchboard.domain.model import AgentConfig
from switchboard.ivr.hours import status as hours_status
from switchboard.server import auth
from switchboard.server.auth import Principal
from switchboard.server.config_body import (
    AgentPatch,
    CodeIn,
    CodePatch,
    HolidayIn,
    HolidayPatch,
    HoursIn,
    HoursPatch,
    PasswordIn,
    TenantPatch,
    not_null,
)
from switchboard.server.queue_body import skills_named
from switchboard.server.routes import Idempotency
from switchboard.server.runtime import Runtime
from switchboard.server.security import audited
from switchboard.store import audit, config, repo

Write = Callable[[Connection], None]


def agent_out(runtime: Runtime, tenant_id: str, agent_id: str) -> dict[str, Any]:
    """The engine's view of an agent with its capacity per channel."""
    engine = runtime.engine(tenant_id)
    out = engine.agent(agent_id)
    cfg = engine.agent_config(agent_id)
    out["capacity"] = {ch.value: n for ch, n in cfg.capacity.items()}
    return out


def _agent_field(exc: ConfigError, agent_id: str) -> ConfigError:
    field = exc.field or ""
    for prefix in (f"agents[{agent_id}].", "agents[]."):
        field = field.removeprefix(prefix)
    return ConfigError(exc.message, field=field or None)


def build_config_router(runtime: Runtime, clock: Callable[[], float],
                        principal: Callable[..., Awaitable[Principal]]) -> APIRouter:
    """The routes of this module (see ``auth.ROUTE_ROLES``)."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(principal)])
    db = runtime.db
    who = Depends(principal)

    def read(fn: Callable[[Connection], Any]) -> Any:
        with db.connect() as conn:
            return fn(conn)

    def commit(p: Principal, action: str, target: str | None, detail: dict[str, Any],
               write: Write) -> None:
        w = audited(p, action, clock(), target=target, detail=detail, write=write)
        assert w is not None
        runtime.write(p.tenant_id, w)

    def idempotency(request: Request, response: Response, p: Principal, route: str,
                    body: BaseModel) -> Idempotency:
        idem: Idempotency = read(lambda conn: Idempotency(conn, request, p.tenant_id, route,
                                                          body))
        if idem.existing:
            response.headers["Idempotent-Replayed"] = "true"
        return idem

    # ------------------------------------------------------------------ tenant
    def tenant_out(tenant_id: str) -> dict[str, Any]:
        row = read(lambda conn: config.tenant(conn, tenant_id))
        return {"id": row.id, "name": row.name, "timezone": row.timezone or "UTC"}

    @router.get("/tenant", tags=["tenant"])
    async def get_tenant(p: Principal = who) -> dict[str, Any]:
        """The caller's tenant: id, name and time zone (of reports and business hours)."""
        return tenant_out(p.tenant_id)

    @router.patch("/tenant", tags=["tenant"])
    async def update_tenant(body: TenantPatch, p: Principal = who) -> dict[str, Any]:
        """Rename the tenant or change its time zone."""
        changes = body.model_dump(exclude_unset=True)
        not_null(changes)
        commit(p, "PATCH /tenant", p.tenant_id, changes,
               lambda conn: config.update_tenant(conn, p.tenant_id, **changes))
        return tenant_out(p.tenant_id)

    # ------------------------------------------------------------------ codes
    def code_routes(path: str, table: str) -> None:
        noun = config.CODE_NOUNS[table]

        def unique(conn: Connection, tenant_id: str, code: str, own: str | None) -> None:
            row = config.code_by_value(conn, tenant_id, table, code)
            if row is not None and row.id != own:
                raise Conflict(f"{noun} {code!r} exists", field="code")

        def one(p: Principal, code_id: str) -> dict[str, Any]:
            return config.code_out(read(lambda conn: config.code_row(conn, p.tenant_id, table,
                                                                      code_id)))

        @router.get(f"/{path}", tags=[path], name=f"list_{table}")
        async def list_codes(p: Principal = who) -> list[dict[str, Any]]:
            return [config.code_out(r) for r in read(lambda conn: config.codes(
                conn, p.tenant_id, table))]

        @router.post(f"/{path}", status_code=201, tags=[path], name=f"create_{table}")
        async def create_code(body: CodeIn, request: Request, response: Response,
                              p: Principal = who) -> dict[str, Any]:
            idem = idempotency(request, response, p, path, body)
            if idem.existing:
                return one(p, idem.existing)
            read(lambda conn: unique(conn, p.tenant_id, body.code, None))
            code_id, now = repo.new_id(), clock()

            def write(conn: Connection) -> None:
                config.insert_code(conn, p.tenant_id, table, code_id=code_id, code=body.code,
                                   label=body.label, now=now)
                idem.save(conn, code_id, now)

            commit(p, f"POST /{path}", code_id, body.model_dump(), write)
            return one(p, code_id)

        @router.get(f"/{path}/{{code_id}}", tags=[path], name=f"get_{table}")
        async def get_code(code_id: str, p: Principal = who) -> dict[str, Any]:
            return one(p, code_id)

        @router.patch(f"/{path}/{{code_id}}", tags=[path], name=f"update_{table}")
        async def update_code(code_id: str, body: CodePatch,
                              p: Principal = who) -> dict[str, Any]:
            changes = body.model_dump(exclude_unset=True)
            not_null(changes)
            one(p, code_id)
            if "code" in changes:
                read(lambda conn: unique(conn, p.tenant_id, changes["code"], code_id))
            commit(p, f"PATCH /{path}/{{id}}", code_id, changes,
                   lambda conn: config.update_code(conn, p.tenant_id, table, code_id, **changes))
            return one(p, code_id)

        @router.delete(f"/{path}/{{code_id}}", status_code=204, tags=[path],
                       name=f"delete_{table}")
        async def delete_code(code_id: str, p: Principal = who) -> Response:
            """Past events keep the code they were given."""
            one(p, code_id)
            commit(p, f"DELETE /{path}/{{id}}", code_id, {},
                   lambda conn: config.delete_code(conn, p.tenant_id, table, code_id))
            return Response(status_code=204)

    code_routes("reason-codes", "reason_codes")
    code_routes("dispositions", "dispositions")

    # ------------------------------------------------------------------ business hours
    def hours_one(p: Principal, hours_id: str) -> dict[str, Any]:
        return config.hours_out(read(lambda conn: config.hours_row(conn, p.tenant_id,
                                                                    hours_id)))

    def check_hours(conn: Connection, tenant_id: str, *, name: str | None,
                    queue: str | None, set_queue: bool, own: str | None) -> None:
        if name is not None:
            row = config.hours_where(conn, tenant_id, name=name)
            if row is not None and row.id != own:
                raise Conflict(f"business hours named {name!r} exist", field="name")
        if not set_queue:
            return
        if queue is not None:
            try:
                repo.queue_config(conn, tenant_id, queue)
            except NotFound:
                raise ValidationError(f"no queue {queue!r}", field="queue") from None
        row = config.hours_where(conn, tenant_id, queue_id=queue)
        if row is not None and row.id != own:
            whose = "this queue" if queue is not None else "the tenant"
            raise Conflict(f"{whose} has business hours already ({row.name}); change those",
                           field="queue")

    @router.get("/business-hours", tags=["business hours"])
    async def list_hours(p: Principal = who) -> list[dict[str, Any]]:
        """The tenant's weekly opening hours (``queue`` null: the tenant's own)."""
        return [config.hours_out(r) for r in read(lambda conn: config.hours_list(
            conn, p.tenant_id))]

    @router.post("/business-hours", status_code=201, tags=["business hours"])
    async def create_hours(body: HoursIn, request: Request, response: Response,
                           p: Principal = who) -> dict[str, Any]:
        """Weekly opening hours for the tenant or one queue (one set each)."""
        idem = idempotency(request, response, p, "business-hours", body)
        if idem.existing:
            return hours_one(p, idem.existing)
        read(lambda conn: check_hours(conn, p.tenant_id, name=body.name, queue=body.queue,
                                      set_queue=True, own=None))
        zone = body.timezone or read(lambda conn: config.tenant_zone(conn, p.tenant_id))
        hours_id, now = repo.new_id(), clock()

        def write(conn: Connection) -> None:
            config.insert_hours(conn, p.tenant_id, hours_id=hours_id, name=body.name,
                                queue_id=body.queue, timezone=zone, weekly=body.weekly,
                                now=now)
            idem.save(conn, hours_id, now)

        commit(p, "POST /business-hours", hours_id, body.model_dump(), write)
        return hours_one(p, hours_id)

    @router.get("/business-hours/{hours_id}", tags=["business hours"])
    async def get_hours(hours_id: str, p: Principal = who) -> dict[str, Any]:
        return hours_one(p, hours_id)

    @router.patch("/business-hours/{hours_id}", tags=["business hours"])
    async def update_hours(hours_id: str, body: HoursPatch,
                           p: Principal = who) -> dict[str, Any]:
        """Change the name, queue (null: the tenant's), zone or weekly ranges."""
        changes = body.model_dump(exclude_unset=True)
        not_null(changes, allowed=("queue",))
        hours_one(p, hours_id)
        read(lambda conn: check_hours(conn, p.tenant_id, name=changes.get("name"),
                                      queue=changes.get("queue"), set_queue="queue" in changes,
                                      own=hours_id))
        values = {("queue_id" if k == "queue" else k): v for k, v in changes.items()}
        commit(p, "PATCH /business-hours/{id}", hours_id, changes,
               lambda conn: config.update_hours(conn, p.tenant_id, hours_id, **values))
        return hours_one(p, hours_id)

    @router.delete("/business-hours/{hours_id}", status_code=204, tags=["business hours"])
    async def delete_hours(hours_id: str, p: Principal = who) -> Response:
        """Delete the hours and the holidays that were theirs alone."""
        hours_one(p, hours_id)
        commit(p, "DELETE /business-hours/{id}", hours_id, {},
               lambda conn: config.delete_hours(conn, p.tenant_id, hours_id))
        return Response(status_code=204)

    @router.get("/business-hours/{hours_id}/status", tags=["business hours"])
    async def hours_now(hours_id: str, p: Principal = who,
                        at: float | None = Query(None, ge=0, le=1e11)) -> dict[str, Any]:
        """``open``, ``closed`` or ``holiday`` at ``at`` (POSIX seconds; now when
        left out), as an IVR hours step naming this calendar decides."""
        def load(conn: Connection) -> Any:
            row = config.hours_row(conn, p.tenant_id, hours_id)
            return config.calendar(row, config.holidays(conn, p.tenant_id))

        cal = read(load)
        when = clock() if at is None else at
        local = datetime.fromtimestamp(when, ZoneInfo(cal.timezone))
        return {"status": hours_status(cal, when), "at": when,
                "local": local.isoformat(timespec="minutes"), "timezone": cal.timezone}

    # ------------------------------------------------------------------ holidays
    def holiday_one(p: Principal, holiday_id: str) -> dict[str, Any]:
        return config.holiday_out(read(lambda conn: config.holiday_row(conn, p.tenant_id,
                                                                        holiday_id)))

    def check_holiday(conn: Connection, tenant_id: str, day: str, hours_id: str | None,
                      own: str | None) -> None:
        if hours_id is not None:
            try:
                config.hours_row(conn, tenant_id, hours_id)
            except NotFound:
                raise ValidationError(f"no business hours {hours_id!r}",
                                      field="business_hours") from None
        row = config.holiday_on(conn, tenant_id, day, hours_id)
        if row is not None and row.id != own:
            raise Conflict(f"{day} is a holiday already ({row.name})", field="date")

    @router.get("/holidays", tags=["business hours"])
    async def list_holidays(p: Principal = who,
                            business_hours: str | None = Query(None, max_length=64),
                            year: int | None = Query(None, ge=1, le=9999),
                            ) -> list[dict[str, Any]]:
        """Holidays by date, for one calendar (``business_hours``) or all, one year or all."""
        return [config.holiday_out(r) for r in read(lambda conn: config.holidays(
            conn, p.tenant_id, hours_id=business_hours, year=year))]

    @router.post("/holidays", status_code=201, tags=["business hours"])
    async def create_holiday(body: HolidayIn, request: Request, response: Response,
                             p: Principal = who) -> dict[str, Any]:
        """A date closed all day (no ``hours``) or open only in ``hours``."""
        idem = idempotency(request, response, p, "holidays", body)
        if idem.existing:
            return holiday_one(p, idem.existing)
        read(lambda conn: check_holiday(conn, p.tenant_id, body.date, body.business_hours,
                                        None))
        holiday_id, now = repo.new_id(), clock()

        def write(conn: Connection) -> None:
            config.insert_holiday(conn, p.tenant_id, holiday_id=holiday_id, day=body.date,
                                  name=body.name, hours=body.hours,
                                  hours_id=body.business_hours, now=now)
            idem.save(conn, holiday_id, now)

        commit(p, "POST /holidays", holiday_id, body.model_dump(), write)
        return holiday_one(p, holiday_id)

    @router.get("/holidays/{holiday_id}", tags=["business hours"])
    async def get_holiday(holiday_id: str, p: Principal = who) -> dict[str, Any]:
        return holiday_one(p, holiday_id)

    @router.patch("/holidays/{holiday_id}", tags=["business hours"])
    async def update_holiday(holiday_id: str, body: HolidayPatch,
                             p: Principal = who) -> dict[str, Any]:
        changes = body.model_dump(exclude_unset=True)
        not_null(changes, allowed=("business_hours",))
        old = holiday_one(p, holiday_id)
        new = {**old, **changes}
        read(lambda conn: check_holiday(conn, p.tenant_id, new["date"], new["business_hours"],
                                        holiday_id))
        names = {"date": "day", "business_hours": "hours_id"}
        values = {names.get(k, k): v for k, v in changes.items()}
        commit(p, "PATCH /holidays/{id}", holiday_id, changes,
               lambda conn: config.update_holiday(conn, p.tenant_id, holiday_id, **values))
        return holiday_one(p, holiday_id)

    @router.delete("/holidays/{holiday_id}", status_code=204, tags=["business hours"])
    async def delete_holiday(holiday_id: str, p: Principal = who) -> Response:
        holiday_one(p, holiday_id)
        commit(p, "DELETE /holidays/{id}", holiday_id, {},
               lambda conn: config.delete_holiday(conn, p.tenant_id, holiday_id))
        return Response(status_code=204)

    # ------------------------------------------------------------------ agents
    @router.patch("/agents/{agent_id}", tags=["agents"])
    async def update_agent(agent_id: str, body: AgentPatch,
                           p: Principal = who) -> dict[str, Any]:
        """Change an agent's name, skills or capacity; it takes effect at once
        (contacts it has stay with it)."""
        read(lambda conn: repo.agent_row(conn, p.tenant_id, agent_id))
        changes = body.model_dump(exclude_unset=True)
        not_null(changes)
        old = runtime.engine(p.tenant_id).agent_config(agent_id)
        try:
            new: AgentConfig = dataclasses.replace(old, **changes)
        except ConfigError as exc:
            raise _agent_field(exc, agent_id) from None
        now = clock()

        def write(conn: Connection) -> None:
            repo.add_skills(conn, p.tenant_id,
                            set(new.skills) - repo.skill_names(conn, p.tenant_id), now)
            config.update_agent(conn, p.tenant_id, new)

        try:
            runtime.execute(p.tenant_id, c.UpsertAgent(agent=new), new_skills=new.skills,
                            write=audited(p, "PATCH /agents/{id}", now, target=agent_id,
                                          detail=body.model_dump(mode="json",
                                                                 exclude_unset=True),
                                          write=write))
        except ConfigError as exc:
            raise _agent_field(exc, agent_id) from None
        return agent_out(runtime, p.tenant_id, agent_id)

    @router.delete("/agents/{agent_id}", status_code=204, tags=["agents"])
    async def delete_agent(agent_id: str, p: Principal = who) -> Response:
        """Delete an agent: 409 while it is logged in or has contacts, while a
        user is linked to it, while a queue names it, or while a contact waits
        for it in particular."""
        read(lambda conn: repo.agent_row(conn, p.tenant_id, agent_id))
        view = runtime.engine(p.tenant_id).agent(agent_id)
        if view["status"] != "offline" or view["contacts"] or view["wrapups"] \
                or view["offers"]:
            raise Conflict("the agent is logged in or has contacts; log it out first",
                           field="agent")
        users = read(lambda conn: config.users_of_agent(conn, p.tenant_id, agent_id))
        if users:
            raise Conflict(f"user {users[0]} is linked to this agent; change or delete that "
                           "user first", field="agent")
        for q in read(lambda conn: repo.list_queues(conn, p.tenant_id)):
            named = set(q.members or ()) | {a for s in q.steps for a in s.add_agents}
            if agent_id in named:
                raise Conflict(f"queue {q.name or q.id} names this agent (members or "
                               "expansion steps)", field="agent")
        # The engine forgets the agent in the transaction that deletes its row
        # (RemoveAgent re-checks it is logged out with nothing in hand), so no
        # queue counts it any more, now or after a restart's replay.
        try:
            runtime.execute(p.tenant_id, c.RemoveAgent(agent_id=agent_id), write=audited(
                p, "DELETE /agents/{id}", clock(), target=agent_id,
                write=lambda conn: config.delete_agent(conn, p.tenant_id, agent_id)))
        except Conflict as exc:  # e.g. a contact waits for this agent alone
            raise Conflict(exc.message, field="agent") from None
        return Response(status_code=204)

    # ------------------------------------------------------------------ users
    @router.delete("/users/{user_id}", status_code=204, tags=["users"])
    async def delete_user(user_id: str, p: Principal = who) -> Response:
        """Delete a user and revoke its tokens (an admin may not delete itself)."""
        read(lambda conn: audit.user(conn, p.tenant_id, user_id))
        if user_id == p.user_id:
            raise Conflict("an admin may not delete itself", field="user")
        commit(p, "DELETE /users/{id}", user_id, {},
               lambda conn: config.delete_user(conn, p.tenant_id, user_id))
        return Response(status_code=204)

    @router.post("/users/{user_id}/password", status_code=204, tags=["users"])
    async def set_password(user_id: str, body: PasswordIn, p: Principal = who) -> Response:
        """Set a user's password; its tokens are revoked (it logs in again)."""
        read(lambda conn: audit.user(conn, p.tenant_id, user_id))
        digest = await run_in_threadpool(auth.hash_password, body.password)
        commit(p, "POST /users/{id}/password", user_id, {},
               lambda conn: config.set_password(conn, p.tenant_id, user_id, digest))
        return Response(status_code=204)

    # ------------------------------------------------------------------ skills
    @router.delete("/skills/{name}", status_code=204, tags=["skills"])
    async def delete_skill(name: str, p: Principal = who) -> Response:
        """Take a skill out of the catalogue: 409 while an agent or a queue uses it."""
        if name not in read(lambda conn: repo.skill_names(conn, p.tenant_id)):
            raise NotFound(f"no skill {name!r}", field="name")
        for a in read(lambda conn: repo.list_agents(conn, p.tenant_id)):
            if name in (a.skills or {}):
                raise Conflict(f"agent {a.name} has this skill", field="name")
        for q in read(lambda conn: repo.list_queues(conn, p.tenant_id)):
            if name in skills_named(q):
                raise Conflict(f"queue {q.name or q.id} needs this skill", field="name")
        commit(p, "DELETE /skills/{id}", None, {"name": name},
               lambda conn: config.delete_skill(conn, p.tenant_id, name))
        return Response(status_code=204)

    return router
