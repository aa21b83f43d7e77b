"""The audit log and user administration (every query filtered by tenant)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from switchboard.domain.errors import NotFound, ValidationError
from switchboard.store import schema as s

SECRET_FIELDS = frozenset({"password"})
# built once: every audited request writes one row
_INSERT = insert(s.Base.metadata.tables["audit_log"])


def record(conn: Connection, tenant_id: str, *, at: float, user_id: str, role: str,
           action: str, target: str | None, detail: dict[str, Any]) -> None:
    """Append one audit row (secrets in ``detail`` are left out)."""
    clean = {k: v for k, v in detail.items() if k not in SECRET_FIELDS}
    conn.execute(_INSERT, {"tenant_id": tenant_id, "at": at, "user_id": user_id,
                           "role": role, "action": action, "target": target,
                           "detail": clean})


def entries(conn: Connection, tenant_id: str, *, after_seq: int = 0, limit: int = 100,
            user_id: str | None = None, since: float | None = None) -> list[dict[str, Any]]:
    """The tenant's audit rows after ``after_seq``, oldest first."""
    q = (select(s.AuditEntry).where(s.AuditEntry.tenant_id == tenant_id,
                                    s.AuditEntry.seq > after_seq)
         .order_by(s.AuditEntry.seq).limit(limit))
    if user_id is not None:
        q = q.where(s.AuditEntry.user_id == user_id)
    if since is not None:
        q = q.where(s.AuditEntry.at >= since)
    return [{"seq": r.seq, "at": r.at, "user": r.user_id, "role": r.role,
             "action": r.action, "target": r.target, "detail": r.detail}
            for r in conn.execute(q)]


def user_out(row: Any) -> dict[str, Any]:
    return {"id": row.id, "username": row.username, "role": row.role, "agent": row.agent_id,
            "disabled": bool(row.disabled), "created_at": row.created_at}


def user(conn: Connection, tenant_id: str, user_id: str) -> Any:
    row = conn.execute(select(s.User).where(s.User.tenant_id == tenant_id,
                                            s.User.id == user_id)).first()
    if row is None:
        raise NotFound(f"no user {user_id!r}", field="user")
    return row


def users(conn: Connection, tenant_id: str) -> list[Any]:
    return list(conn.execute(select(s.User).where(s.User.tenant_id == tenant_id)
                             .order_by(s.User.created_at, s.User.id)))


def update_user(conn: Connection, tenant_id: str, user_id: str, *, role: str | None = None,
                agent_id: str | None = None, disabled: bool | None = None) -> None:
    """Change a user's role, agent link or disabled flag; disabling revokes its tokens."""
    values: dict[str, Any] = {}
    if role is not None:
        if role not in s.ROLES:
            raise ValidationError(f"must be one of {', '.join(s.ROLES)}", field="role")
        values["role"] = role
    if agent_id is not None:
        values["agent_id"] = agent_id
    if disabled is not None:
        values["disabled"] = disabled
    if values:
        conn.execute(update(s.User).where(s.User.tenant_id == tenant_id, s.User.id == user_id)
                     .values(**values))
    if disabled or role is not None:
        conn.execute(delete(s.Token).where(s.Token.tenant_id == tenant_id,
                                           s.Token.user_id == user_id))
