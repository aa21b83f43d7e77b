"""Demo mode: ``switchboard serve --demo`` as a real process in a fresh folder.

:class:`Demo` starts it (its database in the test's folder, never the repo's
``var/``) and reads what a newcomer reads: the URL and the logins it prints.
The browser tests (tests/web/test_demo_browser.py) use it too.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from switchboard.server.demo_tenant import DISPOSITIONS, REASON_CODES, THRESHOLDS, Shape
from tests.server.conftest import free_port

URL = re.compile(r"open (http://127\.0\.0\.1:\d+)/ in a browser")
LOGIN = re.compile(r"^ +(demo-[a-z0-9-]+) +(\S+) +(admin|supervisor|agent): (.*)$", re.M)
ROUTED = re.compile(r"first contact routed ([\d.]+) s after the start")


class Demo:
    """One ``switchboard serve --demo`` process started in ``cwd`` with ``args``."""

    def __init__(self, cwd: Path, *args: str, wait_s: float = 90.0) -> None:
        self.cwd = cwd
        self.port = free_port()
        self.log = cwd / f"demo-{self.port}.log"
        self.started = time.monotonic()
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "switchboard.cli", "serve", "--demo", "--port",
                 str(self.port), *args], cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        self.url, self.logins, self.roles = self._wait_for_banner(wait_s)

    @property
    def api(self) -> str:
        return f"{self.url}/api/v1"

    def text(self) -> str:
        return self.log.read_text()

    def _wait_for_banner(self, wait_s: float) -> tuple[str, dict[str, str], dict[str, str]]:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            text = self.text()
            if "Ctrl-C stops" in text:
                url = URL.search(text)
                assert url is not None, text
                found = LOGIN.findall(text)
                return url[1], {m[0]: m[1] for m in found}, {m[0]: m[2] for m in found}
            if self.proc.poll() is not None:
                raise AssertionError(f"demo exited early:\n{text[-3000:]}")
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"demo printed no banner in {wait_s} s:\n{self.text()[-3000:]}")

    def first_routed(self, wait_s: float = 60.0) -> tuple[float, float]:
        """(what the demo printed, what this test saw): seconds from the process's
        start to its first routed contact."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            m = ROUTED.search(self.text())
            if m:
                return float(m[1]), time.monotonic() - self.started
            time.sleep(0.05)
        raise AssertionError(f"no contact routed in {wait_s} s:\n{self.text()[-3000:]}")

    def token(self, username: str) -> str:
        r = httpx.post(f"{self.api}/auth/token", timeout=30,
                       json={"username": username, "password": self.logins[username]})
        assert r.status_code == 200, r.text
        token: str = r.json()["token"]
        return token

    def client(self, username: str) -> httpx.Client:
        return httpx.Client(base_url=self.api, timeout=30,
                            headers={"Authorization": f"Bearer {self.token(username)}"})

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                return self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode


class Feed:
    """A WebSocket feed held open: :meth:`until` reads it up to an event."""

    def __init__(self, api: str, token: str) -> None:
        self._conn = connect(f"{api.replace('http://', 'ws://')}/events/ws?token={token}")

    def __enter__(self) -> Feed:
        self.ws = self._conn.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._conn.__exit__(*exc)

    def until(self, done: Callable[[dict[str, Any]], bool], wait_s: float
              ) -> list[dict[str, Any]]:
        """The events read until ``done(event)`` is true (the last) or ``wait_s`` passed."""
        seen: list[dict[str, Any]] = []
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            try:
                ev = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            except TimeoutError:
                break
            seen.append(ev)
            if done(ev):
                break
        return seen


def wait_for(check: Callable[[], bool], wait_s: float) -> bool:
    """Whether ``check()`` came true within ``wait_s`` seconds (polled)."""
    deadline = time.monotonic() + wait_s
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.2)
    return True


def feed_until(api: str, token: str, done: Callable[[dict[str, Any]], bool],
               wait_s: float) -> list[dict[str, Any]]:
    with Feed(api, token) as feed:
        return feed.until(done, wait_s)


