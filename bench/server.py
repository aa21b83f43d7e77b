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
* timed phases, each creating ``--contacts`` contacts by ``POST /interactions``
  (as the admin, so each request also writes its audit row) with a raw
  keep-alive HTTP/1.1 client (httpx would spend more client CPU than the
  server under test has to spare on two cores):

  - ``--rate R`` (open loop): request i is sent at start + i/R whatever is
    still in flight, and its latency counts from that scheduled time, so a
    server that falls behind is charged for the wait (no coordinated
    omission); ``client_send_late_ms_p99`` shows how late the client itself
    sent;
  - ``--concurrency N`` (closed loop): N requests in flight, each sent when
    the previous one answered; it measures the saturated rate.

  Each contact is offered to a free agent; create-to-offer runs from the send
  (scheduled or actual) to the moment the ``offered`` event arrives on that
  agent's socket (same clock, this process). Between phases a supervisor
  ends the offered contacts (untimed), which frees the agents;
* per phase: ``offered_per_s`` (open loop), ``created_per_s`` = contacts /
  (start .. last reply), ``routed_per_s`` = offers / (start .. last offer
  received), create-to-offer p50/p99/max, and ``server_cpu_share`` /
  ``client_cpu_share``: each process's CPU seconds over the phase's wall time
  (1.0 = one core; the server runs on one event loop), and
  ``server_cpu_ms_per_contact`` (on a machine shared with other work the rates
  fall with the CPU the server gets; this figure moves much less);
