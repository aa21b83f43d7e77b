"""Opening the database and migrating it.

SQLite (in WAL mode, ``synchronous=NORMAL``: a committed transaction survives
the process being killed) is the default; PostgreSQL by URL
(``postgresql+psycopg://user:pass@host/db``). :func:`migrate` applies the
Alembic migrations shipped in this package, programmatically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from switchboard.domain.errors import ConfigError

DEFAULT_URL = "sqlite:///var/switchboard.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for a bare ``postgresql://`` URL; refuse unsupported databases."""
    try:
        parsed = make_url(url)
    except Exception:
        raise ConfigError(f"not a database URL: {url!r}", field="db") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError("use a sqlite:/// or postgresql:// URL", field="db")
    return parsed.render_as_string(hide_password=False)


def open_db(url: str = DEFAULT_URL) -> Engine:
    """A SQLAlchemy engine for ``url``; for a SQLite file its folder is created."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def _config(connection: Any) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (a no-op when it is there)."""
    with engine.begin() as conn:
        command.upgrade(_config(conn), "head")


def current_revision(engine: Engine) -> str | None:
    """The schema revision the database is at (``None``: never migrated)."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    """The newest revision this code ships."""
    return ScriptDirectory.from_config(_config(None)).get_current_head()
