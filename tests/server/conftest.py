"""A real server (``switchboard serve`` on uvicorn) on 127.0.0.1, and API helpers."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.commands.admin import create_user
from tests.store.conftest import database_url

PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """One ``switchboard serve`` process; :meth:`kill` is ``kill -9``."""

    def __init__(self, db_url: str, log: Path) -> None:
        self.db_url = db_url
        self.log = log
        self.port = 0
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.port = free_port()
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "switchboard.cli", "serve", "--db", self.db_url,
                 "--port", str(self.port)], stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()[-2000:]}")
            try:
                httpx.get(f"{self.url}/api/v1/openapi.json", timeout=1.0)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("server did not start in 30 s")

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("srv")
    srv = Server(database_url(request.param, tmp), tmp / "server.log")
    create_user(srv.db_url, username=f"boot-{uuid.uuid4().hex}", password=PASSWORD,
                role="admin", tenant="boot")  # migrates before the server starts
    srv.start()
    yield srv
    srv.stop()


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


class Api:
    """A logged-in client of one tenant (closed after the test)."""

    def __init__(self, server: Server, token: str) -> None:
        self.client = httpx.Client(base_url=f"{server.url}/api/v1",
                                   headers={"Authorization": f"Bearer {token}"}, timeout=10)
        _OPEN.append(self.client)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def login(server: Server, username: str, password: str = PASSWORD) -> Api:
    r = httpx.post(f"{server.url}/api/v1/auth/token",
                   json={"username": username, "password": password}, timeout=10)
    assert r.status_code == 200, r.text
    return Api(server, r.json()["token"])


def new_user(server: Server, role: str = "admin", tenant: str | None = None,
             agent: str | None = None) -> tuple[str, str]:
    """(user name, tenant) of a fresh user; a fresh tenant unless one is given."""
    tenant = tenant or f"t-{uuid.uuid4().hex[:12]}"
    name = f"{role}-{uuid.uuid4().hex[:12]}"
    create_user(server.db_url, username=name, password=PASSWORD, role=role, tenant=tenant,
                agent=agent)
    return name, tenant


@pytest.fixture
def admin(server: Server) -> Api:
    name, _ = new_user(server)
    return login(server, name)
