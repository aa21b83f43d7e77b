"""Demo mode (``switchboard serve --demo``): a live contact center on 127.0.0.1.

On its own SQLite database (``var/demo.db``; ``var/demo-<N>-agents-<M>-queues.db``
for another size; ``--demo-db`` chooses; created when missing, reused
afterwards) it sets up a ``demo`` tenant (:mod:`switchboard.server.demo_tenant`):
by default four queues (sales, support, billing, and ``vip`` for the person
trying the demo) and 20 agents, with reason codes, dispositions, business
hours and wallboard thresholds; ``--demo-agents`` and ``--demo-queues`` make
it bigger (200 agents in 20 queues, say). It prints the URL and the logins of
an admin, a supervisor and two agents (new passwords at every start; the old
ones and their sessions stop working), serves the API and the web pages, and
runs a traffic generator (:mod:`switchboard.server.demo_traffic`) that goes
through the real server like any client: virtual customers arrive, chat and
sometimes give up; virtual agents answer, chat, end, wrap up with a
disposition and take breaks with a reason; and a customer comes to the
``vip`` queue whenever one of the two people's agents is ready.

The virtual agents and the traffic's supervisor hold bearer tokens written
straight into the database (their users have no password: nobody logs in as
them), so that 200 agents cost no 200 Argon2 checks at start.

Restarts stay quick however long the demo has run: the runtime snapshots the
routing engine at every clean stop (and every 10,000 log entries), so a start
replays only the log's tail (:mod:`switchboard.server.snapshot`); and each start
deletes the history that ended more than :data:`KEEP_DAYS` days ago, up to the
newest snapshot, with a printed note (:func:`prune`), so the database stops
growing (SQLite reuses the freed pages). A database whose pruned log no snapshot
of the running code covers (the code changed) is moved aside for a fresh demo.
"""

from __future__ import annotations

import asyncio
import gc
import os
import secrets
import signal
import sys
import time
from collections.abc import Generator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx
from sqlalchemy import Engine as Database
from sqlalchemy import delete, select, update

from switchboard.domain.errors import ConfigError, ValidationError
from switchboard.server import auth, snapshot
from switchboard.server.demo_tenant import (
    DEFAULT_AGENTS,
    DEFAULT_QUEUES,
    HUMAN_AGENTS,
    HUMAN_QUEUE,
    MAX_AGENTS,
    MAX_QUEUES,
    Provisioned,
    Shape,
    provision,
    virtual_name,
)
from switchboard.store import log, repo
from switchboard.store import schema as s
from switchboard.store.db import migrate, open_db

TENANT = "demo"
SEED = 20240611
LOCALHOST = "127.0.0.1"
KEEP_DAYS = 7  # a start deletes the history that ended before this many days
ADMIN, SUPERVISOR = "demo-admin", "demo-supervisor"
RATE_PER_AGENT_MIN = 25.0 / DEFAULT_AGENTS  # contacts a minute per agent by default
NO_PASSWORD = "!demo: no password; the demo's traffic holds this user's token"
TOKEN_TTL_S = 366 * 86400.0  # the traffic's own tokens (deleted at the next start)


def default_db_path(shape: Shape) -> str:
    """``var/demo.db`` for the default size, ``var/demo-N-agents-M-queues.db`` else
    (each size keeps its own demo and history)."""
    if (shape.agents, shape.queues) == (DEFAULT_AGENTS, DEFAULT_QUEUES):
        return "var/demo.db"
    return f"var/demo-{shape.agents}-agents-{shape.queues}-queues.db"


@dataclass(frozen=True, slots=True)
class DemoSettings:
    """How big and busy the demo is. ``rate_per_min``: new contacts a minute
    (Poisson, swelling and ebbing over a few minutes; default 1.25 per agent);
    ``speed``: time compression (2.0 halves every talk, ring, wrap-up and break
    time and doubles the arrival rate); ``db_path``: the SQLite file."""

    rate_per_min: float | None = None
    speed: float = 1.0
    shape: Shape = field(default_factory=Shape)
    db_path: str | None = None

    def __post_init__(self) -> None:
        if self.rate_per_min is not None and not 0 < self.rate_per_min <= 6000:
            raise ValidationError("must be above 0 and at most 6000", field="demo-rate")
        if not 0 < self.speed <= 100:
            raise ValidationError("must be above 0 and at most 100", field="demo-speed")
        if self.db_path is not None:
            path = Path(self.db_path)
            if not self.db_path.strip() or path.is_dir() or self.db_path.endswith(os.sep):
                raise ValidationError("give a file (a SQLite database; created when missing), "
                                      "not a folder", field="demo-db")
            parent = next((p for p in path.absolute().parents if p.exists()), None)
            if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK):
                raise ValidationError(f"cannot create {path}: {parent} is not a writable "
                                      "folder", field="demo-db")
            if path.is_file() and path.stat().st_size:
                with path.open("rb") as f:
                    if f.read(16) != b"SQLite format 3\x00":
                        raise ValidationError(f"{path} is not a SQLite database; give a new "
                                              "file or a demo's database", field="demo-db")

    @property
    def rate(self) -> float:
        """Contacts a minute at speed 1."""
        return self.rate_per_min if self.rate_per_min is not None \
            else RATE_PER_AGENT_MIN * self.shape.agents

    @property
    def path(self) -> str:
        return self.db_path if self.db_path is not None else default_db_path(self.shape)


