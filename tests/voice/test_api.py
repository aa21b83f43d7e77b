"""The voice API through the real server (``switchboard serve --voice`` on
uvicorn: its lifespan starts the runtime, then the telephony service): an
agent's click-to-dial rings its phone, then the customer; the phones list;
409 when the server runs without ``--voice``."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from switchboard.commands.admin import create_user
from switchboard.domain import commands as c
from switchboard.domain.model import AgentConfig
from switchboard.server.runtime import Runtime
from switchboard.store import repo
from switchboard.store.db import open_db
from tests.voice.peers import SippPhone, free_tcp_port, need_peers, phone_scenario, write_tone

PASSWORD = "correct horse battery"


def prepare(tmp: Path) -> str:
    """A database with tenant t1, an admin ``boss``, and agent ``ada`` with its user."""
    url = f"sqlite:///{tmp}/api.db"
    create_user(url, username="boss", password=PASSWORD, role="admin", tenant="t1")
    db = open_db(url)

    async def main() -> None:  # the agent's id must be known to the phone configuration
        rt = Runtime(db)
        rt.start()
        a = AgentConfig(id="ada", name="Ada", skills={})
        rt.execute("t1", c.UpsertAgent(agent=a),
                   write=lambda conn: repo.insert_agent(conn, "t1", a, time.time()))
        rt.stop()

    asyncio.run(main())
    db.dispose()
    create_user(url, username="ada", password=PASSWORD, role="agent", tenant="t1", agent="ada")
    return url


@contextmanager
def serve(tmp: Path, url: str, voice: dict[str, Any] | None) -> Iterator[httpx.Client]:
    port = free_tcp_port()
    argv = [sys.executable, "-m", "switchboard.cli", "serve", "--db", url, "--port", str(port)]
    if voice is not None:
        (tmp / "voice.yaml").write_text(yaml.safe_dump(voice))
        argv += ["--voice", str(tmp / "voice.yaml")]
    log = (tmp / "server.log").open("ab")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=tmp,
                            env={**os.environ, "SWITCHBOARD_MEDIA_DIR": str(tmp / "media")})
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}/api/v1", timeout=10)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {(tmp / 'server.log').read_text()[-2000:]}")
            try:
                client.get("/openapi.json")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield client
    finally:
        client.close()
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def login(client: httpx.Client, username: str) -> dict[str, str]:
    resp = client.post("/auth/token", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.text
    return {"Authorization": f"Bearer {resp.json()['token']}"}


@pytest.mark.slow
def test_without_voice_the_routes_say_so(tmp_path: Path) -> None:
    url = prepare(tmp_path)
    with serve(tmp_path, url, None) as client:
        resp = client.post("/voice/calls", json={"number": "+390612345678"},
                           headers=login(client, "ada"))
        assert resp.status_code == 409
        assert resp.json()["error"]["code"] == "voice_not_running"
        resp = client.get("/voice/phones", headers=login(client, "boss"))
        assert resp.status_code == 409


@pytest.mark.slow
@pytest.mark.voice
def test_click_to_dial_through_the_api(tmp_path: Path) -> None:
    need_peers()
    url = prepare(tmp_path)
    tone = write_tone(tmp_path / "tone.al", 400, 2)
    phone = SippPhone(tmp_path / "phone", phone_scenario(tmp_path / "p.xml", "hangup",
                                                         voice=tone, hangup_after_ms=2000))
    customer = SippPhone(tmp_path / "customer", phone_scenario(tmp_path / "c.xml", "answer",
                                                               voice=tone))
    phone.start()
    customer.start()
    voice = {
        "sip": {"port": 0}, "prompts": "prompts",
        "recording": {"spool": "spool", "media": "media"},
        "trunks": {"carrier": {"addresses": ["127.0.0.1"], "outbound": customer.address}},
        "phones": {"ada": {"tenant": "t1", "agent": "ada", "address": phone.address}},
    }
    try:
        with serve(tmp_path, url, voice) as client:
            boss, ada = login(client, "boss"), login(client, "ada")
            phones = client.get("/voice/phones", headers=boss).json()
            assert phones == [{"username": "ada", "agent": "ada", "kind": "fixed",
                               "address": phone.address}]
            assert client.post("/agents/ada/status", json={"status": "ready"},
                               headers=ada).status_code == 200
            bad = client.post("/voice/calls", json={"number": "12"}, headers=ada)
            assert bad.status_code == 422 and bad.json()["error"]["field"] == "number"
            denied = client.post("/voice/calls", json={"number": "+390612345678"}, headers=boss)
            assert denied.status_code == 403  # click-to-dial is the agent's own
            nowhere = client.post("/voice/calls", json={"number": "+390612345678"}, headers=ada)
            assert nowhere.status_code == 422  # ada works no queue to report the call under
            assert nowhere.json()["error"]["field"] == "queue"
            q = client.post("/queues", json={"name": "Outbound"}, headers=boss).json()["id"]
            unknown = client.post("/voice/calls", json={"number": "+390612345678",
                                                        "queue": "nope"}, headers=ada)
            assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "queue"
            resp = client.post("/voice/calls", json={"number": "+390612345678"}, headers=ada)
            assert resp.status_code == 201, resp.text
            iid = resp.json()["interaction"]
            deadline = time.monotonic() + 30
            kinds: list[Any] = []
            while time.monotonic() < deadline:
                events = client.get(f"/interactions/{iid}/events", headers=boss).json()
                kinds = [ev["kind"] for ev in events]
                if "ended" in kinds:
                    break
                time.sleep(0.2)
            assert [k for k in kinds if k != "agent_state"][:5] == [
                "arrived", "enqueued", "offered", "answered", "ended"], kinds
            enqueued = next(ev for ev in events if ev["kind"] == "enqueued")
            assert enqueued["queue_id"] == q  # the queue ada works, none of its own
            queues = client.get("/queues", headers=boss).json()
            assert [x["id"] for x in queues] == [q]
        assert phone.wait(20) == 0, phone.errors()
        assert customer.wait(20) == 0, customer.errors()
    finally:
        phone.kill()
        customer.kill()
