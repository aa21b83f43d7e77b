"""Repository functions over the configuration tables.

Every function takes an open SQLAlchemy :class:`~sqlalchemy.Connection` (the
caller owns the transaction) and, except the few that must look across tenants
(login by user name, the list of tenants at start), a required ``tenant_id``
that every query filters on: an id of another tenant is simply not found.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, delete, event, insert, select, update

from switchboard.domain.errors import Conflict, NotFound, ValidationError
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.store import schema as s
from switchboard.store.codec import from_json, to_json
from switchboard.store.contacts import check_email, to_e164


def new_id() -> str:
    """A fresh random id (32 hex digits)."""
    return uuid.uuid4().hex


# ------------------------------------------------------------------ tenants
def create_tenant(conn: Connection, tenant_id: str, *, name: str, now: float,
                  seed: int = 0) -> None:
    if conn.execute(select(s.Tenant.id).where(s.Tenant.id == tenant_id)).first():
        raise Conflict(f"tenant {tenant_id!r} exists", field="tenant")
    conn.execute(insert(s.Tenant).values(id=tenant_id, name=name, seed=seed, created_at=now))


def tenant_exists(conn: Connection, tenant_id: str) -> bool:
    return conn.execute(select(s.Tenant.id).where(s.Tenant.id == tenant_id)).first() is not None


def tenant_seeds(conn: Connection) -> dict[str, int]:
    """Every tenant's id and engine seed (the runtime rebuilds each one at start)."""
    return {row.id: row.seed for row in conn.execute(select(s.Tenant.id, s.Tenant.seed))}


# ------------------------------------------------------------------ users and tokens
def create_user(conn: Connection, tenant_id: str, *, username: str, password_hash: str,
                role: str, now: float, agent_id: str | None = None) -> str:
    """Add a user; user names are unique across tenants (login names no tenant)."""
    if role not in s.ROLES:
        raise ValidationError(f"must be one of {', '.join(s.ROLES)}", field="role")
    if not username or len(username) > 200:
        raise ValidationError("must be 1 to 200 characters", field="username")
    if conn.execute(select(s.User.id).where(s.User.username == username)).first():
        raise Conflict(f"user name {username!r} is taken", field="username")
    uid = new_id()
    conn.execute(insert(s.User).values(id=uid, tenant_id=tenant_id, username=username,
                                       password_hash=password_hash, role=role,
                                       agent_id=agent_id, created_at=now))
    return uid


def user_by_username(conn: Connection, username: str) -> Any:
    """The user row for a login name, or ``None`` (looks across tenants)."""
    return conn.execute(select(s.User).where(s.User.username == username)).first()


def save_token(conn: Connection, tenant_id: str, *, token_hash: str, user_id: str,
               now: float, ttl_s: float) -> None:
    conn.execute(insert(s.Token).values(token_hash=token_hash, user_id=user_id,
                                        tenant_id=tenant_id, created_at=now,
                                        expires_at=now + ttl_s))


def delete_token(conn: Connection, tenant_id: str, token_hash: str) -> None:
    conn.execute(delete(s.Token).where(s.Token.tenant_id == tenant_id,
                                       s.Token.token_hash == token_hash))


def user_for_token(conn: Connection, token_hash: str, now: float) -> Any:
    """The user a live token belongs to, or ``None``."""
    return conn.execute(
        select(s.User).join(s.Token, s.Token.user_id == s.User.id)
        .where(s.Token.token_hash == token_hash, s.Token.expires_at > now,
               s.Token.tenant_id == s.User.tenant_id, s.User.disabled.is_(False))
    ).first()


_USERS = s.Base.metadata.tables["users"]
_TOKENS = s.Base.metadata.tables["tokens"]
_USER_FOR_TOKEN = (
    select(_USERS, _TOKENS.c.expires_at.label("token_expires_at"))
    .join(_TOKENS, _TOKENS.c.user_id == _USERS.c.id)
    .where(_TOKENS.c.token_hash == bindparam("digest"),
           _TOKENS.c.tenant_id == _USERS.c.tenant_id, _USERS.c.disabled.is_(False)))
_AUTH_CHANGE = re.compile(r'\s*(UPDATE|DELETE\s+FROM)\s+"?(users|tokens)\b', re.IGNORECASE)