@dataclass(slots=True)
class Login:
    username: str
    password: str
    role: str
    agent_index: int | None = None


def demo_logins(shape: Shape) -> list[Login]:
    """Fresh random passwords for the printed users (admin, supervisor, the two
    people's agents); the virtual agents get none (``password`` empty)."""
    logins = [Login(ADMIN, secrets.token_urlsafe(9), "admin"),
              Login(SUPERVISOR, secrets.token_urlsafe(9), "supervisor")]
    logins += [Login(shape.username(i), secrets.token_urlsafe(9) if shape.is_human(i) else "",
                     "agent", i) for i in range(shape.agents)]
    return logins


def check_demo_options(db: str, host: str, default_db: str, settings: DemoSettings) -> str:
    """The database URL demo mode uses; refuses another host or ``--db``."""
    if host not in (LOCALHOST, "localhost"):
        raise ConfigError(f"demo mode listens on {LOCALHOST} only (not {host!r}): its "
                          f"passwords are printed on the console; leave --host out",
                          field="host")
    if db != default_db:
        raise ConfigError("demo mode uses its own SQLite database; leave --db out (--demo-db "
                          "FILE chooses the file)", field="db")
    return f"sqlite:///{settings.path}"


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


def check_size(db: Database, settings: DemoSettings) -> None:
    """Refuse a database that holds a bigger demo than asked (growing is fine:
    the set-up adds what is missing); the error says which options fit it."""
    shape = settings.shape
    biggest = Shape(agents=MAX_AGENTS, queues=MAX_QUEUES)
    agent_index = {virtual_name(i): i for i in range(biggest.virtual)}
    queue_index = {q.name: i for i, q in enumerate(biggest.queue_specs()[:-1])}
    with db.connect() as conn:
        agents = conn.scalars(select(s.Agent.name).where(s.Agent.tenant_id == TENANT)).all()
        queues = conn.scalars(select(s.Queue.name).where(s.Queue.tenant_id == TENANT)).all()
    n = max((agent_index[a] + 1 + HUMAN_AGENTS for a in agents if a in agent_index), default=0)
    m = max((queue_index[q] + 2 for q in queues if q in queue_index), default=0)
    if n > shape.agents or m > shape.queues:
        n, m = max(n, shape.agents), max(m, shape.queues)
        raise ConfigError(f"{settings.path} holds a demo of {n} agents and {m} queues: start "
                          f"it with --demo-agents {n} --demo-queues {m}, or choose another "
                          f"--demo-db", field="demo-agents" if n > shape.agents
                          else "demo-queues")


def save_users(db: Database, users: list[tuple[Login, str, str | None]]) -> dict[str, str]:
    """Create each ``(login, password hash, agent id)`` user or give it its new
    password hash (and agent), in one transaction; their ids by user name."""
    now = time.time()
    ids: dict[str, str] = {}
    with db.begin() as conn:
        have = {name: uid for name, uid in conn.execute(
            select(s.User.username, s.User.id).where(s.User.tenant_id == TENANT))}
        for login, password_hash, agent_id in users:
            uid = have.get(login.username)
            if uid is None:
                uid = repo.create_user(conn, TENANT, username=login.username,
                                       password_hash=password_hash, role=login.role, now=now,
                                       agent_id=agent_id)
            else:
                conn.execute(update(s.User).where(s.User.tenant_id == TENANT, s.User.id == uid)
                             .values(password_hash=password_hash, role=login.role,
                                     agent_id=agent_id, disabled=False))
            ids[login.username] = uid
    return ids


def end_sessions(db: Database) -> None:
    """Every token of the demo tenant stops working (passwords change at every start)."""
    with db.begin() as conn:
        conn.execute(delete(s.Token).where(s.Token.tenant_id == TENANT))


def mint_tokens(db: Database, user_ids: dict[str, str]) -> dict[str, str]:
    """A bearer token for each user (by name), written as a login would write it."""
    now = time.time()
    out: dict[str, str] = {}
    with db.begin() as conn:
        for username, uid in user_ids.items():
            token, digest = auth.new_token()
            repo.save_token(conn, TENANT, token_hash=digest, user_id=uid, now=now,
                            ttl_s=TOKEN_TTL_S)
            out[username] = token
    return out


