"""Store tests run on SQLite and on a throw-away PostgreSQL cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from switchboard.store.db import migrate, open_db
from tests.store import pg


def database_url(kind: str, tmp_path: Path) -> str:
    """A fresh database of ``kind`` (sqlite or postgresql); skips without PostgreSQL."""
    if kind == "sqlite":
        return f"sqlite:///{tmp_path}/test.db"
    url = pg.new_database()
    if url is None:
        pytest.skip("PostgreSQL is not installed (make test installs it: scripts/test-deps.sh)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    engine = open_db(database_url(request.param, tmp_path))
    migrate(engine)
    yield engine
    engine.dispose()
