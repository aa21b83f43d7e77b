"""A throw-away PostgreSQL cluster on 127.0.0.1 for the tests (one per test process).

Finds ``initdb`` and ``pg_ctl`` (on PATH or Debian's /usr/lib/postgresql/*/bin;
``make test`` installs Debian ``postgresql`` when they are missing), creates a
cluster in a temporary folder on a free port (as the ``postgres`` user when run
as root: initdb refuses root), and stops it and removes it at exit.
:func:`new_database` gives each caller a fresh, empty database.
"""

from __future__ import annotations

import atexit
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

_cluster: tuple[int, Path] | None = None


def binaries() -> Path | None:
    """The folder with initdb and pg_ctl, or ``None``."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(d, "initdb").exists():
            return Path(d)
    return None


def _as_owner(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cluster() -> int | None:
    """The port of this process's cluster, started on first use; ``None`` when
    PostgreSQL's binaries are not installed."""
    global _cluster
    if _cluster is not None:
        return _cluster[0]
    bindir = binaries()
    if bindir is None:
        return None
    root = Path(tempfile.mkdtemp(prefix="sb-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres", "postgres")
    subprocess.run(_as_owner([str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                              "--auth=trust", "-E", "UTF8", "--no-sync"]),
                   check=True, capture_output=True)
    port = _free_port()
    opts = f"-h 127.0.0.1 -p {port} -k {root} -c fsync=off -c full_page_writes=off"
    subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-o", opts,
                              "-l", str(root / "log"), "-w", "start"]),
                   check=True, capture_output=True)
    _cluster = (port, root)

    def stop() -> None:
        subprocess.run(_as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m",
                                  "immediate", "stop"]), capture_output=True)
        shutil.rmtree(root, ignore_errors=True)

    atexit.register(stop)
    return port


def new_database() -> str | None:
    """The SQLAlchemy URL of a fresh empty database, or ``None`` without PostgreSQL."""
    port = cluster()
    if port is None:
        return None
    name = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(f"host=127.0.0.1 port={port} user=postgres dbname=postgres",
                         autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}"
