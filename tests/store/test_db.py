"""Opening, migrating and querying the store, tenant by tenant."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from switchboard.domain.errors import ConfigError, Conflict, NotFound, ValidationError
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.store import repo
from switchboard.store.contacts import check_email, to_e164
from switchboard.store.db import current_revision, head_revision, migrate, open_db
from switchboard.store.schema import Base


def test_migrations_build_exactly_the_models(db) -> None:  # type: ignore[no-untyped-def]
    with db.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []
    assert current_revision(db) == head_revision()


def test_migrate_twice_is_a_no_op_and_sqlite_is_in_wal_mode(db) -> None:  # type: ignore[no-untyped-def]
    migrate(db)
    assert current_revision(db) == head_revision()
    if db.dialect.name != "sqlite":
        return
    with db.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_bad_urls_are_refused_with_the_field_named() -> None:
    with pytest.raises(ConfigError) as err:
        open_db("mysql://x@y/z")
    assert err.value.field == "db"
    with pytest.raises(ConfigError):
        open_db("not a url")


def test_repositories_never_cross_tenants(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        repo.create_tenant(conn, "t1", name="One", now=1.0)
        repo.create_tenant(conn, "t2", name="Two", now=1.0, seed=7)
        repo.insert_queue(conn, "t1", QueueConfig(id="q", name="Sales", timeout_s=60.0), 2.0)
        repo.insert_agent(conn, "t1", AgentConfig(id="a", name="Ann", skills={}), 2.0)
        with pytest.raises(Conflict):
            repo.create_tenant(conn, "t1", name="again", now=3.0)
    with db.connect() as conn:
        assert repo.tenant_seeds(conn) == {"t1": 0, "t2": 7}
        q = repo.queue_config(conn, "t1", "q")
        assert q == QueueConfig(id="q", name="Sales", timeout_s=60.0)
        assert repo.agent_row(conn, "t1", "a").name == "Ann"
        with pytest.raises(NotFound):
            repo.queue_config(conn, "t2", "q")
        with pytest.raises(NotFound):
            repo.agent_row(conn, "t2", "a")
        assert repo.list_queues(conn, "t2") == []


def test_user_names_are_unique_and_roles_checked(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        repo.create_tenant(conn, "t1", name="One", now=1.0)
        repo.create_user(conn, "t1", username="ann", password_hash="h", role="admin", now=1.0)
        with pytest.raises(Conflict):
            repo.create_user(conn, "t1", username="ann", password_hash="h", role="agent",
                             now=1.0)
        with pytest.raises(ValidationError) as err:
            repo.create_user(conn, "t1", username="bob", password_hash="h", role="root",
                             now=1.0)
        assert err.value.field == "role"
        assert repo.user_by_username(conn, "ann").role == "admin"


def test_contacts_are_found_by_phone_in_e164(db) -> None:  # type: ignore[no-untyped-def]
    with db.begin() as conn:
        repo.create_tenant(conn, "t1", name="One", now=1.0)
        repo.create_tenant(conn, "t2", name="Two", now=1.0)
        first = repo.find_or_create_contact(conn, "t1", now=1.0, phone="+44 20 7946 0958")
        again = repo.find_or_create_contact(conn, "t1", now=2.0, phone="+442079460958",
                                            name="Ann")
        other = repo.find_or_create_contact(conn, "t2", now=2.0, phone="+442079460958")
        assert first == again != other
        row = repo.contact_row(conn, "t1", first)
        assert (row.phone, row.name) == ("+442079460958", "Ann")
        assert repo.find_or_create_contact(conn, "t1", now=1.0) is None


def test_phone_and_email_checks() -> None:
    assert to_e164("(415) 555-0100", region="US") == "+14155550100"
    with pytest.raises(ValidationError) as err:
        to_e164("12", field="customer.phone")
    assert err.value.field == "customer.phone"
    with pytest.raises(ValidationError):
        to_e164("0207 946 0958")  # no region, no +
    assert check_email(" a@b.co ") == "a@b.co"
    with pytest.raises(ValidationError):
        check_email("a@b")