@pytest.mark.slow
def test_demo_runs_live_traffic_and_restarts_on_the_same_database(tmp_path: Path) -> None:
    demo = Demo(tmp_path, "--demo-rate", "60", "--demo-speed", "4")
    try:
        assert demo.url == f"http://127.0.0.1:{demo.port}"
        assert demo.roles == {"demo-supervisor": "supervisor", "demo-sam": "agent",
                              "demo-tara": "agent", "demo-admin": "admin"}
        assert (tmp_path / "var" / "demo.db").exists()
        printed, seen_s = demo.first_routed()
        print(f"\ndemo (20 agents): first contact routed {printed:.1f} s after the process "
              f"started (the test saw the line after {seen_s:.1f} s)")
        token = demo.token("demo-supervisor")
        ids: dict[str, set[str]] = {}

        def whole(ev: dict[str, Any]) -> bool:
            if ev.get("interaction_id"):
                ids.setdefault(ev["kind"], set()).add(ev["interaction_id"])
            return bool(ids.get("wrapup_ended", set()) & ids.get("arrived", set()))

        feed_until(demo.api, token, whole, 30)
        # one contact seen from its creation to its wrap-up, all through the feed
        done = ids.get("wrapup_ended", set()) & ids.get("arrived", set())
        assert done, f"no contact went from arrival to wrap-up in 30 s: {sorted(ids)}"
        iid = next(iter(done))
        assert iid in ids["offered"] and iid in ids["answered"]
        with demo.client("demo-supervisor") as sup:
            events = sup.get(f"/interactions/{iid}/events").json()
            kinds = [e["kind"] for e in events]
            assert kinds.index("arrived") < kinds.index("offered") < kinds.index("answered") \
                < kinds.index("ended") < kinds.index("wrapup_ended")
            wrap = next(e for e in events if e["kind"] == "wrapup_ended")
            assert wrap["disposition"] in {code for code, _ in DISPOSITIONS}
            # chats: the customer writes and the virtual agent answers
            chats = [i for i in ids["answered"]
                     if sup.get(f"/interactions/{i}").json()["channel"] == "chat"]
            senders = {m["sender"] for i in chats
                       for m in sup.get(f"/interactions/{i}/messages").json()}
            assert senders == {"customer", "agent"}, (len(chats), senders)
        first_logins = dict(demo.logins)
    finally:
        rc = demo.stop(signal.SIGINT)
    assert rc == 0, demo.text()[-3000:]
    assert "demo stopped" in demo.text()

    again = Demo(tmp_path)  # same folder: the same var/demo.db
    try:
        assert again.logins["demo-admin"] != first_logins["demo-admin"]  # fresh passwords
        with again.client("demo-admin") as admin:
            queues = admin.get("/queues").json()
            agents = admin.get("/agents").json()
            shape = Shape()
            assert sorted(q["name"] for q in queues) == sorted(q.name for q in
                                                                shape.queue_specs())
            assert sorted(a["name"] for a in agents) == sorted(shape.agent_name(i)
                                                                for i in range(20))
            assert admin.get(f"/interactions/{iid}").status_code == 200
        stale = httpx.post(f"{again.api}/auth/token",
                           json={"username": "demo-admin", "password": first_logins["demo-admin"]})
        assert stale.status_code == 401
    finally:
        rc = again.stop(signal.SIGTERM)
    assert rc == 0, again.text()[-3000:]
    assert [p.name for p in (tmp_path / "var").glob("*.db")] == ["demo.db"]


