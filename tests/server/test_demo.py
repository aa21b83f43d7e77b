"""Demo mode: ``switchboard serve --demo`` as a real process in a fresh folder."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

from switchboard.server.demo import AGENT_NAMES, QUEUES
from tests.server.conftest import free_port

LOGIN = re.compile(r"^\s+(demo-[a-z]+)\s+(\S+)\s+(admin|supervisor|agent)", re.M)


class Demo:
    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd
        self.port = free_port()
        self.log = cwd / f"demo-{self.port}.log"
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "switchboard.cli", "serve", "--demo", "--port",
                 str(self.port), "--demo-rate", "60", "--demo-speed", "4"],
                cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        self.logins = self._wait_for_logins()

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v1"

    def _wait_for_logins(self) -> dict[str, str]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            text = self.log.read_text()
            if "traffic:" in text:
                return {m[1]: m[2] for m in LOGIN.finditer(text)}
            if self.proc.poll() is not None:
                raise AssertionError(f"demo exited early:\n{text[-3000:]}")
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"demo did not start in 30 s:\n{self.log.read_text()[-3000:]}")

    def token(self, username: str) -> str:
        r = httpx.post(f"{self.api}/auth/token",
                       json={"username": username, "password": self.logins[username]})
        assert r.status_code == 200, r.text
        token: str = r.json()["token"]
        return token

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode


@pytest.fixture
def demo_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path


def test_demo_runs_live_traffic_and_restarts_on_the_same_database(demo_dir: Path) -> None:
    demo = Demo(demo_dir)
    try:
        assert set(demo.logins) >= {"demo-admin", "demo-supervisor", "demo-sam", "demo-tara"}
        assert (demo_dir / "var" / "demo.db").exists()
        token = demo.token("demo-supervisor")
        seen: dict[str, set[str]] = {}
        ws_url = demo.api.replace("http://", "ws://")
        deadline = time.monotonic() + 15
        with connect(f"{ws_url}/events/ws?token={token}") as ws:
            while time.monotonic() < deadline:
                try:
                    ev = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
                except TimeoutError:
                    break
                if ev.get("interaction_id"):
                    seen.setdefault(ev["kind"], set()).add(ev["interaction_id"])
                if seen.get("ended", set()) & seen.get("arrived", set()):
                    break
        # one contact seen from its creation to its end, all through the feed
        done = seen.get("ended", set()) & seen.get("arrived", set())
        assert done, f"no contact went from arrival to end in 15 s: {sorted(seen)}"
        iid = next(iter(done))
        assert iid in seen["offered"] and iid in seen["answered"]
        r = httpx.get(f"{demo.api}/interactions/{iid}/events",
                      headers={"Authorization": f"Bearer {token}"})
        kinds = [e["kind"] for e in r.json()]
        assert kinds.index("arrived") < kinds.index("offered") < kinds.index("answered") \
            < kinds.index("ended")
        first_logins = dict(demo.logins)
    finally:
        rc = demo.stop(signal.SIGINT)
    assert rc == 0, demo.log.read_text()[-3000:]
    assert "demo stopped" in demo.log.read_text()

    again = Demo(demo_dir)  # same folder: the same var/demo.db
    try:
        assert again.logins["demo-admin"] != first_logins["demo-admin"]  # fresh passwords
        headers = {"Authorization": f"Bearer {again.token('demo-admin')}"}
        queues = httpx.get(f"{again.api}/queues", headers=headers).json()
        agents = httpx.get(f"{again.api}/agents", headers=headers).json()
        assert sorted(q["name"] for q in queues) == sorted(name for name, *_ in QUEUES)
        assert sorted(a["name"] for a in agents) == sorted(AGENT_NAMES)
        stale = httpx.post(f"{again.api}/auth/token",
                           json={"username": "demo-admin",
                                 "password": first_logins["demo-admin"]})
        assert stale.status_code == 401
        assert httpx.get(f"{again.api}/interactions/{iid}", headers=headers).status_code == 200
    finally:
        rc = again.stop(signal.SIGTERM)
    assert rc == 0, again.log.read_text()[-3000:]
    assert [p.name for p in (demo_dir / "var").glob("*.db")] == ["demo.db"]


def test_demo_refuses_another_host_or_database(tmp_path: Path) -> None:
    for extra, field in ((["--host", "0.0.0.0"], "host"),
                         (["--db", f"sqlite:///{tmp_path}/x.db"], "db")):
        r = subprocess.run([sys.executable, "-m", "switchboard.cli", "serve", "--demo", *extra],
                           cwd=tmp_path, capture_output=True, text=True, timeout=30)
        assert r.returncode == 2
        assert r.stderr.startswith(f"error: {field}: demo mode"), r.stderr
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "var").exists()
