"""The bearer lookup cache: one query per token a second, and no request after a
logout, a disabled user or an expiry is let through by it."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine as Database
from sqlalchemy import event, update

from switchboard.store import audit, repo
from switchboard.store import schema as s
from switchboard.store.db import migrate, open_db
from tests.store.conftest import database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = open_db(database_url(request.param, tmp_path))
    migrate(engine)
    with engine.begin() as conn:
        repo.create_tenant(conn, "t1", name="One", now=0.0)
        uid = repo.create_user(conn, "t1", username="ann", password_hash="x", role="agent",
                               now=0.0)
        for digest in ("d1", "d2"):
            repo.save_token(conn, "t1", token_hash=digest, user_id=uid, now=0.0, ttl_s=100.0)
    yield engine
    engine.dispose()


def selects(db: Database) -> list[str]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "tokens" in statement:
            seen.append(statement)

    event.listen(db, "before_cursor_execute", count)
    return seen


def test_a_token_is_looked_up_once_a_ttl_and_expires_on_time(db: Database) -> None:
    cache = repo.TokenCache(db, ttl_s=60.0)
    seen = selects(db)
    assert cache.user("d1", now=10.0).username == "ann"
    assert cache.user("d1", now=20.0).username == "ann"
    assert len(seen) == 1
    assert cache.user("d1", now=100.0) is None  # expired: no query needed to know
    assert len(seen) == 1
    assert cache.user("nope", now=10.0) is None


def test_logout_or_disabling_the_user_is_seen_by_the_next_lookup(db: Database) -> None:
    cache = repo.TokenCache(db, ttl_s=60.0)
    assert cache.user("d1", now=10.0) is not None
    assert cache.user("d2", now=10.0) is not None
    with db.begin() as conn:
        repo.delete_token(conn, "t1", "d1")  # logout
    assert cache.user("d1", now=11.0) is None
    assert cache.user("d2", now=11.0) is not None
    uid = cache.user("d2", now=11.0).id
    with db.begin() as conn:
        conn.execute(update(s.User).where(s.User.id == uid).values(disabled=True))
    assert cache.user("d2", now=12.0) is None


def test_a_change_that_rolls_back_or_comes_from_elsewhere(db: Database, tmp_path: Path) -> None:
    cache = repo.TokenCache(db, ttl_s=0.2)
    assert cache.user("d1", now=10.0) is not None
    with db.connect() as conn, conn.begin() as txn:
        repo.delete_token(conn, "t1", "d1")
        txn.rollback()
    assert cache.user("d1", now=11.0) is not None  # rolled back: still valid
    other = open_db(db.url.render_as_string(hide_password=False))  # another process's
    with other.begin() as conn:
        audit.update_user(conn, "t1", cache.user("d1", now=11.0).id, disabled=True)
    other.dispose()
    time.sleep(0.25)  # changes made elsewhere are seen within the ttl
    assert cache.user("d1", now=12.0) is None
