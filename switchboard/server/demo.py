"""Demo mode (``switchboard serve --demo``): a live contact center on 127.0.0.1.

On a SQLite database under ``./var/`` (``var/demo.db``, created when missing,
reused afterwards) it sets up a ``demo`` tenant: three queues with different
skills and strategies, 20 agents, and logins for an admin, a supervisor and
two agents whose passwords are generated at every start and printed (the old
ones stop working). It then serves the API and runs a traffic generator
(:mod:`switchboard.server.demo_traffic`) that goes through the real server like
any client: virtual customers are ``POST /api/v1/interactions`` calls, and 18
virtual agents log in, go ready, wait for offers on their WebSocket feed,
answer after a short ring, talk, end, wrap up and take breaks. The last two
agents are left to the person trying the demo (their logins are printed).

Restarts stay quick however long the demo has run: the runtime snapshots the
routing engine at every clean stop (and every 10,000 log entries), so a start
replays only the log's tail (:mod:`switchboard.server.snapshot`); and each start
deletes the history that ended more than :data:`KEEP_DAYS` days ago, up to the
newest snapshot, with a printed note (:func:`prune`), so ``var/demo.db`` stops
growing (SQLite reuses the freed pages). A database whose pruned log no snapshot
of the running code covers (the code changed) is moved aside for a fresh demo.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import sys
import time
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import httpx
from sqlalchemy import Engine as Database
from sqlalchemy import select, update

from switchboard.domain.errors import ConfigError, ValidationError
from switchboard.server import snapshot
from switchboard.server.auth import hash_password
from switchboard.store import log, repo
from switchboard.store import schema as s
from switchboard.store.db import migrate, open_db

DEMO_URL = "sqlite:///var/demo.db"
TENANT = "demo"
SEED = 20240611
LOCALHOST = "127.0.0.1"
# (name, strategy, required skills, settings): one queue per routing style.
QUEUES: tuple[tuple[str, str, dict[str, int], dict[str, Any]], ...] = (
    ("sales", "longest_idle", {"sales": 1}, {"wrapup_s": 30.0, "ring_timeout_s": 15.0}),
    ("support", "best_skill", {"support": 1}, {"wrapup_s": 30.0, "ring_timeout_s": 15.0}),
    ("billing", "round_robin", {"billing": 1},
     {"wrapup_s": 30.0, "ring_timeout_s": 15.0, "timeout_s": 300.0}),
)
QUEUE_WEIGHTS = {"sales": 0.4, "support": 0.4, "billing": 0.2}
CHANNELS = {"sales": "voice", "support": "chat", "billing": "voice"}
AGENT_NAMES = ("Ada", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas",
               "Kemi", "Liam", "Mei", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tara")
HUMAN_AGENTS = 2  # the last two agents are not driven: their logins are printed
KEEP_DAYS = 7  # a start deletes the history that ended before this many days
ADMIN, SUPERVISOR = "demo-admin", "demo-supervisor"


def agent_skills(i: int) -> dict[str, int]:
    """Agent ``i``'s skills: everyone has two of the three, at levels 3 to 9."""
    names = ("sales", "support", "billing")
    return {names[i % 3]: 3 + (i * 7) % 7, names[(i + 1) % 3]: 3 + (i * 5) % 7}


def agent_username(i: int) -> str:
    return f"demo-{AGENT_NAMES[i].lower()}"


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """How busy the demo is. ``rate_per_min``: new contacts a minute (Poisson);
    ``speed``: time compression (2.0 halves every talk, ring, wrap-up and
    break time and doubles the arrival rate)."""

    rate_per_min: float = 25.0
    speed: float = 1.0

    def __post_init__(self) -> None:
        if not 0 < self.rate_per_min <= 6000:
            raise ValidationError("must be above 0 and at most 6000", field="demo-rate")
        if not 0 < self.speed <= 100:
            raise ValidationError("must be above 0 and at most 100", field="demo-speed")


@dataclass(slots=True)
class Login:
    username: str
    password: str
    role: str
    agent_index: int | None = None


def demo_logins() -> list[Login]:
    """Fresh random passwords for every demo user (printed or used by the traffic)."""
    logins = [Login(ADMIN, secrets.token_urlsafe(9), "admin"),
              Login(SUPERVISOR, secrets.token_urlsafe(9), "supervisor")]
    logins += [Login(agent_username(i), secrets.token_urlsafe(12), "agent", i)
               for i in range(len(AGENT_NAMES))]
    return logins


