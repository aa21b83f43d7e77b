"""A live telephony service for the voice tests: SQLite, the server runtime,
rtpengine (a child process), SIP on a free port, all on one asyncio loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from switchboard.domain import commands as c
from switchboard.domain.enums import AgentStatus
from switchboard.domain.events import Event
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.metrics import ReportParams
from switchboard.metrics.builder import cdr_rows_from_events
from switchboard.server import reports
from switchboard.server.runtime import Runtime
from switchboard.store import log, repo
from switchboard.store.db import migrate, open_db
from switchboard.voice.config import voice_config
from switchboard.voice.service import TelephonyService

FLOWS = Path(__file__).resolve().parent / "flows"
TENANT = "t1"


class Harness:
    def __init__(self, runtime: Runtime, service: TelephonyService) -> None:
        self.runtime = runtime
        self.service = service
        self.feed = runtime.subscribe(TENANT)
        self.seen: list[dict[str, Any]] = []

    @property
    def sip_port(self) -> int:
        return self.service.sip_port

    def recordings(self, interaction_id: str | None = None,
                   kind: str | None = None) -> list[dict[str, Any]]:
        return self.service.recordings.list_recordings(TENANT, interaction_id=interaction_id,
                                                       kind=kind)

    @property
    def stats(self) -> dict[str, int]:
        assert self.service.calls is not None
        return self.service.calls.stats

    def registered(self, user: str) -> bool:
        assert self.service.signalling is not None
        return self.service.signalling.registrar.lookup(user, time.monotonic()) is not None

    def ready(self, agent: str) -> None:
        self.runtime.execute(TENANT, c.SetAgentStatus(agent_id=agent, status=AgentStatus.READY))

    def report(self, by: str = "queue") -> list[dict[str, Any]]:
        """The server's ``by`` report over everything logged so far."""
        with self.runtime.db.connect() as conn:
            return reports.report(conn, TENANT, by, 0.0, time.time() + 60, ReportParams())

    def cdr(self) -> list[Any]:
        """The CDR rows of everything logged so far."""
        with self.runtime.db.connect() as conn:
            payloads = log.events_between(conn, TENANT, 0.0, time.time() + 60)
        return cdr_rows_from_events(Event.from_dict(p) for p in payloads)

    def events(self, interaction_id: str) -> list[dict[str, Any]]:
        with self.runtime.db.connect() as conn:
            return log.events(conn, TENANT, interaction_id=interaction_id)

    async def wait_event(self, kind: str, timeout: float,
                         where: Callable[[dict[str, Any]], bool] | None = None) -> dict[str, Any]:
        """The first event of ``kind`` (seen before or arriving within ``timeout``)."""
        deadline = time.monotonic() + timeout
        while True:
            for ev in self.seen:
                if ev["kind"] == kind and (where is None or where(ev)):
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no {kind!r} event within {timeout} s; saw "
                                     f"{[e['kind'] for e in self.seen]}")
            try:
                ev = await asyncio.wait_for(self.feed.queue.get(), left)
            except TimeoutError:
                continue
            self.seen.append(ev)

    async def until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.05)


@asynccontextmanager
async def telephony(tmp: Path, *, agents: tuple[str, ...] = ("ada",),
                    phones: dict[str, Any] | None = None, queue: dict[str, Any] | None = None,
                    voice: dict[str, Any] | None = None,
                    flow: str = "menu.yaml") -> AsyncIterator[Harness]:
    db = open_db(f"sqlite:///{tmp}/voice.db")
    migrate(db)
    with db.begin() as conn:
        repo.create_tenant(conn, TENANT, name="Voice test", now=time.time(), seed=1)
    runtime = Runtime(db)
    runtime.start()
    q = QueueConfig(id="sales", name="Sales", skills={"sales": 1},
                    **{"ring_timeout_s": 15.0, **(queue or {})})
    runtime.execute(TENANT, c.UpsertQueue(queue=q), new_skills=["sales"],
                    write=lambda conn: repo.insert_queue(conn, TENANT, q, time.time()))
    for agent in agents:
        a = AgentConfig(id=agent, name=agent.title(), skills={"sales": 5})
        runtime.execute(TENANT, c.UpsertAgent(agent=a),
                        write=lambda conn, a=a: repo.insert_agent(conn, TENANT, a, time.time()))
    extra = dict(voice or {})
    recording = {"spool": str(tmp / "spool"), "media": str(tmp / "media"),
                 **extra.pop("recording", {})}
    trunks = extra.pop("trunks", {"local": {"addresses": ["127.0.0.1"]}})
    cfg = voice_config({
        "sip": {"address": "127.0.0.1", "port": 0, "realm": "switchboard"},
        "recording": recording,
        "rtpengine": {"start": True, "interface": "127.0.0.1"},
        "prompts": str(tmp / "prompts"),
        "trunks": trunks,
        "numbers": {"100": {"tenant": TENANT, "flow": str(FLOWS / flow)}},
        "phones": phones or {},
        **extra,
    })
    service = TelephonyService(runtime, cfg)
    await service.start()
    try:
        yield Harness(runtime, service)
    finally:
        await service.stop()
        runtime.stop()
        db.dispose()