@pytest.mark.slow
def test_the_demo_shows_the_whole_product_and_feeds_the_people_s_agents(tmp_path: Path) -> None:
    demo = Demo(tmp_path, "--demo-db", str(tmp_path / "elsewhere" / "d.db"),
                "--demo-rate", "40", "--demo-speed", "3")
    try:
        assert (tmp_path / "elsewhere" / "d.db").exists() and not (tmp_path / "var").exists()
        with demo.client("demo-admin") as admin:
            assert {c["code"] for c in admin.get("/reason-codes").json()} == \
                {c for c, _ in REASON_CODES}
            assert {c["code"] for c in admin.get("/dispositions").json()} == \
                {c for c, _ in DISPOSITIONS}
            hours = {h["name"]: h for h in admin.get("/business-hours").json()}
            assert hours["contact-center"]["queue"] is None and hours["billing-desk"]["queue"]
            assert len(admin.get("/holidays").json()) == 6
            queues = {q["name"]: q for q in admin.get("/queues").json()}
            assert {q["strategy"] for q in queues.values()} == \
                {"longest_idle", "best_skill", "round_robin", "linear"}
            for q in queues.values():
                levels = admin.get(f"/queues/{q['id']}/thresholds").json()
                assert {f: levels[f] for f in THRESHOLDS} == THRESHOLDS
            sam = next(a for a in admin.get("/agents").json() if a["name"] == "Sam")
            assert queues["vip"]["members"] == [sam["id"], next(
                a["id"] for a in admin.get("/agents").json() if a["name"] == "Tara")]
            assert sam["skills"] == {} and sam["status"] == "offline"
        # a virtual agent goes not ready with one of the tenant's reasons now and then
        sup_token = demo.token("demo-supervisor")
        breaks = feed_until(demo.api, sup_token, lambda ev: ev["kind"] == "agent_state"
                            and ev["status"] == "not_ready", 90)
        assert breaks and breaks[-1]["status"] == "not_ready", "no break in 90 s"
        with demo.client("demo-admin") as admin:
            reason = admin.get(f"/agents/{breaks[-1]['agent_id']}").json()["reason"]
            assert reason in {c for c, _ in REASON_CODES} | {None}  # None: back already

        # a virtual agent that the supervisor sets not ready comes back (at most 40 s
        # at speed 3), so that the demo keeps its agents
        with demo.client("demo-supervisor") as sup:
            ada = next(a for a in sup.get("/agents").json() if a["name"] == "Ada")["id"]
            forced = sup.post(f"/agents/{ada}/status", json={"status": "not_ready",
                                                             "reason": "coaching"})
            assert forced.status_code == 200 and forced.json()["status"] == "not_ready"
            assert wait_for(lambda: sup.get(f"/agents/{ada}").json()["status"] == "ready", 60)

        # the person's agent: ready, and a customer comes to it (a chat first)
        sam_token = demo.token("demo-sam")
        with httpx.Client(base_url=demo.api, timeout=30, headers={
                "Authorization": f"Bearer {sam_token}"}) as sam, Feed(demo.api, sam_token) as feed:
            me = sam.get("/me").json()["agent"]
            assert sam.post(f"/agents/{me}/status", json={"status": "ready"}).status_code == 200
            offer = feed.until(lambda ev: ev["kind"] == "offered", 30)
            assert offer and offer[-1]["kind"] == "offered", "no customer came in 30 s"
            iid = offer[-1]["interaction_id"]
            assert offer[-1]["queue_id"] == queues["vip"]["id"]
            it = sam.post(f"/interactions/{iid}/accept", json={}).json()
            assert it["state"] == "connected" and it["channel"] == "chat"

            def senders() -> list[str]:
                return [m["sender"] for m in sam.get(f"/interactions/{iid}/messages").json()]

            assert wait_for(lambda: senders() == ["customer"], 15), senders()  # the opener
            assert sam.post(f"/interactions/{iid}/messages",
                            json={"text": "Hello, let me look."}).status_code == 201
            assert wait_for(lambda: senders() == ["customer", "agent", "customer"], 30), \
                "the customer never answered"
            assert sam.post(f"/interactions/{iid}/end").status_code == 200
            done = sam.post(f"/interactions/{iid}/wrapup", json={"disposition": "resolved"})
            assert done.status_code == 200 and done.json()["state"] == "ended"
    finally:
        assert demo.stop() == 0, demo.text()[-3000:]


def test_demo_refuses_another_host_or_database(tmp_path: Path) -> None:
    for extra, field in ((["--host", "0.0.0.0"], "host"),
                         (["--db", f"sqlite:///{tmp_path}/x.db"], "db")):
        r = subprocess.run([sys.executable, "-m", "switchboard.cli", "serve", "--demo", *extra],
                           cwd=tmp_path, capture_output=True, text=True, timeout=60)
        assert r.returncode == 2
        assert r.stderr.startswith(f"error: {field}: demo mode"), r.stderr
        assert "Traceback" not in r.stderr
    assert not (tmp_path / "var").exists()


@pytest.mark.parametrize(("args", "error"), [
    (["--demo-agents", "2"], "error: demo-agents: must be a whole number from 3 to 1000"),
    (["--demo-agents", "1001"], "error: demo-agents: must be a whole number from 3 to 1000"),
    (["--demo-queues", "1"], "error: demo-queues: must be a whole number from 2 to 100"),
    (["--demo-agents", "6", "--demo-queues", "6"],
     "error: demo-agents: 6 agents are too few for 6 queues"),
    (["--demo-rate", "0"], "error: demo-rate: must be above 0"),
    (["--demo-speed", "1000"], "error: demo-speed: must be above 0 and at most 100"),
    (["--demo-db", "."], "error: demo-db: give a file"),
    (["--demo-db", "notes.txt"], "error: demo-db: notes.txt is not a SQLite database"),
])
def test_bad_demo_options_are_refused_with_what_to_fix(tmp_path: Path, args: list[str],
                                                      error: str) -> None:
    (tmp_path / "notes.txt").write_text("not a database\n")
    r = subprocess.run([sys.executable, "-m", "switchboard.cli", "serve", "--demo", *args],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(error), r.stderr
    assert "Traceback" not in r.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]  # nothing written
    assert (tmp_path / "notes.txt").read_text() == "not a database\n"
