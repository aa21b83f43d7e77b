"""Schemathesis over ``/api/v1/openapi.json`` against a real uvicorn: no 5xx.

The server runs on SQLite (and PostgreSQL, marked slow) with a seeded tenant
(queues, agents, contacts in several states). Schemathesis calls every
operation with generated valid and invalid inputs (coverage and fuzzing phases,
bounded by ``--max-examples``), path ids set to real objects of the tenant,
once as its admin and once as a supervisor (who may act on contacts, which an
admin may not), and checks only ``not_a_server_error``: a bad request must be a
4xx in the one error shape, never a crash. ``/auth/logout`` is left out (it
would revoke the token the run uses; it is tested elsewhere).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from switchboard.commands.admin import create_user
from tests.server.conftest import PASSWORD, Api, Server, login
from tests.store.conftest import database_url

MAX_EXAMPLES = 25


def _token(api: Api) -> str:
    return str(api.client.headers["authorization"].split(" ", 1)[1])


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql",
                                                                marks=pytest.mark.slow)])
def seeded(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("fuzz")
    srv = Server(database_url(request.param, tmp), tmp / "server.log")
    for name, role in (("fuzz-admin", "admin"), ("fuzz-sup", "supervisor"),
                       ("fuzz-analyst", "analyst")):
        create_user(srv.db_url, username=name, password=PASSWORD, role=role, tenant="fuzz")
    srv.start()
    try:
        api = login(srv, "fuzz-admin")
        q = api.post("/queues", json={"name": "Sales", "skills": {"sales": 1}}).json()["id"]
        api.post("/queues", json={"name": "Support", "timeout_s": 3600})
        agents = [api.post("/agents", json={"name": f"A{i}", "skills": {"sales": 3}}).json()
                  for i in range(3)]
        contacts = [api.post("/interactions", json={
            "queue": q, "channel": "voice",
            "customer": {"phone": "+44 20 7946 0958"}}).json()["id"] for _ in range(4)]
        api.post(f"/agents/{agents[0]['id']}/status", json={"status": "ready"})
        cb = api.post("/callbacks", json={"queue": q, "due_at": time.time() + 3600,
                                     "customer": {"phone": "+1 202 555 0100"}})
        assert cb.status_code == 201, cb.text
        analyst = next(u for u in api.get("/users").json() if u["role"] == "analyst")
        config = tmp / "schemathesis.toml"
        config.write_text("[parameters]\n" + "".join(
            f'"path.{k}" = "{v}"\n' for k, v in {
                "queue_id": q, "agent_id": agents[0]["id"], "interaction_id": contacts[0],
                "user_id": analyst["id"]}.items()))
        yield {"server": srv, "config": config, "admin": _token(api),
               "supervisor": _token(login(srv, "fuzz-sup"))}
    finally:
        srv.stop()


@pytest.mark.parametrize("role", ["admin", "supervisor"])
def test_no_operation_answers_a_server_error(seeded: dict[str, Any], role: str,
                                            tmp_path: Path) -> None:
    srv: Server = seeded["server"]
    report = tmp_path / "report.json"
    run = subprocess.run(
        [sys.executable, "-m", "schemathesis.cli", "--config-file", str(seeded["config"]),
         "run", f"{srv.url}/api/v1/openapi.json",
         "--checks", "not_a_server_error", "--max-examples", str(MAX_EXAMPLES),
         "--phases", "coverage,fuzzing", "--seed", "5", "--workers", "2",
         "--header", f"Authorization: Bearer {seeded[role]}",
         "--generation-database", "none", "--request-timeout", "10",
         "--exclude-path-regex", "/auth/logout$", "--no-color",
         "--report", "json", "--report-json-path", str(report)],
        capture_output=True, text=True, timeout=300, check=False)
    log = srv.log.read_text()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:] + log[-3000:]
    assert "unhandled error" not in log
    assert "Test cases:" in run.stdout and " passed" in run.stdout
    spec = httpx.get(f"{srv.url}/api/v1/openapi.json").json()
    assert sum(len(v) for v in spec["paths"].values()) >= 30
    assert json.loads(report.read_text())