def check_demo_options(db: str, host: str, default_db: str) -> str:
    """The database URL demo mode uses; refuses another host or database."""
    if host not in (LOCALHOST, "localhost"):
        raise ConfigError(f"demo mode listens on {LOCALHOST} only (not {host!r}): its "
                          f"passwords are printed on the console; leave --host out",
                          field="host")
    if db != default_db:
        raise ConfigError(f"demo mode uses its own database ({DEMO_URL}); leave --db out",
                          field="db")
    return DEMO_URL


def prune(db: Database, now: float) -> str | None:
    """Delete the demo's history that ended more than :data:`KEEP_DAYS` ago, up to
    its newest snapshot; a line saying what went (``None``: nothing did)."""
    with db.begin() as conn:
        snap = log.latest_snapshot(conn, TENANT, snapshot.code_version())
        if snap is None:
            return None
        counts = log.prune_history(conn, TENANT, before=now - KEEP_DAYS * 86400.0,
                                   through_seq=snap.seq, now=now)
    if not any(counts.values()):
        return None
    gone = ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items() if n)
    return (f"demo: deleted the history that ended over {KEEP_DAYS} days ago from "
            f"{db.url.database}: {gone}")


def resumable(db: Database) -> bool:
    """Whether the demo database can be rebuilt by this code: its log is whole,
    or a snapshot of this code covers what was pruned from it."""
    with db.connect() as conn:
        pruned = log.horizon(conn, TENANT)
        if not pruned:
            return True
        snap = log.latest_snapshot(conn, TENANT, snapshot.code_version())
    return snap is not None and snap.seq >= pruned


def fresh_database(db: Database, out: TextIO) -> Database:
    """Move the demo database aside (``var/demo-<time>.db``) and start a new one."""
    path = Path(db.url.database or "")
    db.dispose()
    aside = path.with_name(f"{path.stem}-{int(time.time())}{path.suffix}")
    for suffix in ("", "-wal", "-shm"):
        old = Path(f"{path}{suffix}")
        if old.exists():
            old.rename(f"{aside}{suffix}")
    _print(out, f"demo: {path} was pruned by another version of Switchboard and cannot be "
                f"rebuilt by this one; moved it to {aside} and started afresh")
    fresh = open_db(f"sqlite:///{path}")
    migrate(fresh)
    return fresh


def ensure_tenant(db: Database) -> None:
    with db.begin() as conn:
        if not repo.tenant_exists(conn, TENANT):
            repo.create_tenant(conn, TENANT, name="Demo contact center", now=time.time(),
                               seed=SEED)


def save_user(db: Database, login: Login, password_hash: str,
              agent_id: str | None = None) -> None:
    """Create the demo user or give it its new password (and agent)."""
    with db.begin() as conn:
        uid = conn.scalar(select(s.User.id).where(s.User.tenant_id == TENANT,
                                                  s.User.username == login.username))
        if uid is None:
            repo.create_user(conn, TENANT, username=login.username, password_hash=password_hash,
                             role=login.role, now=time.time(), agent_id=agent_id)
        else:
            conn.execute(update(s.User).where(s.User.tenant_id == TENANT, s.User.id == uid)
                         .values(password_hash=password_hash, role=login.role,
                                 agent_id=agent_id))


async def provision(api: httpx.AsyncClient) -> tuple[dict[str, str], list[str]]:
    """Create through the API whatever queues and agents the demo tenant lacks;
    their ids: queues by name, agents in :data:`AGENT_NAMES` order."""
    have_q = {q["name"]: q["id"] for q in _ok(await api.get("/queues"))}
    for name, strategy, skills, settings in QUEUES:
        if name not in have_q:
            body = {"name": name, "strategy": strategy, "skills": skills, **settings}
            have_q[name] = _ok(await api.post("/queues", json=body))["id"]
    have_a = {a["name"]: a["id"] for a in _ok(await api.get("/agents"))}
    agents = []
    for i, name in enumerate(AGENT_NAMES):
        if name not in have_a:
            body = {"name": name, "skills": agent_skills(i)}
            have_a[name] = _ok(await api.post("/agents", json=body))["id"]
        agents.append(have_a[name])
    return {name: have_q[name] for name, *_ in QUEUES}, agents


def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise RuntimeError(f"demo setup: {r.request.method} {r.request.url.path} answered "
                           f"{r.status_code} {r.text[:300]}")
    return r.json()


