"""``switchboard admin create-user``: add a user to a tenant (creating both the
database schema and the tenant when they do not exist yet)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from switchboard.domain.errors import SwitchboardError, ValidationError
from switchboard.store.db import DEFAULT_URL

ACTIONS = ("create-user",)


def admin(
    action: Annotated[str, typer.Argument(help="create-user")],
    username: Annotated[str, typer.Option(help="login name (unique)")] = "",
    password: Annotated[str, typer.Option(help="at least 8 characters")] = "",
    role: Annotated[str, typer.Option(help="admin, supervisor, agent or analyst")] = "admin",
    tenant: Annotated[str, typer.Option(help="tenant id (created if new)")] = "default",
    agent: Annotated[str | None, typer.Option(help="the agent id an agent user acts as")]
    = None,
    db: Annotated[str, typer.Option(help="database URL (sqlite:///... or postgresql://...)")]
    = DEFAULT_URL,
) -> None:
    """Administer users: `switchboard admin create-user --username U --password P --role R`."""
    try:
        if action not in ACTIONS:
            raise ValidationError(f"unknown action {action!r}; use {', '.join(ACTIONS)}",
                                  field="action")
        user_id = create_user(db, username=username, password=password, role=role,
                              tenant=tenant, agent=agent)
    except SwitchboardError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"created user {username} ({role}) in tenant {tenant}: {user_id}")


def create_user(db_url: str, *, username: str, password: str, role: str, tenant: str,
                agent: str | None = None) -> str:
    """Migrate the database, create the tenant if new, add the user; its id."""
    from switchboard.server.auth import hash_password
    from switchboard.store import repo
    from switchboard.store.db import migrate, open_db

    if not username:
        raise ValidationError("is required", field="username")
    if not tenant or len(tenant) > 64:
        raise ValidationError("must be 1 to 64 characters", field="tenant")
    if (role == "agent") != (agent is not None):
        raise ValidationError("an agent user needs --agent, and only an agent user",
                              field="agent")
    password_hash = hash_password(password)
    engine = open_db(db_url)
    try:
        migrate(engine)
        now = time.time()
        with engine.begin() as conn:
            if not repo.tenant_exists(conn, tenant):
                repo.create_tenant(conn, tenant, name=tenant, now=now)
            if agent is not None:
                repo.agent_row(conn, tenant, agent)
            return repo.create_user(conn, tenant, username=username, password_hash=password_hash,
                                    role=role, now=now, agent_id=agent)
    finally:
        engine.dispose()