def banner(url: str, logins: list[Login], settings: DemoSettings) -> str:
    """What the console shows at start: where to go, who to log in as for what."""
    shape = settings.shape
    humans = [lg for lg in logins if lg.agent_index is not None and lg.password]
    admin = next(lg for lg in logins if lg.username == ADMIN)
    sup = next(lg for lg in logins if lg.username == SUPERVISOR)
    width = max(len(lg.username) for lg in (admin, sup, *humans))
    pw = max(len(lg.password) for lg in (admin, sup, *humans))

    def row(lg: Login, what: str) -> str:
        return f"    {lg.username.ljust(width)}  {lg.password.ljust(pw)}  {lg.role}: {what}"

    names = [q.name for q in shape.queue_specs()[:-1]]
    shown = ", ".join(names[:4]) + (f" and {len(names) - 4} more" if len(names) > 4 else "")
    rate = settings.rate * settings.speed
    lines = [
        f"Switchboard demo: open {url}/ in a browser and log in as",
        row(sup, "the live wallboard (queues, service level, agents)"),
        row(humans[0], "the agent desktop: press Ready, a customer comes in seconds"),
        *[row(lg, "a second agent (in another browser or a private window)")
          for lg in humans[1:]],
        row(admin, "administration (queues, agents, codes, business hours)"),
        f"  Traffic: about {rate:g} customers a minute into {shown},",
        f"  answered by {shape.virtual} virtual agents; the {HUMAN_QUEUE} queue is yours "
        f"alone ({' and '.join(lg.username for lg in humans)}).",
        f"  API: {url}/api/v1/docs (tokens: POST /api/v1/auth/token)",
        f"  Database {settings.path}; new passwords at every start; Ctrl-C stops.",
    ]
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


def process_age() -> float:
    """Seconds since this process started (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime", encoding="ascii") as f:
            uptime = float(f.read().split()[0])
        return max(0.0, uptime - start_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return 0.0


def run_demo(db: Database, port: int, settings: DemoSettings,
             out: TextIO = sys.stdout) -> None:
    """Set up the demo tenant, serve on 127.0.0.1:``port`` with traffic, until
    SIGINT or SIGTERM (then stop the traffic, the server, and return)."""
    from switchboard.server.app import create_app

    started = time.time() - process_age()
    if not resumable(db):
        db = fresh_database(db, out)
    ensure_tenant(db)
    note = prune(db, time.time())
    if note:
        _print(out, note)
    end_sessions(db)
    logins = demo_logins(settings.shape)
    # Argon2 is slow on purpose: the printed passwords hash while the server starts.
    pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="demo-hash")
    hashing = {lg.username: pool.submit(auth.hash_password, lg.password)
               for lg in logins if lg.password}
    try:
        staff = [lg for lg in logins if lg.agent_index is None]
        ids = save_users(db, [(lg, NO_PASSWORD, None) for lg in staff])
        tokens = mint_tokens(db, ids)
        server = _Server(create_app(db), port).server
        gc.collect()  # as serve does: start-up's long-lived objects out of the full collections
        gc.freeze()
        asyncio.run(_main(db, server, port, settings, logins, tokens, hashing, started, out))
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


async def _main(db: Database, server: Any, port: int, settings: DemoSettings,
                logins: list[Login], tokens: dict[str, str],
                hashing: dict[str, Future[str]], started: float, out: TextIO) -> None:
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
        async with httpx.AsyncClient(base_url=f"{url}/api/v1", timeout=60) as api:
            api.headers["Authorization"] = f"Bearer {tokens[ADMIN]}"
            made = await provision(api, settings.shape)
            await _humans_offline(api, made, settings.shape)
        agents = [lg for lg in logins if lg.agent_index is not None]
        virtual = [lg for lg in agents if not lg.password]
        ids = save_users(db, [(lg, NO_PASSWORD, made.agents[lg.agent_index or 0])
                              for lg in virtual])
        tokens.update(mint_tokens(db, ids))
        hashes = {name: await asyncio.wrap_future(fut) for name, fut in hashing.items()}
        people = [lg for lg in agents if lg.password]
        save_users(db, [(lg, hashes[lg.username], None) for lg in logins
                        if lg.agent_index is None] +
                   [(lg, hashes[lg.username], made.agents[lg.agent_index or 0])
                    for lg in people])
        _print(out, banner(url, logins, settings))
        traffic = Traffic(url, settings, made, tokens[SUPERVISOR],
                          [(tokens[lg.username], made.agents[lg.agent_index or 0],
                            settings.shape.agent_name(lg.agent_index or 0)) for lg in virtual],
                          SEED + int(time.time()), lambda line: _print(out, line), started)
        traffic.start()
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


async def _humans_offline(api: httpx.AsyncClient, made: Provisioned, shape: Shape) -> None:
    """The people's agents start logged out (a previous run may have left them
    ready, and nobody would answer their offers)."""
    for agent_id in made.agents[shape.virtual:]:
        await api.post(f"/agents/{agent_id}/status", json={"status": "offline"})


def _print(out: TextIO, text: str) -> None:
    out.write(text + "\n")
    out.flush()