class TokenCache:
    """:func:`user_for_token` that remembers its answers for ``ttl_s`` seconds, so
    a client's run of requests costs one query a second instead of one each.

    Forgetting is what makes it safe: every ``UPDATE`` or ``DELETE`` of the users
    or tokens table run through ``db`` (logout, disabling a user, a role change,
    whoever's code runs it) empties the cache when it runs and again when its
    transaction commits, so no request after that commit sees the old answer.
    Changes made by another process (the ``switchboard admin`` command) are seen
    within ``ttl_s``. A cached token past its expiry is refused without a query."""

    def __init__(self, db: Engine, *, ttl_s: float = 1.0, size: int = 10_000) -> None:
        self.db = db
        self.ttl_s = ttl_s
        self.size = size
        self._rows: dict[str, tuple[Any, float]] = {}  # digest -> (row, fetched at)
        event.listen(db, "after_cursor_execute", self._after_execute)
        event.listen(db, "commit", self._after_commit)

    def user(self, token_hash: str, now: float) -> Any:
        """The user a live token belongs to, or ``None`` (like :func:`user_for_token`)."""
        hit = self._rows.get(token_hash)
        fresh = time.monotonic()
        if hit is None or hit[1] + self.ttl_s <= fresh:
            with self.db.connect() as conn:
                row = conn.execute(_USER_FOR_TOKEN, {"digest": token_hash}).first()
            if row is None:
                self._rows.pop(token_hash, None)
                return None
            if len(self._rows) >= self.size:
                self._rows.clear()
            hit = self._rows[token_hash] = (row, fresh)
        return hit[0] if hit[0].token_expires_at > now else None

    def clear(self) -> None:
        self._rows.clear()

    def _after_execute(self, conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if _AUTH_CHANGE.match(statement):
            self._rows.clear()
            conn.info["switchboard_auth_changed"] = True

    def _after_commit(self, conn: Any) -> None:
        if conn.info.pop("switchboard_auth_changed", False):
            self._rows.clear()


# ------------------------------------------------------------------ skills
def skill_names(conn: Connection, tenant_id: str) -> set[str]:
    return set(conn.scalars(select(s.Skill.name).where(s.Skill.tenant_id == tenant_id)))


def add_skills(conn: Connection, tenant_id: str, names: Iterable[str], now: float) -> None:
    rows = [{"tenant_id": tenant_id, "name": n, "created_at": now} for n in sorted(names)]
    if rows:
        conn.execute(insert(s.Skill), rows)


# ------------------------------------------------------------------ agents
def insert_agent(conn: Connection, tenant_id: str, agent: AgentConfig, now: float) -> None:
    conn.execute(insert(s.Agent).values(
        tenant_id=tenant_id, id=agent.id, name=agent.name, skills=dict(agent.skills),
        capacity=to_json(agent.capacity), created_at=now))


def agent_row(conn: Connection, tenant_id: str, agent_id: str) -> Any:
    row = conn.execute(select(s.Agent).where(s.Agent.tenant_id == tenant_id,
                                             s.Agent.id == agent_id)).first()
    if row is None:
        raise NotFound(f"no agent {agent_id!r}", field="agent")
    return row


def list_agents(conn: Connection, tenant_id: str) -> list[Any]:
    return list(conn.execute(select(s.Agent).where(s.Agent.tenant_id == tenant_id)
                             .order_by(s.Agent.created_at, s.Agent.id)))


def agent_ids(conn: Connection, tenant_id: str) -> set[str]:
    return set(conn.scalars(select(s.Agent.id).where(s.Agent.tenant_id == tenant_id)))


# ------------------------------------------------------------------ queues
def insert_queue(conn: Connection, tenant_id: str, queue: QueueConfig, now: float) -> None:
    settings = to_json(queue)
    conn.execute(insert(s.Queue).values(
        tenant_id=tenant_id, id=queue.id, name=queue.name, strategy=queue.strategy.value,
        settings=settings, created_at=now))


def queue_config(conn: Connection, tenant_id: str, queue_id: str) -> QueueConfig:
    """The stored configuration of a queue; :class:`NotFound` for another tenant's."""
    row = conn.execute(select(s.Queue.settings).where(s.Queue.tenant_id == tenant_id,
                                                      s.Queue.id == queue_id)).first()
    if row is None:
        raise NotFound(f"no queue {queue_id!r}", field="queue")
    config: QueueConfig = from_json(QueueConfig, row.settings)
    return config


def queue_ids(conn: Connection, tenant_id: str) -> set[str]:
    return set(conn.scalars(select(s.Queue.id).where(s.Queue.tenant_id == tenant_id)))


def list_queues(conn: Connection, tenant_id: str) -> list[QueueConfig]:
    rows = conn.execute(select(s.Queue.settings).where(s.Queue.tenant_id == tenant_id)
                        .order_by(s.Queue.created_at, s.Queue.id))
    return [from_json(QueueConfig, r.settings) for r in rows]


# ------------------------------------------------------------------ contacts
# Built once (every created contact runs them): SQLAlchemy reuses their compiled form.
_CONTACTS = s.Base.metadata.tables["contacts"]
_CONTACT_BY_PHONE = select(_CONTACTS).where(_CONTACTS.c.tenant_id == bindparam("t"),
                                           _CONTACTS.c.phone == bindparam("v"))
_CONTACT_BY_EMAIL = select(_CONTACTS).where(_CONTACTS.c.tenant_id == bindparam("t"),
                                           _CONTACTS.c.email == bindparam("v"))
_INSERT_CONTACT = insert(_CONTACTS)


def find_or_create_contact(conn: Connection, tenant_id: str, *, now: float,
                           name: str | None = None, phone: str | None = None,
                           email: str | None = None) -> str | None:
    """The id of the tenant's contact with this phone (else e-mail), created or
    completed as needed; ``None`` when nothing identifies the customer."""
    phone = to_e164(phone, field="customer.phone") if phone else None
    email = check_email(email, field="customer.email") if email else None
    if not (phone or email or name):
        return None
    row = None
    if phone:
        row = conn.execute(_CONTACT_BY_PHONE, {"t": tenant_id, "v": phone}).first()
    if row is None and email:
        row = conn.execute(_CONTACT_BY_EMAIL, {"t": tenant_id, "v": email}).first()
    if row is None:
        cid = new_id()
        conn.execute(_INSERT_CONTACT, {"tenant_id": tenant_id, "id": cid, "name": name,
                                       "phone": phone, "email": email, "created_at": now})
        return cid
    changes = {k: v for k, v in (("name", name), ("phone", phone), ("email", email))
               if v and getattr(row, k) is None}
    if changes:
        conn.execute(update(s.Contact).where(s.Contact.tenant_id == tenant_id,
                                             s.Contact.id == row.id).values(**changes))
    contact_id: str = row.id
    return contact_id


def contact_row(conn: Connection, tenant_id: str, contact_id: str) -> Any:
    return conn.execute(select(s.Contact).where(s.Contact.tenant_id == tenant_id,
                                                s.Contact.id == contact_id)).first()


# ------------------------------------------------------------------ idempotency keys
def idempotent_request(conn: Connection, tenant_id: str, key: str) -> Any:
    """The stored request of an ``Idempotency-Key`` (route, hash, resource), or ``None``."""
    return conn.execute(select(s.IdempotencyKey).where(
        s.IdempotencyKey.tenant_id == tenant_id, s.IdempotencyKey.key == key)).first()


def save_idempotent_request(conn: Connection, tenant_id: str, *, key: str, route: str,
                            request_hash: str, resource_id: str, now: float) -> None:
    conn.execute(insert(s.IdempotencyKey).values(
        tenant_id=tenant_id, key=key, route=route, request_hash=request_hash,
        resource_id=resource_id, created_at=now))


def update_queue(conn: Connection, tenant_id: str, queue: QueueConfig) -> None:
    """Store a queue's new configuration."""
    conn.execute(update(s.Queue).where(s.Queue.tenant_id == tenant_id, s.Queue.id == queue.id)
                 .values(name=queue.name, strategy=queue.strategy.value,
                         settings=to_json(queue)))


def delete_queue(conn: Connection, tenant_id: str, queue_id: str) -> None:
    conn.execute(delete(s.Queue).where(s.Queue.tenant_id == tenant_id, s.Queue.id == queue_id))
