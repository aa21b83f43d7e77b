"""The supervisor wallboard's API: the board, queue thresholds and live actions.

``GET /wallboard`` is the snapshot the page starts from and refreshes parts of
(see :mod:`switchboard.server.wallboard`). Actions change the contact center
at once: an agent's skills (the engine routes with them from the next
decision), a waiting contact moved to another queue (it keeps its wait and
its priority). Forcing an agent not ready or logged out is
``POST /agents/{id}/status``. Every change commits its audit row with it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import Field
from sqlalchemy import Connection

from switchboard.domain import commands as c
from switchboard.domain.errors import (
    Conflict,
    InvalidTransition,
    NotFound,
    SwitchboardError,
    ValidationError,
)
from switchboard.domain.model import check_levels
from switchboard.server import reports
from switchboard.server.auth import Principal
from switchboard.server.inputs import Body, SkillMap
from switchboard.server.routes import interaction_view
from switchboard.server.runtime import Runtime
from switchboard.server.security import Write, audited
from switchboard.server.wallboard import (
    FIGURES,
    Wallboard,
    check_thresholds,
    parse_ids,
    parse_parts,
)
from switchboard.store import log, repo
from switchboard.store import wallboard as store


class Level(Body):
    amber: float | None = Field(default=None, ge=0, allow_inf_nan=False)
    red: float | None = Field(default=None, ge=0, allow_inf_nan=False)


class ThresholdsIn(Body):
    """Levels at which a figure turns amber or red (null: no threshold)."""

    service_level: Level | None = None
    asa_s: Level | None = None
    abandon_rate: Level | None = None
    longest_wait_s: Level | None = None
    waiting: Level | None = None


class SkillsIn(Body):
    skills: SkillMap


class MoveIn(Body):
    queue: str = Field(min_length=1, max_length=64)


def build_wallboard_router(runtime: Runtime, clock: Callable[[], float],
                           principal: Callable[..., Awaitable[Principal]],
                           today_figures: reports.TodayFigures) -> APIRouter:
    """The routes of this module (see ``auth.ROUTE_ROLES``)."""
    router = APIRouter(prefix="/api/v1", dependencies=[Depends(principal)])
    db = runtime.db
    who = Depends(principal)
    board = Wallboard(today_figures)
    runtime.listeners.append(board.feed)

    def read(fn: Callable[[Connection], Any]) -> Any:
        with db.connect() as conn:
            return fn(conn)

    def commit(p: Principal, write: Write | None) -> Write:
        assert write is not None  # only admins and supervisors get here: always audited
        return write

    @router.get("/wallboard", tags=["wallboard"])
    async def wallboard(p: Principal = who, tz: str | None = Query(None, max_length=64),
                        include: str = Query("queues,agents,trend", max_length=100),
                        queues: str | None = Query(None, max_length=70_000),
                        agents: str | None = Query(None, max_length=70_000),
                        sl_threshold: float = Query(20.0, ge=0, le=86400)) -> dict[str, Any]:
        """The board now: every queue (waiting, longest wait, today's report
        figures, agents by presence, thresholds and their levels), every agent
        (status, state, since when, current contact, queues served) and today's
        ``interval`` report rows (``sl_threshold`` for their service level).
        ``include`` picks parts; ``queues`` and ``agents`` (comma-separated
        ids) limit the rows. Days are local to ``tz`` (default: the tenant's zone)."""
        zone = reports.zone(tz if tz is not None else read(
            lambda conn: store.tenant_zone(conn, p.tenant_id)))
        parts = parse_parts(include)
        queue_ids = parse_ids(queues, "queues")
        agent_ids = parse_ids(agents, "agents")
        engine = runtime.engine(p.tenant_id)
        now = max(clock(), engine.now)
        out: dict[str, Any] = read(lambda conn: board.snapshot(
            conn, engine, p.tenant_id, now=now, tz=zone, parts=parts, queue_ids=queue_ids,
            agent_ids=agent_ids, trend_sl_threshold_s=sl_threshold))
        return out

    # ------------------------------------------------------------------ thresholds
    def thresholds_out(queue_id: str, row: Any) -> dict[str, Any]:
        levels = dict(row.levels) if row is not None else {}
        return {"queue": queue_id, **{f: levels.get(f) for f in FIGURES},
                "updated_at": row.updated_at if row is not None else None,
                "updated_by": row.updated_by if row is not None else None}

    @router.get("/queues/{queue_id}/thresholds", tags=["wallboard"])
    async def get_thresholds(queue_id: str, p: Principal = who) -> dict[str, Any]:
        """The levels at which the queue's figures turn amber or red."""
        read(lambda conn: repo.queue_config(conn, p.tenant_id, queue_id))
        return thresholds_out(queue_id, read(
            lambda conn: store.queue_thresholds(conn, p.tenant_id, queue_id)))

    @router.put("/queues/{queue_id}/thresholds", tags=["wallboard"])
    async def put_thresholds(queue_id: str, body: ThresholdsIn,
                             p: Principal = who) -> dict[str, Any]:
        """Replace the queue's thresholds (figures left out or null: none)."""
        read(lambda conn: repo.queue_config(conn, p.tenant_id, queue_id))
        levels = check_thresholds(body.model_dump(exclude_none=True))
        now = clock()
        runtime.write(p.tenant_id, commit(p, audited(
            p, "PUT /queues/{id}/thresholds", now, target=queue_id, detail=levels,
            write=lambda conn: store.save_thresholds(conn, p.tenant_id, queue_id, levels,
                                                     now=now, user_id=p.user_id))))
        return await get_thresholds(queue_id, p)

    # ------------------------------------------------------------------ agents
    @router.put("/agents/{agent_id}/skills", tags=["wallboard"])
    async def put_skills(agent_id: str, body: SkillsIn, p: Principal = who) -> dict[str, Any]:
        """Replace an agent's skills (levels 1 to 10, names from the tenant's
        catalogue); the engine routes with them from its next decision, and
        waiting contacts the agent now qualifies for are offered at once."""
        read(lambda conn: repo.agent_row(conn, p.tenant_id, agent_id))
        skills = dict(check_levels(body.skills, "skills"))
        known = read(lambda conn: repo.skill_names(conn, p.tenant_id))
        for name in sorted(set(skills) - known):
            raise ValidationError(f"unknown skill {name!r}: an admin adds it first "
                                  "(POST /skills)", field=f"skills.{name}")
        engine = runtime.engine(p.tenant_id)
        config = replace(engine.agent_config(agent_id), skills=skills)
        runtime.execute(p.tenant_id, c.UpsertAgent(agent=config), write=commit(p, audited(
            p, "PUT /agents/{id}/skills", clock(), target=agent_id, detail={"skills": skills},
            write=lambda conn: store.save_agent_skills(conn, p.tenant_id, agent_id,
                                                       skills))))
        out: dict[str, Any] = engine.agent(agent_id)
        out["queues"] = [q for q in engine.queue_ids() if agent_id in engine.queue_agents(q)]
        return out

    # ------------------------------------------------------------------ contacts
    @router.post("/interactions/{interaction_id}/move", tags=["wallboard"])
    async def move(interaction_id: str, body: MoveIn, p: Principal = who) -> dict[str, Any]:
        """Move a waiting contact to another queue: it keeps its wait (its first
        ``enqueued_at``), priority and skill needs; reports count a leg in each
        queue (an ``overflowed`` event with reason ``moved``)."""
        row = read(lambda conn: log.interaction_row(conn, p.tenant_id, interaction_id))
        try:
            read(lambda conn: repo.queue_config(conn, p.tenant_id, body.queue))
        except NotFound:
            raise ValidationError(f"no queue {body.queue!r}", field="queue") from None
        engine = runtime.engine(p.tenant_id)
        try:
            live = engine.interaction(interaction_id)
        except SwitchboardError:
            live = {"state": row.state, "queue": row.queue_id}
        if live["state"] != "queued":
            raise InvalidTransition(f"the contact is {live['state']}, not waiting in a queue",
                                    field="interaction")
        if live["queue"] == body.queue:
            raise Conflict("the contact is already in this queue", field="queue")
        runtime.execute(p.tenant_id, c.MoveContact(interaction_id=interaction_id,
                                                   queue_id=body.queue),
                        write=commit(p, audited(p, "POST /interactions/{id}/move", clock(),
                                                target=interaction_id,
                                                detail={"queue": body.queue})))
        return interaction_view(runtime, read(
            lambda conn: log.interaction_row(conn, p.tenant_id, interaction_id)), p)

    return router
