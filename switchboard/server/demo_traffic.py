"""The demo's traffic generator: virtual customers and agents as API clients.

Everything goes through the server's public interface on 127.0.0.1, like any
client: customers are ``POST /api/v1/interactions`` calls (Poisson arrivals),
each virtual agent logs in, sets itself ready, reads its WebSocket feed for
``offered`` events, rings for a moment, accepts, talks for a lognormal time,
ends the contact, wraps up and now and then takes a break (``not_ready`` with
reason ``break``). Durations come from :mod:`switchboard.sim.dists`. A
supervisor feed counts what happens and prints a status line every 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import websockets

from switchboard.server.demo import (
    CHANNELS,
    QUEUE_WEIGHTS,
    DemoSettings,
    Login,
    counts_line,
    iter_weights,
)
from switchboard.sim.dists import Exponential, LogNormal

# Seconds at speed 1 (means and spreads of typical voice and chat work).
RING = LogNormal(mean=3.0, sd=1.5)
TALK = LogNormal(mean=25.0, sd=15.0)
WRAPUP = LogNormal(mean=6.0, sd=3.0)
BREAK = Exponential(mean=30.0)
BREAK_CHANCE = 0.08  # after each contact
STATUS_EVERY_S = 10.0


class Traffic:
    """The generator's tasks; :meth:`start` launches them, :meth:`stop` ends them."""

    def __init__(self, url: str, settings: DemoSettings, queues: dict[str, str],
                 agents: list[tuple[Login, str]], seed: int,
                 say: Callable[[str], None]) -> None:
        self.url = url
        self.settings = settings
        self.queues = queues
        self.agents = agents
        self.rng = random.Random(seed)
        self.say = say
        self.counts: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.client = httpx.AsyncClient(base_url=f"{url}/api/v1", timeout=30,
                                        limits=httpx.Limits(max_connections=50))

    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.say(f"demo: a virtual client stopped: {task.exception()!r}")

    def start(self, supervisor: Login) -> None:
        self._spawn(self._watch(supervisor))
        for login, agent_id in self.agents:
            self._spawn(VirtualAgent(self, login, agent_id).run())
        self._spawn(self._customers(supervisor))

    async def stop(self) -> None:
        """Cancel every task and wait for them (at most a few seconds)."""
        for _ in range(20):
            if not self.tasks:
                break
            for task in list(self.tasks):
                task.cancel()
            await asyncio.wait(list(self.tasks), timeout=0.2)
        await self.client.aclose()

    def wait(self, dist: LogNormal | Exponential) -> float:
        return dist.sample(self.rng) / self.settings.speed

    async def login(self, login: Login) -> str:
        r = await self.client.post("/auth/token", json={"username": login.username,
                                                        "password": login.password})
        r.raise_for_status()
        token: str = r.json()["token"]
        return token

    def feed(self, token: str) -> Any:
        ws_url = self.url.replace("http://", "ws://", 1)
        return websockets.connect(f"{ws_url}/api/v1/events/ws?token={token}",
                                  ping_interval=None, max_queue=None, close_timeout=1)

    async def _customers(self, supervisor: Login) -> None:
        headers = {"Authorization": f"Bearer {await self.login(supervisor)}"}
        rate_s = self.settings.rate_per_min * self.settings.speed / 60.0
        n = 0
        while True:
            await asyncio.sleep(self.rng.expovariate(rate_s))
            draw = self.rng.random()
            name = next((q for q, acc in iter_weights(QUEUE_WEIGHTS) if draw <= acc), "sales")
            n += 1
            body = {"queue": self.queues[name], "channel": CHANNELS[name],
                    "priority": 1 if self.rng.random() < 0.1 else 0,
                    "customer": {"name": f"Customer {n}",
                                 "phone": f"+44207946{self.rng.randrange(1000):04d}"},
                    "attributes": {"source": "demo"}}
            r = await self.client.post("/interactions", json=body, headers=headers)
            if r.status_code >= 400:
                self.say(f"demo: creating a contact answered {r.status_code} {r.text[:200]}")

    async def _watch(self, supervisor: Login) -> None:
        token = await self.login(supervisor)
        headers = {"Authorization": f"Bearer {token}"}
        async with self.feed(token) as ws:
            loop = asyncio.get_running_loop()
            next_at = loop.time() + STATUS_EVERY_S
            while True:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, next_at - loop.time())):
                        raw = await ws.recv()
                        self.counts[json.loads(raw)["kind"]] += 1
                if loop.time() >= next_at:
                    next_at += STATUS_EVERY_S
                    waiting = 0
                    for qid in self.queues.values():
                        r = await self.client.get(f"/queues/{qid}/stats", headers=headers)
                        waiting += int(r.json().get("waiting", 0)) if r.is_success else 0
                    self.say(counts_line(dict(self.counts), waiting))


class VirtualAgent:
    """One virtual agent: its feed, and one task per contact offered to it."""

    def __init__(self, traffic: Traffic, login: Login, agent_id: str) -> None:
        self.t = traffic
        self.login = login
        self.agent_id = agent_id
        self.busy: set[str] = set()
        self.headers: dict[str, str] = {}

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.t.client.post(path, json=body or {}, headers=self.headers)

    async def run(self) -> None:
        token = await self.t.login(self.login)
        self.headers = {"Authorization": f"Bearer {token}"}
        async with self.t.feed(token) as ws:
            await self._finish_leftovers()
            await self.post(f"/agents/{self.agent_id}/status", {"status": "ready"})
            async for raw in ws:
                ev = json.loads(raw)
                iid = ev.get("interaction_id")
                if ev["kind"] == "offered" and ev.get("agent_id") == self.agent_id \
                        and iid not in self.busy:
                    self.busy.add(iid)
                    self.t._spawn(self._handle(iid))

    async def _finish_leftovers(self) -> None:
        """Contacts an earlier run left with this agent: end and wrap them up."""
        r = await self.t.client.get(f"/agents/{self.agent_id}", headers=self.headers)
        if not r.is_success:
            return
        snap = r.json()
        for iid in snap.get("contacts", []):
            await self.post(f"/interactions/{iid}/end")
            await self.post(f"/interactions/{iid}/wrapup", {"disposition": "demo restart"})
        for iid in snap.get("wrapups", []):
            await self.post(f"/interactions/{iid}/wrapup", {"disposition": "demo restart"})

    async def _handle(self, iid: str) -> None:
        try:
            await asyncio.sleep(self.t.wait(RING))
            if not (await self.post(f"/interactions/{iid}/accept")).is_success:
                return  # the offer timed out or was withdrawn
            await asyncio.sleep(self.t.wait(TALK))
            if not (await self.post(f"/interactions/{iid}/end")).is_success:
                return
            await asyncio.sleep(self.t.wait(WRAPUP))
            await self.post(f"/interactions/{iid}/wrapup",
                            {"disposition": self.t.rng.choice(("resolved", "resolved",
                                                               "follow-up", "sale"))})
        finally:
            self.busy.discard(iid)
        if not self.busy and self.t.rng.random() < BREAK_CHANCE:
            status = f"/agents/{self.agent_id}/status"
            await self.post(status, {"status": "not_ready", "reason": "break"})
            await asyncio.sleep(self.t.wait(BREAK))
            await self.post(status, {"status": "ready"})