* the event-log append rate: :func:`switchboard.store.log.append` of one
  engine input with 4 events, one transaction each (what the runtime does per
  command), beside the baseline, a bare ``sqlite3`` loop inserting the same
  number of rows per transaction into a plain table, same folder, same
  pragmas, same run; and the same appends 16 to a transaction (what grouping
  several requests' commits would save).

Target (issue 5): at least 300 contacts/s routed and p99 create-to-offer under
50 ms with 1,000 agent sockets, on the 2-core reference machine.

Run: .venv/bin/python bench/server.py [--agents 1000] [--contacts 1000]
     [--rate 300 ...] [--concurrency 16 ...] [--seed 1] [--appends 2000]
     [--profile FILE]   (default phases: --rate 300 --concurrency 16)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
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
WARMUP = 50  # contacts
GROUP = 16  # appends per transaction in the grouped event-log figure
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


def agent_tokens(db_url: str, agents: list[str]) -> tuple[list[str], str]:
    """One user and a live token per agent, and a supervisor's token (it ends
    the contacts between phases), written to the database directly."""
    db = open_db(db_url)
    hashed, now, tokens = hash_password(PASSWORD), time.time(), []
    with db.begin() as conn:
        users = [(f"agent-{i}", "agent", a) for i, a in enumerate(agents)]
        for name, role, agent_id in [*users, ("bench-supervisor", "supervisor", None)]:
            uid = repo.create_user(conn, TENANT, username=name, password_hash=hashed,
                                   role=role, now=now, agent_id=agent_id)
            token, digest = new_token()
            repo.save_token(conn, TENANT, token_hash=digest, user_id=uid, now=now,
                            ttl_s=3600)
            tokens.append(token)
    db.dispose()
    return tokens[:-1], tokens[-1]


class Http:
    """A minimal HTTP/1.1 keep-alive client for the timed phases: httpx costs
    about a millisecond of client CPU per request, and the client shares the
    machine's two cores with the server, so a heavy client would measure
    itself. Idle connections are reused; a request that finds none opens one."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.head = (f"Host: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\n"
                     "Content-Type: application/json\r\n").encode()
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.opened = 0

    async def warm(self, n: int) -> None:
        for _ in range(n):
            self.idle.append(await asyncio.open_connection("127.0.0.1", self.port))
            self.opened += 1

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        if self.idle:
            reader, writer = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.opened += 1
        data = json.dumps(body).encode()
        writer.write(b"POST /api/v1%s HTTP/1.1\r\n%sContent-Length: %d\r\n\r\n%s"
                     % (path.encode(), self.head, len(data), data))
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        payload = await reader.readexactly(length)
        status = int(status_line.split()[1])
        if status >= 300:
            raise RuntimeError(f"POST {path}: {status} {payload[:300]!r}")
        self.idle.append((reader, writer))
        out: dict[str, Any] = json.loads(payload) if payload else {}
        return out

    async def close(self) -> None:
        for _, writer in self.idle:
            writer.close()
        self.idle.clear()


class Feeds:
    """The agents' WebSocket feeds; records when each contact's offer arrives."""

    def __init__(self) -> None:
        self.offered_at: dict[str, float] = {}
        self.expect = 0
        self.done = asyncio.Event()
        self.sockets: list[Any] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def open(self, ws_base: str, tokens: list[str]) -> None:
        for token in tokens:
            ws = await websockets.connect(f"{ws_base}/events/ws?token={token}",
                                          ping_interval=None, max_queue=None)
            self.sockets.append(ws)
            self.tasks.append(asyncio.create_task(self._read(ws)))

    async def _read(self, ws: Any) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            async for raw in ws:
                if '"offered"' not in raw:  # cheap pre-filter; parsed below
                    continue
                ev = json.loads(raw)
                if ev["kind"] == "offered":
                    self.offered_at.setdefault(ev["interaction_id"], time.perf_counter())
                    if len(self.offered_at) >= self.expect:
                        self.done.set()

    def reset(self, expect: int) -> None:
        self.offered_at.clear()
        self.expect = expect
        self.done.clear()

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        for ws in self.sockets:
            await ws.close()


def contact_bodies(queue: str, n: int, rng: random.Random) -> list[dict[str, Any]]:
    return [{"queue": queue, "channel": "voice",
             "customer": {"name": f"customer {i}",
                          "phone": f"+1415555{rng.randrange(10_000):04d}"},
             "priority": rng.choice((0, 0, 0, 1))} for i in range(n)]


async def timed_phase(server: Server, http: Http, feeds: Feeds, bodies: list[dict[str, Any]],
                      *, rate: float | None, concurrency: int,
                      profile: str | None) -> tuple[dict[str, Any], list[str]]:
    """Create the contacts open-loop at ``rate`` a second (each request sent at
    its scheduled time, whatever is still in flight; latency counted from the
    schedule, so a server that falls behind is charged for it) or, with
    ``rate`` None, closed-loop with ``concurrency`` requests in flight."""
    n = len(bodies)
    feeds.reset(n)
    sent_at: dict[str, float] = {}
    replied: list[float] = []
    late: list[float] = []
    spy = profiler(server.proc.pid, profile)
    cpu0, client0 = cpu_seconds(server.proc.pid), time.process_time()
    start = time.perf_counter()

    async def create(body: dict[str, Any], t0: float) -> None:
        out = await http.post("/interactions", body)
        sent_at[out["id"]] = t0
        replied.append(time.perf_counter())

    if rate is not None:
        tasks = []
        for i, body in enumerate(bodies):
            due = start + i / rate
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            late.append(time.perf_counter() - due)
            tasks.append(asyncio.create_task(create(body, due)))
        await asyncio.gather(*tasks)
    else:
        todo = iter(bodies)

        async def worker() -> None:
            for body in todo:
                await create(body, time.perf_counter())

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(feeds.done.wait(), 60)
    end = max(feeds.offered_at.values(), default=time.perf_counter())
    wall = end - start
    cpu1, client1 = cpu_seconds(server.proc.pid), time.process_time()
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(30)
    lat = [(feeds.offered_at[i] - t0) * 1000 for i, t0 in sent_at.items()
           if i in feeds.offered_at]
    by_send = sorted(sent_at, key=sent_at.__getitem__)
    rank = {iid: k for k, iid in enumerate(by_send)}
    order = [rank[i] for i in sent_at if i in feeds.offered_at]
    out: dict[str, Any] = {
        "mode": "open loop" if rate is not None else "closed loop",
        "offered_per_s": rate if rate is not None else None,
        "concurrency": None if rate is not None else concurrency,
        "contacts": n, "offers_received": len(lat),
        "created_per_s": round(n / (max(replied) - start), 1),
        "routed_per_s": round(len(lat) / wall, 1),
        "create_to_offer_ms": {"p50": round(percentile(lat, 50), 2),
                               "p99": round(percentile(lat, 99), 2),
                               "max": round(max(lat), 2)},
        # where in the phase the slowest offers were (contact number: ms)
        "slowest": {str(order[i]): round(lat[i], 1) for i in sorted(
            range(len(lat)), key=lambda i: -lat[i])[:5]},
        "server_cpu_share": round((cpu1 - cpu0) / wall, 2),
        # CPU the server spent per contact: what a busy machine disturbs least
        "server_cpu_ms_per_contact": round((cpu1 - cpu0) / n * 1000, 3),
        "client_cpu_share": round((client1 - client0) / wall, 2),
        "wall_s": round(wall, 3),
    }
    if late:
        out["client_send_late_ms_p99"] = round(percentile(late, 99) * 1000, 2)
    return out, list(sent_at)


async def run_phases(server: Server, db_url: str, args: argparse.Namespace) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.url, timeout=60,
                                 limits=httpx.Limits(max_connections=64)) as api:
        r = await api.post("/auth/token", json={"username": "bench-admin",
                                                "password": PASSWORD})
        r.raise_for_status()
        admin_token = r.json()["token"]
        api.headers["Authorization"] = f"Bearer {admin_token}"
        queue, agents = await setup(api, args.agents)
        tokens, supervisor = agent_tokens(db_url, agents)
        feeds = Feeds()
        await feeds.open(server.url.replace("http://", "ws://"), tokens)
        sem = asyncio.Semaphore(16)

        async def ready(agent_id: str) -> None:
            async with sem:
                r = await api.post(f"/agents/{agent_id}/status", json={"status": "ready"})
                r.raise_for_status()

        await asyncio.gather(*(ready(a) for a in agents))
        await asyncio.sleep(1.0)  # let the ready events drain from the feeds

    http = Http(server.port, admin_token)
    sup = Http(server.port, supervisor)
    rng = random.Random(args.seed)
    # A warm-up phase first (not reported): the first contacts pay one-off costs
    # (SQL statements compiled, phone metadata loaded, the agents' free index built).
    plans: list[tuple[float | None, int, int]] = [(None, 4, WARMUP)]
    plans += [(rate, 0, args.contacts) for rate in args.rate]
    plans += [(None, c, args.contacts) for c in args.concurrency]
    phases = []
    try:
        for i, (rate, conc, n) in enumerate(plans):
            bodies = contact_bodies(queue, n, rng)
            profile = args.profile if i == len(plans) - 1 else None
            await http.close()  # fresh connections: the server drops idle ones after 5 s
            await http.warm(16)
            figures, ids = await timed_phase(server, http, feeds, bodies, rate=rate,
                                             concurrency=conc, profile=profile)
            if i > 0:
                phases.append(figures)
            if i < len(plans) - 1:  # free the agents: the contacts leave (untimed)
                await sup.close()
                async def leave(todo: Iterator[str]) -> None:
                    for iid in todo:
                        await sup.post(f"/interactions/{iid}/end", {})

                pending = iter(ids)
                await asyncio.gather(*(leave(pending) for _ in range(8)))
                await asyncio.sleep(1.0)
    finally:
        await http.close()
        await sup.close()
        await feeds.close()
    return {"agent_sockets": len(feeds.sockets), "phases": phases}


def profiler(pid: int, out: str | None) -> subprocess.Popen[bytes] | None:
    """``py-spy record`` of the server during the timed phase (``--profile``;
    py-spy is not a dependency: install it to use this). Its sampling takes
    CPU from the same two cores, so a profiled run's figures are not reported."""
    if out is None:
        return None
    spy = Path(sys.executable).with_name("py-spy")
    return subprocess.Popen([str(spy), "record", "--pid", str(pid), "--format", "raw",
                             "--rate", "250", "-o", out], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


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
    # The same appends 16 to a transaction: what grouping commits would save.
    t = time.perf_counter()
    for i in range(0, n, GROUP):
        with db.begin() as conn:
            for j in range(i, min(n, i + GROUP)):
                log.append(conn, TENANT, at=float(n + j), entry="command", name="arrive",
                           payload=payload, events=events)
    grouped_s = time.perf_counter() - t
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
        f"event_log_appends_per_s_{GROUP}_per_transaction": round(n / grouped_s, 1),
        "bare_sqlite_transactions_per_s": round(n / bare_s, 1),
        "event_log_vs_bare": round(bare_s / log_s, 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--agents", type=int, default=1000)
    parser.add_argument("--contacts", type=int, default=1000)
    parser.add_argument("--rate", type=float, action="append",
                        help="an open-loop phase at this many contacts a second "
                             "(repeatable; default: 300)")
    parser.add_argument("--concurrency", type=int, action="append",
                        help="a closed-loop phase with this many requests in flight "
                             "(repeatable; default: 16)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--appends", type=int, default=2000)
    parser.add_argument("--profile", metavar="FILE",
                        help="py-spy the server during the timed phase (collapsed stacks)")
    args = parser.parse_args()
    if args.rate is None and args.concurrency is None:
        args.rate, args.concurrency = [300.0], [16]
    args.rate, args.concurrency = args.rate or [], args.concurrency or []
    if any(r <= 0 for r in args.rate) or any(c < 1 for c in args.concurrency):
        parser.error("--rate must be > 0 and --concurrency >= 1")
    if max(args.contacts, WARMUP) > args.agents:
        parser.error(f"--contacts (and the {WARMUP} of the warm-up) may not exceed --agents "
                     "(each contact needs a free agent)")
    load_before = round(os.getloadavg()[0], 2)
    with tempfile.TemporaryDirectory(prefix="sb-bench-") as tmp:
        folder = Path(tmp)
        db_url = f"sqlite:///{folder / 'server.db'}"
        create_user(db_url, username="bench-admin", password=PASSWORD, role="admin",
                    tenant=TENANT)
        server = Server(db_url, folder)
        try:
            figures = asyncio.run(run_phases(server, db_url, args))
        finally:
            server.stop()
        appends = append_rates(folder, args.appends)
    print(json.dumps({
        "benchmark": "server", "machine_cpus": os.cpu_count(), "database": "sqlite (WAL)",
        "load_avg_1m_before": load_before,  # other work on the machine skews the figures
        "load_avg_1m_after": round(os.getloadavg()[0], 2),
        "target": {"routed_per_s": 300, "p99_create_to_offer_ms": 50, "agent_sockets": 1000},
        "http_engine_log": figures,
        "event_log": appends,
        "baseline": "bare sqlite3 insert loop, same rows per transaction, same disk",
    }, indent=2))


if __name__ == "__main__":
    main()
