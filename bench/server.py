"""Benchmark: the live server end to end (HTTP, routing engine, event log, feeds).

Prints one JSON object. Everything runs on 127.0.0.1 in a fresh temporary
folder (SQLite in WAL mode, ``synchronous=NORMAL``: the server's durability
settings, unchanged):

* the server is a real ``switchboard serve`` process; the clients live in this
  process (a second process, so client work does not eat the server's core);
* setup: one queue (``longest_idle``, ring timeout 10 min so no offer expires
  during the run), ``--agents`` agents created through ``POST /agents`` and set
  ready through ``POST /agents/{id}/status``; each agent has a user and a
  token (written straight into the database: 1,000 Argon2 logins would only
  measure Argon2) and one WebSocket feed open on ``/api/v1/events/ws``;
* the timed phase: ``--contacts`` contacts created by ``POST /interactions``
  with ``--concurrency`` requests in flight (closed loop, as fast as the
  server answers). Each contact is offered to a free agent; the offer is
  timed from just before its create call is sent to the moment the
  ``offered`` event arrives on that agent's socket (same clock, this process);
* ``created_per_s``: contacts / (first send .. last reply); ``routed_per_s``:
  contacts / (first send .. last offer received);
* ``server_cpu_share``: the server process's CPU seconds over the phase's wall
  time (1.0 = its one event-loop core is saturated);
* the event-log append rate: :func:`switchboard.store.log.append` of one
  engine input with 4 events, one transaction each (what the runtime does per
  command), beside the baseline, a bare ``sqlite3`` loop inserting the same
  number of rows per transaction into a plain table, same folder, same
  pragmas, same run.

Target (issue 5): at least 300 contacts/s routed and p99 create-to-offer under
50 ms with 1,000 agent sockets, on the 2-core reference machine.

Run: .venv/bin/python bench/server.py [--agents 1000] [--contacts 1000]
     [--concurrency 16] [--seed 1] [--appends 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import websockets

from switchboard.acd import Engine
from switchboard.commands.admin import create_user
from switchboard.domain import commands as c
from switchboard.domain.enums import AgentStatus, Channel
from switchboard.domain.model import AgentConfig, Customer, QueueConfig, RoutingConfig
from switchboard.server.auth import hash_password, new_token
from switchboard.store import log, repo
from switchboard.store.db import migrate, open_db

TENANT = "bench"
PASSWORD = "bench password 1"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty list."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


class Server:
    def __init__(self, db_url: str, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1"
        self.log = (folder / "server.log").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "switchboard.cli", "serve", "--db", db_url, "--port",
             str(self.port)], stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: see {folder / 'server.log'}")
            try:
                httpx.get(f"{self.url}/openapi.json", timeout=1)
                return
            except httpx.TransportError:
                time.sleep(0.05)
        raise SystemExit("server did not start in 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


async def setup(api: httpx.AsyncClient, n_agents: int) -> tuple[str, list[str]]:
    r = await api.post("/queues", json={"name": "bench", "strategy": "longest_idle",
                                        "skills": {"general": 1}, "ring_timeout_s": 600})
    r.raise_for_status()
    queue = r.json()["id"]
    sem = asyncio.Semaphore(8)

    async def one(i: int) -> str:
        async with sem:
            r = await api.post("/agents", json={"name": f"agent {i}", "skills": {"general": 5}})
            r.raise_for_status()
            agent_id: str = r.json()["id"]
            return agent_id

    agents = list(await asyncio.gather(*(one(i) for i in range(n_agents))))
    return queue, agents


def agent_tokens(db_url: str, agents: list[str]) -> list[str]:
    """One user and a live token per agent, written to the database directly."""
    db = open_db(db_url)
    hashed, now, tokens = hash_password(PASSWORD), time.time(), []
    with db.begin() as conn:
        for i, agent_id in enumerate(agents):
            uid = repo.create_user(conn, TENANT, username=f"agent-{i}", password_hash=hashed,
                                   role="agent", now=now, agent_id=agent_id)
            token, digest = new_token()
            repo.save_token(conn, TENANT, token_hash=digest, user_id=uid, now=now,
                            ttl_s=3600)
            tokens.append(token)
    db.dispose()
    return tokens


async def run_phase(server: Server, db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60,
                                 limits=httpx.Limits(max_connections=64)) as api:
        r = await api.post("/auth/token", json={"username": "bench-admin",
                                                "password": PASSWORD})
        r.raise_for_status()
        api.headers["Authorization"] = f"Bearer {r.json()['token']}"
        queue, agents = await setup(api, args.agents)
        tokens = agent_tokens(db_url, agents)
        offered_at: dict[str, float] = {}
        all_offered = asyncio.Event()
        ws_base = server.url.replace("http://", "ws://")

        async def reader(ws: Any) -> None:
            async for raw in ws:
                ev = json.loads(raw)
                if ev["kind"] == "offered":
                    offered_at.setdefault(ev["interaction_id"], time.perf_counter())
                    if len(offered_at) >= args.contacts:
                        all_offered.set()

        sockets = []
        for token in tokens:
            sockets.append(await websockets.connect(f"{ws_base}/events/ws?token={token}",
                                                    ping_interval=None, max_queue=None))
        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        sem = asyncio.Semaphore(16)

        async def ready(agent_id: str) -> None:
            async with sem:
                r = await api.post(f"/agents/{agent_id}/status", json={"status": "ready"})
                r.raise_for_status()

        await asyncio.gather(*(ready(a) for a in agents))
        await asyncio.sleep(1.0)  # let the ready events drain from the feeds

        rng = random.Random(args.seed)
        bodies = [{"queue": queue, "channel": "voice",
                   "customer": {"name": f"customer {i}",
                                "phone": f"+1415555{rng.randrange(10_000):04d}"},
                   "priority": rng.choice((0, 0, 0, 1))} for i in range(args.contacts)]
        sent_at: dict[str, float] = {}
        replied: list[float] = []
        todo = iter(bodies)

        async def creator() -> None:
            for body in todo:
                t0 = time.perf_counter()
                r = await api.post("/interactions", json=body)
                r.raise_for_status()
                sent_at[r.json()["id"]] = t0
                replied.append(time.perf_counter())

        cpu0, start = cpu_seconds(server.proc.pid), time.perf_counter()
        await asyncio.gather(*(creator() for _ in range(args.concurrency)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(all_offered.wait(), 60)
        end = max(offered_at.values(), default=time.perf_counter())
        cpu1 = cpu_seconds(server.proc.pid)
        for task in readers:
            task.cancel()
        for ws in sockets:
            await ws.close()

    latencies = [(offered_at[i] - t0) * 1000 for i, t0 in sent_at.items() if i in offered_at]
    return {
        "agents_sockets": len(sockets),
        "contacts": args.contacts,
        "offers_received": len(latencies),
        "concurrency": args.concurrency,
        "created_per_s": round(args.contacts / (max(replied) - start), 1),
        "routed_per_s": round(len(latencies) / (end - start), 1),
        "create_to_offer_ms": {
            "p50": round(percentile(latencies, 50), 2),
            "p99": round(percentile(latencies, 99), 2),
            "max": round(max(latencies), 2),
            "mean": round(statistics.fmean(latencies), 2),
        },
        "server_cpu_share": round((cpu1 - cpu0) / (end - start), 2),
        "wall_s": round(end - start, 3),
    }


def sample_events() -> list[Any]:
    """The events of one routed arrival (arrived, enqueued, offered, agent state)."""
    engine = Engine(RoutingConfig(skills=frozenset({"general"}), seed=1))
    engine.handle(c.UpsertQueue(queue=QueueConfig(id="q", name="q",
                                                  skills={"general": 1})), 0.0)
    engine.handle(c.UpsertAgent(agent=AgentConfig(id="a", name="a",
                                                  skills={"general": 5})), 0.0)
    engine.handle(c.SetAgentStatus(agent_id="a", status=AgentStatus.READY), 0.0)
    return engine.handle(c.Arrive(interaction_id="i", channel=Channel.VOICE, queue_id="q",
                                  customer=Customer(name="x")), 1.0)


def append_rates(folder: Path, n: int) -> dict[str, Any]:
    """log.append per transaction vs a bare sqlite3 insert loop (same rows/txn)."""
    db = open_db(f"sqlite:///{folder / 'append.db'}")
    migrate(db)
    with db.begin() as conn:
        repo.create_tenant(conn, TENANT, name=TENANT, now=0.0)
    events = sample_events()
    payload = {"interaction_id": "i", "channel": "voice", "queue_id": "q"}
    t = time.perf_counter()
    for i in range(n):
        with db.begin() as conn:
            log.append(conn, TENANT, at=float(i), entry="command", name="arrive",
                       payload=payload, events=events)
    log_s = time.perf_counter() - t
    db.dispose()

    raw = sqlite3.connect(folder / "bare.db", isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON"):
        raw.execute(f"PRAGMA {pragma}")
    raw.execute("CREATE TABLE rows (seq INTEGER PRIMARY KEY, tenant TEXT, at REAL, "
                "kind TEXT, payload TEXT)")
    rows_per_txn = 1 + len(events)
    texts = [json.dumps(ev.to_dict()) for ev in events]
    t = time.perf_counter()
    for i in range(n):
        raw.execute("BEGIN")
        raw.execute("INSERT INTO rows (tenant, at, kind, payload) VALUES (?, ?, ?, ?)",
                    (TENANT, float(i), "command", json.dumps(payload)))
        raw.executemany("INSERT INTO rows (tenant, at, kind, payload) VALUES (?, ?, ?, ?)",
                        [(TENANT, float(i), ev.kind, text) for ev, text in zip(events, texts,
                                                                              strict=True)])
        raw.execute("COMMIT")
    bare_s = time.perf_counter() - t
    raw.close()
    return {
        "transactions": n, "rows_per_transaction": rows_per_txn,
        "event_log_appends_per_s": round(n / log_s, 1),
        "bare_sqlite_transactions_per_s": round(n / bare_s, 1),
        "event_log_vs_bare": round(bare_s / log_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--appends", type=int, default=2000)
    args = parser.parse_args()
    if args.contacts > args.agents:
        parser.error("--contacts may not exceed --agents (each contact needs a free agent)")
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        folder = Path(tmp)
        db_url = f"sqlite:///{folder / 'server.db'}"
        create_user(db_url, username="bench-admin", password=PASSWORD, role="admin",
                    tenant=TENANT)
        server = Server(db_url, folder)
        try:
            figures = asyncio.run(run_phase(server, db_url, args))
        finally:
            server.stop()
        appends = append_rates(folder, args.appends)
    print(json.dumps({
        "benchmark": "server", "machine_cpus": os.cpu_count(), "database": "sqlite (WAL)",
        "load_avg_1m_before": load_before,  # other work on the machine skews the figures
        "target": {"routed_per_s": 300, "p99_create_to_offer_ms": 50, "agent_sockets": 1000},
        "http_engine_log": figures,
        "event_log": appends,
        "baseline": "bare sqlite3 insert loop, same rows per transaction, same disk",
    }, indent=2))


if __name__ == "__main__":
    main()
