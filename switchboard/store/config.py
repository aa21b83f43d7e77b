"""Repository functions of the administration: the tenant's settings, reason
codes and dispositions, business hours and holidays, agent and user changes.

Every function takes an open connection (the caller owns the transaction) and
a required ``tenant_id`` that every query filters on: another tenant's id is
simply not found. Values are checked by the API layer before they get here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from switchboard.domain.errors import NotFound, ValidationError
from switchboard.domain.model import AgentConfig
from switchboard.ivr.hours import WEEKDAYS, Calendar, merge, parse_range
from switchboard.store import schema as s
from switchboard.store.codec import to_json

#: the two code lists: reason codes (not ready) and dispositions (wrap-up)
CODE_TABLES: dict[str, type[s.ReasonCode] | type[s.Disposition]] = {
    "reason_codes": s.ReasonCode, "dispositions": s.Disposition}
CODE_NOUNS = {"reason_codes": "reason code", "dispositions": "disposition"}


# ------------------------------------------------------------------ tenant
def tenant(conn: Connection, tenant_id: str) -> Any:
    row = conn.execute(select(s.Tenant).where(s.Tenant.id == tenant_id)).first()
    if row is None:
        raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
    return row


def update_tenant(conn: Connection, tenant_id: str, **values: Any) -> None:
    if values:
        conn.execute(update(s.Tenant).where(s.Tenant.id == tenant_id).values(**values))


def tenant_zone(conn: Connection, tenant_id: str) -> str:
    """The tenant's IANA time zone name (``UTC`` until an admin sets one)."""
    zone = conn.execute(select(s.Tenant.timezone).where(s.Tenant.id == tenant_id)).scalar()
    return str(zone or "UTC")


# ------------------------------------------------------------------ reason codes, dispositions
def code_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "code": row.code, "label": row.label, "created_at": row.created_at}


def codes(conn: Connection, tenant_id: str, table: str) -> list[Any]:
    t = CODE_TABLES[table]
    return list(conn.execute(select(t).where(t.tenant_id == tenant_id).order_by(t.code)))


def code_row(conn: Connection, tenant_id: str, table: str, code_id: str) -> Any:
    t = CODE_TABLES[table]
    row = conn.execute(select(t).where(t.tenant_id == tenant_id, t.id == code_id)).first()
    if row is None:
        raise NotFound(f"no {CODE_NOUNS[table]} {code_id!r}", field="id")
    return row


def code_by_value(conn: Connection, tenant_id: str, table: str, code: str) -> Any:
    """The row with this ``code``, or ``None``."""
    t = CODE_TABLES[table]
    return conn.execute(select(t).where(t.tenant_id == tenant_id, t.code == code)).first()


def code_known(conn: Connection, tenant_id: str, table: str, code: str) -> bool | None:
    """Whether ``code`` is one of the tenant's; ``None`` when it has defined none."""
    t = CODE_TABLES[table]
    found = conn.execute(select(t.code).where(t.tenant_id == tenant_id)
                         .where(t.code == code)).first()
    if found is not None:
        return True
    return False if conn.execute(select(t.id).where(t.tenant_id == tenant_id)
                                 .limit(1)).first() else None


def check_known(conn: Connection, tenant_id: str, table: str, value: str | None,
                field: str) -> None:
    """Refuse ``value`` (a reason given for not ready, a wrap-up disposition) when
    the tenant has defined codes of this kind and it is none of them."""
    if value is None or code_known(conn, tenant_id, table, value) is not False:
        return
    known = [r.code for r in codes(conn, tenant_id, table)]
    shown = ", ".join(known[:20]) + (", ..." if len(known) > 20 else "")
    raise ValidationError(f"unknown {CODE_NOUNS[table]} {value[:100]!r}; use one of: {shown}",
                          field=field)


def insert_code(conn: Connection, tenant_id: str, table: str, *, code_id: str, code: str,
                label: str, now: float) -> None:
    conn.execute(insert(CODE_TABLES[table]).values(tenant_id=tenant_id, id=code_id, code=code,
                                                   label=label, created_at=now))