def banner(url: str, logins: list[Login], settings: DemoSettings) -> str:
    """What the console shows at start: where, who, what happens."""
    shown = [lg for lg in logins if lg.agent_index is None
             or lg.agent_index >= len(AGENT_NAMES) - HUMAN_AGENTS]
    width = max(len(lg.username) for lg in shown)
    lines = [f"Switchboard demo: a live contact center on {url}/api/v1",
             f"  web UI     {url}/  (log in with a login below; each role gets its page)",
             f"  API docs   {url}/api/v1/docs",
             f"  event feed ws://{url.removeprefix('http://')}/api/v1/events/ws?token=TOKEN",
             "  logins (POST /api/v1/auth/token; new passwords at every start):"]
    for lg in shown:
        who = lg.role if lg.agent_index is None else \
            f"agent {AGENT_NAMES[lg.agent_index]} (not driven: set it ready yourself)"
        lines.append(f"    {lg.username.ljust(width)}  {lg.password}  {who}")
    lines.append(f"  traffic: about {settings.rate_per_min * settings.speed:g} contacts a "
                 f"minute into sales, support and billing; "
                 f"{len(AGENT_NAMES) - HUMAN_AGENTS} virtual agents answer them "
                 f"(speed x{settings.speed:g}). Ctrl-C stops.")
    return "\n".join(lines)


class _Server:
    """uvicorn's server with our own signal handling (a clean exit, code 0)."""

    def __init__(self, app: Any, port: int) -> None:
        import uvicorn

        class Quiet(uvicorn.Server):
            @contextmanager
            def capture_signals(self) -> Generator[None, None, None]:
                yield  # demo mode installs its own handlers on the loop

        self.server = Quiet(uvicorn.Config(app, host=LOCALHOST, port=port, log_level="warning",
                                           timeout_graceful_shutdown=3))


def run_demo(db: Database, port: int, settings: DemoSettings,
             out: TextIO = sys.stdout) -> None:
    """Set up the demo tenant, serve on 127.0.0.1:``port`` with traffic, until
    SIGINT or SIGTERM (then stop the traffic, the server, and return)."""
    from switchboard.server.app import create_app

    if not resumable(db):
        db = fresh_database(db, out)
    ensure_tenant(db)
    note = prune(db, time.time())
    if note:
        _print(out, note)
    logins = demo_logins()
    hashes = {lg.username: hash_password(lg.password) for lg in logins}
    for lg in logins:
        if lg.agent_index is None:
            save_user(db, lg, hashes[lg.username])
    server = _Server(create_app(db), port).server
    asyncio.run(_main(db, server, port, settings, logins, hashes, out))


async def _main(db: Database, server: Any, port: int, settings: DemoSettings,
                logins: list[Login], hashes: dict[str, str], out: TextIO) -> None:
    from switchboard.server.demo_traffic import Traffic

    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            serving.result()  # raises why it could not start (port taken...)
            return
        await asyncio.sleep(0.02)
    url = f"http://{LOCALHOST}:{port}"
    traffic: Traffic | None = None
    try:
        async with httpx.AsyncClient(base_url=f"{url}/api/v1", timeout=30) as api:
            admin = next(lg for lg in logins if lg.username == ADMIN)
            token = _ok(await api.post("/auth/token", json={"username": admin.username,
                                                            "password": admin.password}))
            api.headers["Authorization"] = f"Bearer {token['token']}"
            queues, agents = await provision(api)
        for lg in logins:
            if lg.agent_index is not None:
                save_user(db, lg, hashes[lg.username], agents[lg.agent_index])
        _print(out, banner(url, logins, settings))
        virtual = [(lg, agents[lg.agent_index]) for lg in logins
                   if lg.agent_index is not None
                   and lg.agent_index < len(AGENT_NAMES) - HUMAN_AGENTS]
        traffic = Traffic(url, settings, queues, virtual, SEED + int(time.time()),
                          lambda line: _print(out, line))
        traffic.start(next(lg for lg in logins if lg.username == SUPERVISOR))
        waiter = asyncio.create_task(stopping.wait())
        await asyncio.wait({serving, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
    finally:
        if traffic is not None:
            await traffic.stop()
        server.should_exit = True
        await serving
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    _print(out, "demo stopped")


def _print(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()


def counts_line(counts: dict[str, int], waiting: int | None) -> str:
    """One status line from the event counts the supervisor's feed has seen."""
    parts = [f"{counts.get(k, 0)} {label}" for k, label in (
        ("arrived", "arrived"), ("offered", "offered"), ("answered", "answered"),
        ("ended", "ended"), ("wrapup_ended", "wrapped up"), ("exited", "timed out"))]
    tail = "" if waiting is None else f"; {waiting} waiting now"
    return "demo: " + ", ".join(parts) + tail


def iter_weights(weights: dict[str, float]) -> Iterator[tuple[str, float]]:
    """Queue names with their cumulative weights (for a weighted draw)."""
    total, acc = sum(weights.values()), 0.0
    for name, w in weights.items():
        acc += w / total
        yield name, acc

