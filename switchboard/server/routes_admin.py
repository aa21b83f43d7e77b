"""Administration: users, skills, queue changes and the audit log.

Every change by an admin or a supervisor commits its audit row in the same
transaction (:func:`switchboard.server.security.audited`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import Field
from sqlalchemy import Connection

from switchboard.domain import commands as c
from switchboard.domain.enums import Strategy
from switchboard.domain.errors import ConfigError, Conflict, NotFound, ValidationError
from switchboard.domain.model import JoinRule
from switchboard.server import auth
from switchboard.server.auth import Principal
from switchboard.server.inputs import Body, SkillMap
from switchboard.server.queue_body import (
    OverflowIn,
    StepIn,
    check_references,
    engine_error,
    patch_queue,
    skills_named,
)
from switchboard.server.routes import queue_out
from switchboard.server.runtime import Runtime
from switchboard.server.security import audited
from switchboard.store import audit, repo
from switchboard.store import config as admin_config

Role = Literal["admin", "supervisor", "agent", "analyst"]


class UserIn(Body):
    username: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=8, max_length=1024)
    role: Role
    agent: str | None = Field(default=None, max_length=64)


class UserPatch(Body):
    role: Role | None = None
    agent: str | None = Field(default=None, max_length=64)
    disabled: bool | None = None


class SkillIn(Body):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")


class QueuePatch(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    strategy: Strategy | None = None
    skills: SkillMap | None = None
    ring_timeout_s: float | None = Field(default=None, gt=0, le=3600)
    wrapup_s: float | None = Field(default=None, ge=0, le=3600)
    timeout_s: float | None = Field(default=None, ge=0)
    max_length: int | None = Field(default=None, ge=0)
    sl_threshold_s: float | None = Field(default=None, ge=0)
    priority_aging_s: float | None = Field(default=None, ge=0)
    members: list[str] | None = Field(default=None, max_length=1000)
    weight: int | None = Field(default=None, ge=-1000, le=1000)
    steps: list[StepIn] | None = Field(default=None, max_length=20)
    overflow: list[OverflowIn] | None = Field(default=None, max_length=20)
    join_rule: JoinRule | None = None
    leave_rule: JoinRule | None = None
    max_wrapup_s: float | None = Field(default=None, ge=0, le=86400)
    max_misses: int | None = Field(default=None, ge=0, le=100)
    affinity_timeout_s: float | None = Field(default=None, ge=0, le=86400)
    callback_ewt_s: float | None = Field(default=None, ge=0, le=86400)


#: QueuePatch fields that may be set to null (cleared)
CLEARABLE = ("timeout_s", "max_length", "members", "callback_ewt_s")


def build_admin_router(runtime: Runtime, clock: Callable[[], float],
                       principal: Callable[..., Awaitable[Principal]]) -> APIRouter:
    """Users, skills, queue update and delete, audit log (see ``auth.ROUTE_ROLES``)."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(principal)])
    db = runtime.db
    who = Depends(principal)

    def read(fn: Callable[[Connection], Any]) -> Any:
        with db.connect() as conn:
            return fn(conn)

    def check_agent(p: Principal, role: str, agent: str | None) -> None:
        if agent is not None:
            try:
                read(lambda conn: repo.agent_row(conn, p.tenant_id, agent))
            except NotFound:
                raise ValidationError(f"no agent {agent!r}", field="agent") from None
        elif role == "agent":
            raise ValidationError("an agent user needs its agent id", field="agent")

    # ------------------------------------------------------------------ users
    @router.post("/users", status_code=201, tags=["users"])
    async def create_user(body: UserIn, p: Principal = who) -> dict[str, Any]:
        """Add a user to the caller's tenant (user names are unique everywhere)."""
        check_agent(p, body.role, body.agent)
        digest = await run_in_threadpool(auth.hash_password, body.password)
        now = clock()
        made: list[str] = []

        def write(conn: Connection) -> None:
            made.append(repo.create_user(conn, p.tenant_id, username=body.username,
                                         password_hash=digest, role=body.role, now=now,
                                         agent_id=body.agent))

        w = audited(p, "POST /users", now, detail=body.model_dump(mode="json"), write=write)
        assert w is not None
        runtime.write(p.tenant_id, w)
        out: dict[str, Any] = read(
            lambda conn: audit.user_out(audit.user(conn, p.tenant_id, made[0])))
        return out

    @router.get("/users", tags=["users"])
    async def list_users(p: Principal = who) -> list[dict[str, Any]]:
        return [audit.user_out(r) for r in read(lambda conn: audit.users(conn, p.tenant_id))]

    @router.patch("/users/{user_id}", tags=["users"])
    async def update_user(user_id: str, body: UserPatch, p: Principal = who) -> dict[str, Any]:
        """Change a user's role or agent, or disable it (its tokens are revoked)."""
        row = read(lambda conn: audit.user(conn, p.tenant_id, user_id))
        role = body.role or row.role
        check_agent(p, role, body.agent or row.agent_id)
        if user_id == p.user_id and (body.disabled or body.role not in (None, "admin")):
            raise Conflict("an admin may not disable or demote itself", field="user")
        w = audited(p, "PATCH /users/{id}", clock(), target=user_id,
                    detail=body.model_dump(mode="json", exclude_none=True),
                    write=lambda conn: audit.update_user(
                        conn, p.tenant_id, user_id, role=body.role, agent_id=body.agent,
                        disabled=body.disabled))
        assert w is not None
        runtime.write(p.tenant_id, w)
        out: dict[str, Any] = read(
            lambda conn: audit.user_out(audit.user(conn, p.tenant_id, user_id)))
        return out

    # ------------------------------------------------------------------ skills
    @router.post("/skills", status_code=201, tags=["skills"])
    async def create_skill(body: SkillIn, p: Principal = who) -> dict[str, Any]:
        """Add a skill to the tenant's catalogue (409 when it is there)."""
        if body.name in read(lambda conn: repo.skill_names(conn, p.tenant_id)):
            raise Conflict(f"skill {body.name!r} exists", field="name")
        now = clock()
        runtime.add_skills(p.tenant_id, [body.name], audited(
            p, "POST /skills", now, detail={"name": body.name},
            write=lambda conn: repo.add_skills(conn, p.tenant_id, [body.name], now)))
        return {"name": body.name}

    @router.get("/skills", tags=["skills"])
    async def list_skills(p: Principal = who) -> list[dict[str, Any]]:
        return [{"name": n} for n in sorted(read(lambda conn: repo.skill_names(conn,
                                                                                p.tenant_id)))]

    # ------------------------------------------------------------------ queues
    @router.patch("/queues/{queue_id}", tags=["queues"])
    async def update_queue(queue_id: str, body: QueuePatch,
                           p: Principal = who) -> dict[str, Any]:
        """Change a queue's settings; waiting contacts keep their place."""
        old = read(lambda conn: repo.queue_config(conn, p.tenant_id, queue_id))
        changes = body.model_dump(exclude_unset=True)
        for k in [k for k, v in changes.items() if v is None]:
            if k not in CLEARABLE:  # only these may be cleared
                raise ValidationError("may not be null", field=k)
        q = patch_queue(old, changes)
        read(lambda conn: check_references(conn, p.tenant_id, q))
        now = clock()

        def write(conn: Connection) -> None:
            repo.add_skills(conn, p.tenant_id,
                            skills_named(q) - repo.skill_names(conn, p.tenant_id), now)
            repo.update_queue(conn, p.tenant_id, q)

        try:
            runtime.execute(p.tenant_id, c.UpsertQueue(queue=q), new_skills=skills_named(q),
                            write=audited(p, "PATCH /queues/{id}", now, target=queue_id,
                                          detail=body.model_dump(mode="json",
                                                                 exclude_unset=True),
                                          write=write))
        except ConfigError as exc:
            raise engine_error(exc, queue_id) from None
        return queue_out(q)

    @router.delete("/queues/{queue_id}", status_code=204, tags=["queues"])
    async def delete_queue(queue_id: str, p: Principal = who) -> Response:
        """Delete a queue: 409 while contacts wait in it (or are scheduled for it,
        offered or handled from it) or another queue overflows into it."""
        read(lambda conn: repo.queue_config(conn, p.tenant_id, queue_id))
        engine = runtime.engine(p.tenant_id)
        busy = [i for i in engine.interaction_ids()
                if engine.interaction(i)["queue"] == queue_id]
        if busy:
            raise Conflict(f"{len(busy)} contacts are in this queue; move or end them first",
                           field="queue")
        for other in read(lambda conn: repo.list_queues(conn, p.tenant_id)):
            targets = {r.to_queue for r in other.overflow}
            targets.update(q for step in other.steps for q in step.add_queues)
            if other.id != queue_id and queue_id in targets:
                raise Conflict(f"queue {other.id} overflows into this queue", field="queue")
        hours = read(lambda conn: admin_config.hours_where(conn, p.tenant_id,
                                                           queue_id=queue_id))
        if hours is not None:
            raise Conflict(f"business hours {hours.name!r} belong to this queue; delete or "
                           "move them first", field="queue")
        # The engine forgets the queue in the transaction that deletes its row
        # (RemoveQueue re-checks that nothing belongs to it), so it routes nothing
        # there any more, now or after a restart's replay.
        runtime.execute(p.tenant_id, c.RemoveQueue(queue_id=queue_id), write=audited(
            p, "DELETE /queues/{id}", clock(), target=queue_id,
            write=lambda conn: repo.delete_queue(conn, p.tenant_id, queue_id)))
        return Response(status_code=204)

    # ------------------------------------------------------------------ audit
    @router.get("/audit", tags=["audit"])
    async def audit_log(p: Principal = who, after: int = Query(0, ge=0, le=2**62),
                        limit: int = Query(100, ge=1, le=1000), user: str | None = None,
                        since: float | None = None) -> list[dict[str, Any]]:
        """Admin and supervisor actions, oldest first (page with ``after`` = last seq)."""
        return list(read(lambda conn: audit.entries(conn, p.tenant_id, after_seq=after,
                                                    limit=limit, user_id=user,
                                                    since=since)))

    return router