def update_code(conn: Connection, tenant_id: str, table: str, code_id: str,
                **values: Any) -> None:
    t = CODE_TABLES[table]
    if values:
        conn.execute(update(t).where(t.tenant_id == tenant_id, t.id == code_id).values(**values))


def delete_code(conn: Connection, tenant_id: str, table: str, code_id: str) -> None:
    t = CODE_TABLES[table]
    conn.execute(delete(t).where(t.tenant_id == tenant_id, t.id == code_id))


# ------------------------------------------------------------------ business hours
def hours_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "name": row.name, "queue": row.queue_id, "timezone": row.timezone,
            "weekly": {d: list(row.weekly.get(d, [])) for d in WEEKDAYS},
            "created_at": row.created_at}


def hours_list(conn: Connection, tenant_id: str) -> list[Any]:
    t = s.BusinessHours
    return list(conn.execute(select(t).where(t.tenant_id == tenant_id)
                             .order_by(t.created_at, t.id)))


def hours_row(conn: Connection, tenant_id: str, hours_id: str) -> Any:
    t = s.BusinessHours
    row = conn.execute(select(t).where(t.tenant_id == tenant_id, t.id == hours_id)).first()
    if row is None:
        raise NotFound(f"no business hours {hours_id!r}", field="id")
    return row


def hours_where(conn: Connection, tenant_id: str, **match: Any) -> Any:
    """The business hours with these column values (``name=``, ``queue_id=``), or None."""
    t = s.BusinessHours
    q = select(t).where(t.tenant_id == tenant_id)
    for column, value in match.items():
        col = getattr(t, column)
        q = q.where(col.is_(None) if value is None else col == value)
    return conn.execute(q).first()


def insert_hours(conn: Connection, tenant_id: str, *, hours_id: str, name: str,
                 queue_id: str | None, timezone: str, weekly: dict[str, list[str]],
                 now: float) -> None:
    conn.execute(insert(s.BusinessHours).values(
        tenant_id=tenant_id, id=hours_id, name=name, queue_id=queue_id, timezone=timezone,
        weekly=weekly, created_at=now))


def update_hours(conn: Connection, tenant_id: str, hours_id: str, **values: Any) -> None:
    t = s.BusinessHours
    if values:
        conn.execute(update(t).where(t.tenant_id == tenant_id, t.id == hours_id)
                     .values(**values))


def delete_hours(conn: Connection, tenant_id: str, hours_id: str) -> None:
    """Delete business hours and the holidays that were theirs alone."""
    conn.execute(delete(s.Holiday).where(s.Holiday.tenant_id == tenant_id,
                                         s.Holiday.hours_id == hours_id))
    conn.execute(delete(s.BusinessHours).where(s.BusinessHours.tenant_id == tenant_id,
                                               s.BusinessHours.id == hours_id))


# ------------------------------------------------------------------ holidays
def holiday_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "date": row.day, "name": row.name, "hours": list(row.hours),
            "business_hours": row.hours_id, "created_at": row.created_at}


def holidays(conn: Connection, tenant_id: str, *, hours_id: str | None = None,
             year: int | None = None) -> list[Any]:
    t = s.Holiday
    q = select(t).where(t.tenant_id == tenant_id).order_by(t.day, t.id)
    if hours_id is not None:
        q = q.where(t.hours_id == hours_id)
    if year is not None:
        q = q.where(t.day >= f"{year:04d}-01-01", t.day <= f"{year:04d}-12-31")
    return list(conn.execute(q))


def holiday_row(conn: Connection, tenant_id: str, holiday_id: str) -> Any:
    t = s.Holiday
    row = conn.execute(select(t).where(t.tenant_id == tenant_id, t.id == holiday_id)).first()
    if row is None:
        raise NotFound(f"no holiday {holiday_id!r}", field="id")
    return row


def holiday_on(conn: Connection, tenant_id: str, day: str, hours_id: str | None) -> Any:
    """The holiday on ``day`` for exactly this scope (a calendar, or every one), or None."""
    t = s.Holiday
    q = select(t).where(t.tenant_id == tenant_id, t.day == day)
    q = q.where(t.hours_id.is_(None) if hours_id is None else t.hours_id == hours_id)
    return conn.execute(q).first()


def insert_holiday(conn: Connection, tenant_id: str, *, holiday_id: str, day: str, name: str,
                   hours: list[str], hours_id: str | None, now: float) -> None:
    conn.execute(insert(s.Holiday).values(tenant_id=tenant_id, id=holiday_id, day=day,
                                          name=name, hours=hours, hours_id=hours_id,
                                          created_at=now))


def update_holiday(conn: Connection, tenant_id: str, holiday_id: str, **values: Any) -> None:
    t = s.Holiday
    if values:
        conn.execute(update(t).where(t.tenant_id == tenant_id, t.id == holiday_id)
                     .values(**values))


def delete_holiday(conn: Connection, tenant_id: str, holiday_id: str) -> None:
    conn.execute(delete(s.Holiday).where(s.Holiday.tenant_id == tenant_id,
                                         s.Holiday.id == holiday_id))


def _ranges(texts: Iterable[str]) -> tuple[tuple[int, int], ...]:
    return merge([parse_range(t) for t in texts])


def calendar(row: Any, holiday_rows: Iterable[Any]) -> Calendar:
    """The IVR's :class:`Calendar` of one business-hours row: its weekly ranges
    and the holidays that apply to it (its own win over the tenant-wide ones
    on the same date)."""
    days: dict[date, tuple[tuple[int, int], ...]] = {}
    for h in sorted(holiday_rows, key=lambda h: h.hours_id is not None):
        if h.hours_id in (None, row.id):
            days[date.fromisoformat(h.day)] = _ranges(h.hours)
    weekly = {i: _ranges(row.weekly.get(d, [])) for i, d in enumerate(WEEKDAYS)}
    return Calendar(timezone=row.timezone, weekly={i: r for i, r in weekly.items() if r},
                    holidays=days)


def calendars(conn: Connection, tenant_id: str) -> dict[str, Calendar]:
    """Every business-hours set of the tenant as the IVR's calendars, by name
    (what an IVR session gets at the start of a call)."""
    rows = hours_list(conn, tenant_id)
    days = holidays(conn, tenant_id)
    return {r.name: calendar(r, days) for r in rows}


# ------------------------------------------------------------------ agents and users
def update_agent(conn: Connection, tenant_id: str, agent: AgentConfig) -> None:
    conn.execute(update(s.Agent).where(s.Agent.tenant_id == tenant_id, s.Agent.id == agent.id)
                 .values(name=agent.name, skills=dict(agent.skills),
                         capacity=to_json(agent.capacity)))


def delete_agent(conn: Connection, tenant_id: str, agent_id: str) -> None:
    conn.execute(delete(s.Agent).where(s.Agent.tenant_id == tenant_id, s.Agent.id == agent_id))


def users_of_agent(conn: Connection, tenant_id: str, agent_id: str) -> list[str]:
    """User names linked to an agent."""
    return list(conn.scalars(select(s.User.username).where(
        s.User.tenant_id == tenant_id, s.User.agent_id == agent_id)))


def set_password(conn: Connection, tenant_id: str, user_id: str, password_hash: str) -> None:
    """Store a new password hash and revoke the user's tokens."""
    conn.execute(update(s.User).where(s.User.tenant_id == tenant_id, s.User.id == user_id)
                 .values(password_hash=password_hash))
    conn.execute(delete(s.Token).where(s.Token.tenant_id == tenant_id,
                                       s.Token.user_id == user_id))


def delete_user(conn: Connection, tenant_id: str, user_id: str) -> None:
    conn.execute(delete(s.Token).where(s.Token.tenant_id == tenant_id,
                                       s.Token.user_id == user_id))
    conn.execute(delete(s.User).where(s.User.tenant_id == tenant_id, s.User.id == user_id))


def delete_skill(conn: Connection, tenant_id: str, name: str) -> None:
    conn.execute(delete(s.Skill).where(s.Skill.tenant_id == tenant_id, s.Skill.name == name))
