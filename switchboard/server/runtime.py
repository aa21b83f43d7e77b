"""The live runtime: the asyncio shell that drives one routing engine per tenant.

Theory of operation. Each tenant has one :class:`~switchboard.acd.Engine`, fed
only from here, on the event loop's thread (so engine calls never interleave).
For every command the runtime

1. fires the timers due by now (``advance(now)``), then runs the command;
2. writes the engine input (the serialised command) and every event it caused
   to the database in one transaction, with the request's own rows (the new
   queue, the new interaction...);
3. only after the commit, hands the events to the tenant's subscribers.

A command the engine refuses changes nothing but the timers already fired; the
runtime logs that advance so that the log stays the exact input sequence. One
asyncio timer per tenant waits for ``next_deadline()``; its firings are logged
as ``advance`` entries too. The engine is deterministic given its seed and that
sequence, so at start :func:`rebuild` replays each tenant's log into a fresh
engine and checks that every input produces the same event kinds as were
logged: every waiting contact is back in its place with its original times.
To keep that bounded, the engine's state is saved every
:data:`~switchboard.server.snapshot.SNAPSHOT_EVERY` entries and at :meth:`Runtime.stop`
(:mod:`switchboard.server.snapshot`), and a start replays only the entries after
the newest snapshot. If anything fails between the engine call and the commit,
the tenant's engine is rebuilt from the log, so memory never runs ahead of the
database.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine as Database

from switchboard.acd import Engine
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.errors import NotFound, SwitchboardError
from switchboard.domain.model import RoutingConfig
from switchboard.server import snapshot
from switchboard.store import log, repo
from switchboard.store.codec import command_from_json, command_to_json

logger = logging.getLogger("switchboard.runtime")

CLOSING = {"ended": "ended", "wrapup_ended": "ended", "abandoned": "abandoned",
           "exited": "abandoned"}
SUBSCRIBER_BUFFER = 10_000


class LogPruned(SwitchboardError):
    """The tenant's log was pruned and no snapshot of this code covers the gap."""

    code = "log_pruned"
    http_status = 500


class CommitAborted(SwitchboardError):
    """The transaction this request's changes shared with others failed because
    of another one's; nothing of it was saved (send it again)."""

    code = "retry"
    http_status = 503


class ReplayMismatch(SwitchboardError):
    """Replaying a tenant's log did not reproduce the logged events."""

    code = "replay_mismatch"
    http_status = 500


@dataclass(slots=True)
class ReplayReport:
    """What :func:`rebuild` replayed: inputs, events and the first mismatch found;
    the snapshot it started from (``snapshot_seq``, ``None``: the whole log) and
    the last entry it reached (``last_seq``)."""

    entries: int = 0
    events: int = 0
    mismatches: list[str] = field(default_factory=list)
    snapshot_seq: int | None = None
    last_seq: int = 0


def rebuild(conn: Connection, tenant_id: str, seed: int, *,
            use_snapshot: bool = True) -> tuple[Engine, ReplayReport]:
    """The tenant's engine: its newest snapshot of this code's version (see
    :mod:`switchboard.server.snapshot`; a fresh engine when there is none or
    ``use_snapshot`` is false) driven through the logged inputs after it, and a
    report comparing what it emitted with the logged events (count and kinds)."""
    report = ReplayReport()
    engine: Engine | None = None
    snap = log.latest_snapshot(conn, tenant_id, snapshot.code_version()) \
        if use_snapshot else None
    if snap is not None:
        try:
            engine = snapshot.load(snap.data, seed)
            report.snapshot_seq = report.last_seq = snap.seq
        except snapshot.SnapshotError as exc:
            logger.warning("tenant %s: %s; replaying the whole log", tenant_id, exc)
    pruned = log.horizon(conn, tenant_id)
    if pruned and (report.snapshot_seq or 0) < pruned:
        raise LogPruned(f"tenant {tenant_id}'s log was pruned through entry {pruned} and no "
                        "snapshot of this version of the routing code covers it")
    if engine is None:
        engine = Engine(RoutingConfig(seed=seed))
    after = report.snapshot_seq or 0
    logged = log.event_kinds_by_entry(conn, tenant_id, after)
    for entry in log.load_entries(conn, tenant_id, after):
        if entry.entry == "event":  # logged beside routing (Runtime.record): not replayed
            report.entries += 1
            report.last_seq = entry.seq
            continue
        produced = apply_entry(engine, entry)
        kinds = [ev.kind for ev in produced]
        want = logged.get(entry.seq, [])
        if kinds != want:
            report.mismatches.append(
                f"tenant {tenant_id} entry {entry.seq} ({entry.entry} {entry.name or ''} at "
                f"{entry.at}): replay gave {kinds}, the log has {want}")
        report.entries += 1
        report.events += len(produced)
        report.last_seq = entry.seq
    return engine, report


def apply_entry(engine: Engine, entry: log.Entry) -> list[e.Event]:
    """Apply one logged engine input to ``engine``; return the events it caused."""
    if entry.entry == "skills":
        add_skills(engine, entry.payload["add"])
        return []
    out = engine.advance(entry.at)
    if entry.entry == "command":
        assert entry.name is not None
        out += engine.handle(command_from_json(entry.name, entry.payload), entry.at)
    return out


def add_skills(engine: Engine, names: Iterable[str]) -> None:
    """Widen the engine's skill catalogue (the only part of its configuration that
    is not a command; it is read only to validate agents and queues)."""
    engine.config = dataclasses.replace(engine.config,
                                        skills=engine.config.skills | frozenset(names))


_DONE_FOR_AGENT = frozenset({"offer_timeout", "offer_rejected", "offer_withdrawn",
                             "wrapup_ended", "transferred"})


class AgentFilter:
    """Which events an agent may see: its own, and its contacts' while it has them."""

    def __init__(self, agent_id: str) -> None:
        self.agent_id = agent_id
        self.mine: set[str] = set()

    def allows(self, event: dict[str, Any]) -> bool:
        iid = event.get("interaction_id")
        if event.get("agent_id") == self.agent_id or event.get("to_agent") == self.agent_id:
            if iid is not None:
                if event["kind"] in _DONE_FOR_AGENT and event.get("to_agent") != self.agent_id:
                    self.mine.discard(iid)
                else:
                    self.mine.add(iid)
            return True
        return iid is not None and iid in self.mine


class Payload(dict[str, Any]):
    """An event's dict as subscribers receive it, with its JSON text made once
    for every feed it goes to (``text``)."""

    __slots__ = ("text",)

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__(data)
        self.text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class Subscription:
    """A subscriber's buffer of event dicts (:class:`Payload`). An agent's subscription (``agent``
    set) receives only what :class:`AgentFilter` allows. ``wake`` is set when
    something arrives; ``closed`` when it fell too far behind."""

    def __init__(self, tenant_id: str, agent: AgentFilter | None = None) -> None:
        self.tenant_id = tenant_id
        self.agent = agent
        self.queue: asyncio.Queue[Payload] = asyncio.Queue(SUBSCRIBER_BUFFER)
        self.wake = asyncio.Event()
        self.closed = False


@dataclass(slots=True)
class _Tenant:
    """A tenant's engine, timer and subscribers. Agents' subscriptions are indexed
    by agent and by the contacts they follow, so that publishing an event costs
    only the subscribers it is for (not every open feed)."""

    id: str
    engine: Engine
    seq: int = 0  # the last log entry committed (the engine's state is the log's up to it)
    unsaved: int = 0  # entries committed since the last snapshot
    watchers: set[Subscription] = field(default_factory=set)
    by_agent: dict[str, set[Subscription]] = field(default_factory=dict)
    by_interaction: dict[str, set[Subscription]] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    timer_at: float | None = None
    pending: list[_Pending] = field(default_factory=list)  # for the next group commit
    flush_soon: bool = False

    def drop(self, sub: Subscription) -> None:
        self.watchers.discard(sub)
        if sub.agent is not None:
            _discard(self.by_agent, sub.agent.agent_id, sub)
            for iid in sub.agent.mine:
                _discard(self.by_interaction, iid, sub)


def _discard(index: dict[str, set[Subscription]], key: str, sub: Subscription) -> None:
    subs = index.get(key)
    if subs is not None:
        subs.discard(sub)
        if not subs:
            del index[key]


Write = Callable[[Connection], None]
LogEntry = tuple[str, float, str | None, dict[str, Any], list[e.Event]]


@dataclass(slots=True)
class _Pending:
    """Engine inputs applied but not committed yet, with the request's rows and
    the future its request waits on (``None``: a caller committing at once)."""

    entries: list[LogEntry]
    write: Write | None
    done: asyncio.Future[None] | None


class Runtime:
    """Owns every tenant's engine; see the module docstring."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time,
                 snapshot_every: int | None = snapshot.SNAPSHOT_EVERY) -> None:
        self.db = db
        self.clock = clock
        #: log entries between snapshots of a tenant's engine (also written at
        #: :meth:`stop`); ``None``: none are written (every start replays the log)
        self.snapshot_every = snapshot_every
        self._tenants: dict[str, _Tenant] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self.replayed: dict[str, ReplayReport] = {}
        #: called with (tenant id, events) after each commit, after the subscribers
        self.listeners: list[Callable[[str, list[e.Event]], None]] = []

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        """Rebuild every tenant's engine from the log and arm its timer. Raises
        :class:`ReplayMismatch` when a replay disagrees with the log."""
        self._loop = asyncio.get_running_loop()
        with self.db.connect() as conn:
            seeds = repo.tenant_seeds(conn)
            for tenant_id, seed in seeds.items():
                self._tenants[tenant_id] = self._load(conn, tenant_id, seed)
        for t in self._tenants.values():
            self._arm(t)
        self._forget_deleted()

    def _forget_deleted(self) -> None:
        """Remove from routing the queues and agents whose row is gone but whose
        engine copy a replay brings back: before ``RemoveQueue`` and
        ``RemoveAgent`` existed, deleting one deleted only its row. Logged like
        any command, so this happens once."""
        with self.db.connect() as conn:
            queues = {tid: repo.queue_ids(conn, tid) for tid in self._tenants}
            agents = {tid: repo.agent_ids(conn, tid) for tid in self._tenants}
        for tid, t in self._tenants.items():
            gone: list[tuple[str, c.Command]] = [
                (f"queue {qid}", c.RemoveQueue(queue_id=qid))
                for qid in sorted(set(t.engine.queue_ids()) - queues[tid])]
            for aid in sorted(set(t.engine.agent_ids()) - agents[tid]):
                view = t.engine.agent(aid)
                if view["status"] != "offline" or view["contacts"] or view["wrapups"] \
                        or view["offers"]:  # refused anyway: leave the engine untouched
                    logger.warning("tenant %s: deleted agent %s stays in routing while it "
                                   "is logged in or has contacts", tid, aid)
                    continue
                gone.append((f"agent {aid}", c.RemoveAgent(agent_id=aid)))
            for what, cmd in gone:
                try:
                    self.execute(tid, cmd)
                except SwitchboardError as exc:
                    logger.warning("tenant %s: deleted %s stays in routing: %s", tid, what, exc)

    def _load(self, conn: Connection, tenant_id: str, seed: int) -> _Tenant:
        engine, report = rebuild(conn, tenant_id, seed)
        self.replayed[tenant_id] = report
        if report.mismatches:
            for line in report.mismatches[:20]:
                logger.error("replay mismatch: %s", line)
            raise ReplayMismatch(
                f"replaying tenant {tenant_id}'s log gave other events than were "
                f"logged ({len(report.mismatches)} inputs differ); first: "
                f"{report.mismatches[0]}")
        return _Tenant(tenant_id, engine, seq=report.last_seq, unsaved=report.entries)

    def stop(self) -> None:
        """Cancel the timers and snapshot every engine that changed since its
        last snapshot (the next start then replays nothing)."""
        for t in self._tenants.values():
            if t.timer is not None:
                t.timer.cancel()
                t.timer = None
            if t.pending:
                self._commit(t, [], None)
            if t.unsaved and self.snapshot_every is not None:
                self.save_snapshot(t.id)

    def save_snapshot(self, tenant_id: str) -> bool:
        """Write a snapshot of the tenant's engine as of its last committed entry;
        ``False`` (and logged) when that failed: a snapshot only saves time."""
        t = self._tenant(tenant_id)
        if t.pending:  # the snapshot is of committed state only
            self._commit(t, [], None)
        t.unsaved = 0  # a failure waits for the next round too, not every commit
        try:
            data = snapshot.dump(t.engine)
            with self.db.begin() as conn:
                log.save_snapshot(conn, t.id, seq=t.seq, at=t.engine.now,
                                  version=snapshot.code_version(), data=data, now=self.clock())
        except Exception:
            logger.exception("tenant %s: could not write an engine snapshot", t.id)
            return False
        return True

    def ensure_tenant(self, tenant_id: str) -> None:
        """Load a tenant created after :meth:`start` (by ``switchboard admin``)."""
        if tenant_id in self._tenants:
            return
        with self.db.connect() as conn:
            seed = repo.tenant_seeds(conn).get(tenant_id)
            if seed is None:
                raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
            self._tenants[tenant_id] = t = self._load(conn, tenant_id, seed)
        self._arm(t)

    def engine(self, tenant_id: str) -> Engine:
        """The tenant's engine, for queries (never drive it directly)."""
        t = self._tenants.get(tenant_id)
        if t is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
        return t.engine

    # ------------------------------------------------------------------ commands
    def execute(self, tenant_id: str, command: c.Command, *, new_skills: Iterable[str] = (),
                write: Write | None = None) -> list[e.Event]:
        """Run ``command`` for the tenant, log it and its events with ``write``'s
        rows in one transaction, then publish the events. Raises the engine's
        error (nothing logged but the timers it fired) when it refuses."""
        self._check_thread()
        t = self._tenant(tenant_id)
        events, entries = self._apply(t, command, new_skills)
        self._commit(t, entries, write)
        return events

    async def submit(self, tenant_id: str, command: c.Command, *,
                     new_skills: Iterable[str] = (), write: Write | None = None) -> list[e.Event]:
        """:meth:`execute` with a group commit: the command runs at once, and its
        log entry, events and rows are committed in one transaction with those
        of the other commands submitted in the same turn of the event loop (or
        with the next :meth:`execute`, which commits everything before it in
        order); this returns after that commit and the publishing. Several
        requests then share one commit's cost. If that transaction fails,
        the request that caused it gets its error and the others
        :class:`CommitAborted` (nothing of theirs saved; the engine is rebuilt
        from the log). Not for a request that must check something in the
        database between its check and its commit (an ``Idempotency-Key``):
        use :meth:`execute`, which commits before any other request runs."""
        self._check_thread()
        t = self._tenant(tenant_id)
        events, entries = self._apply(t, command, new_skills)
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        t.pending.append(_Pending(entries, write, done))
        if not t.flush_soon:
            t.flush_soon = True
            loop.call_soon(self._flush_soon, t)
        await done
        return events

    def _flush_soon(self, t: _Tenant) -> None:
        t.flush_soon = False
        if t.pending:
            try:
                self._commit(t, [], None)
            except Exception:  # the waiting requests have their error
                logger.exception("tenant %s: a group commit failed", t.id)

    def _apply(self, t: _Tenant, command: c.Command,
               new_skills: Iterable[str]) -> tuple[list[e.Event], list[LogEntry]]:
        """Run the command through the engine; the events and the log entries to commit."""
        engine = t.engine
        now = max(self.clock(), engine.now)
        before = engine.now
        skills = sorted(set(new_skills) - engine.config.skills)
        old_config = engine.config
        try:
            fired = engine.advance(now)
        except Exception:
            self._recover(t)
            raise
        if skills:
            add_skills(engine, skills)
        try:
            caused = engine.handle(command, now)
        except SwitchboardError:
            engine.config = old_config
            if fired or now != before:
                self._commit(t, [("advance", now, None, {}, fired)], None)
            raise
        except Exception:
            self._recover(t)
            raise
        name, payload = command_to_json(command)
        entries: list[LogEntry] = []
        if skills:
            entries.append(("skills", now, None, {"add": skills}, []))
        entries.append(("command", now, name, payload, fired + caused))
        return fired + caused, entries

    def add_skills(self, tenant_id: str, names: Iterable[str],
                   write: Write | None = None) -> list[str]:
        """Widen the tenant's skill catalogue (logged as a ``skills`` entry) and
        commit ``write``'s rows with it; return the names that were new."""
        self._check_thread()
        t = self._tenant(tenant_id)
        new = sorted(set(names) - t.engine.config.skills)
        if new:
            add_skills(t.engine, new)
        entries: list[tuple[str, float, str | None, dict[str, Any], list[e.Event]]] = (
            [("skills", t.engine.now, None, {"add": new}, [])] if new else [])
        self._commit(t, entries, write)
        return new

    def record(self, tenant_id: str, events: Iterable[e.Event],
               write: Write | None = None) -> None:
        """Log facts that happen beside routing (a post-call survey's answer, how
        an outbound call's dialling ended) as an ``event`` entry, commit
        ``write``'s rows with them and publish them like the engine's events.
        The engine is not involved and a replay skips the entry."""
        self._check_thread()
        t = self._tenant(tenant_id)
        made = list(events)
        if made:
            at = max(self.clock(), t.engine.now)
            self._commit(t, [("event", at, None, {}, made)], write)

    def write(self, tenant_id: str, write: Write) -> None:
        """Commit rows that touch no engine state (users, contacts) for a known tenant."""
        self._tenant(tenant_id)
        with self.db.begin() as conn:
            write(conn)

    # ------------------------------------------------------------------ subscribers
    def subscribe(self, tenant_id: str, agent_id: str | None = None) -> Subscription:
        """A feed of the tenant's events: all of them, or (``agent_id``) only an
        agent's own events and those of its contacts."""
        t = self._tenant(tenant_id)
        if agent_id is None:
            sub = Subscription(tenant_id)
            t.watchers.add(sub)
        else:
            sub = Subscription(tenant_id, AgentFilter(agent_id))
            t.by_agent.setdefault(agent_id, set()).add(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        t = self._tenants.get(sub.tenant_id)
        if t is not None:
            t.drop(sub)

    def publish(self, tenant_id: str, data: dict[str, Any]) -> None:
        """Tell the feeds about a committed fact that is not an engine event (a
        chat message): every watcher, and the agents following its interaction
        (``interaction_id``), as for an event. Call it after the commit."""
        self._publish(self._tenant(tenant_id), [data])

    # ------------------------------------------------------------------ internals
    def _check_thread(self) -> None:
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if self._loop is not None and running is not self._loop:
            raise RuntimeError("the runtime is driven only from its event loop's thread")

    def _tenant(self, tenant_id: str) -> _Tenant:
        t = self._tenants.get(tenant_id)
        if t is None:
            raise NotFound(f"no tenant {tenant_id!r}", field="tenant")
        return t

    def _commit(self, t: _Tenant, entries: list[LogEntry], write: Write | None) -> None:
        """Commit what :meth:`submit` left pending, then ``entries`` and ``write``'s
        rows, in one transaction and in the order the engine ran them; then
        publish the events and wake the submitters. Raises (after rebuilding the
        engine from the log) when the transaction fails."""
        batch, t.pending = t.pending, []
        if entries or write is not None or not batch:
            batch.append(_Pending(entries, write, None))
        every = [entry for item in batch for entry in item.entries]
        dicts = [[ev.to_dict() for ev in entry[4]] for entry in every]
        made_by = iter(dicts)
        failed: _Pending | None = None
        try:
            with self.db.begin() as conn:
                for item in batch:
                    failed = item
                    if item.write is not None:
                        item.write(conn)
                    for (kind, at, name, payload, events) in item.entries:
                        seq = log.append(conn, t.id, at=at, entry=kind, name=name,
                                         payload=payload, events=events, dicts=next(made_by))
                failed = None
                log.project(conn, t.id, self._snapshots(
                    t, [en for en in every if en[0] != "event"]))
        except Exception as exc:
            self._fail(batch, failed, exc)
            self._recover(t)
            raise
        if every:
            t.seq = seq
            t.unsaved += len(every)
        committed = [ev for entry in every for ev in entry[4]]
        self._publish(t, [d for made in dicts for d in made])
        for listener in self.listeners:
            if committed:
                try:
                    listener(t.id, committed)
                except Exception:  # committed already: a listener never fails the request
                    logger.exception("tenant %s: event listener failed", t.id)
        self._arm(t)
        if self.snapshot_every is not None and t.unsaved >= self.snapshot_every:
            self.save_snapshot(t.id)
        for item in batch:
            if item.done is not None and not item.done.done():
                item.done.set_result(None)

    @staticmethod
    def _fail(batch: list[_Pending], culprit: _Pending | None, exc: Exception) -> None:
        """Wake the submitters of a failed group commit: the one whose rows failed
        gets the error, the others :class:`CommitAborted`."""
        for item in batch:
            if item.done is None or item.done.done():
                continue
            if item is culprit:
                item.done.set_exception(exc)
            else:
                item.done.set_exception(CommitAborted(
                    "another request committed with this one failed; nothing of this "
                    "one was saved: send it again"))

    def _snapshots(self, t: _Tenant, entries: Iterable[tuple[Any, ...]]) -> list[dict[str, Any]]:
        last: dict[str, e.Event] = {}
        for entry in entries:
            for ev in entry[4]:
                if ev.interaction_id is not None:
                    last[ev.interaction_id] = ev
        out = []
        for iid, ev in last.items():
            try:
                snap = t.engine.interaction(iid)
            except SwitchboardError:
                out.append({"id": iid, "state": CLOSING.get(ev.kind, "ended"),
                            "closed_at": ev.at})
                continue
            out.append({"id": iid, "state": snap["state"], "queue_id": snap["queue"],
                        "agent_id": snap["agent"], "enqueued_at": snap["enqueued_at"]})
        return out

    def _recover(self, t: _Tenant) -> None:
        logger.error("tenant %s: engine and log may disagree; rebuilding from the log", t.id)
        pending, t.pending = t.pending, []
        self._fail(pending, None, RuntimeError("unused"))  # their effects are dropped too
        with self.db.connect() as conn:
            seed = repo.tenant_seeds(conn).get(t.id, 0)
            t.engine, report = rebuild(conn, t.id, seed)
        t.seq, t.unsaved = report.last_seq, report.entries
        self._arm(t)

    def _publish(self, t: _Tenant, events: list[dict[str, Any]]) -> None:
        """Hand each event's dict to the feeds it is for: every watcher, and the
        agents it names or whose contact it is about. Its JSON is made once
        (:class:`Payload`), and only for an event someone receives."""
        if not events or not (t.watchers or t.by_agent):
            return
        for data in events:
            p: Payload | None = None
            if t.watchers:
                p = Payload(data)
                for sub in list(t.watchers):
                    self._deliver(t, sub, p)
            if not t.by_agent:
                continue
            iid = data.get("interaction_id")
            targets: set[Subscription] = set()
            for key in (data.get("agent_id"), data.get("to_agent")):
                if key is not None:
                    targets.update(t.by_agent.get(key, ()))
            if iid is not None:
                targets.update(t.by_interaction.get(iid, ()))
            for sub in targets:
                assert sub.agent is not None
                if sub.agent.allows(data):
                    if p is None:
                        p = Payload(data)
                    self._deliver(t, sub, p)
                if iid is not None and not sub.closed:
                    if iid in sub.agent.mine:
                        t.by_interaction.setdefault(iid, set()).add(sub)
                    else:
                        _discard(t.by_interaction, iid, sub)

    @staticmethod
    def _deliver(t: _Tenant, sub: Subscription, payload: Payload) -> None:
        try:
            sub.queue.put_nowait(payload)
        except asyncio.QueueFull:
            sub.closed = True
            t.drop(sub)
        sub.wake.set()

    def _arm(self, t: _Tenant) -> None:
        deadline = t.engine.next_deadline()
        if deadline == t.timer_at and t.timer is not None:
            return
        if t.timer is not None:
            t.timer.cancel()
            t.timer = None
        t.timer_at = deadline
        if deadline is None or self._loop is None:
            return
        delay = max(0.0, deadline - self.clock())
        t.timer = self._loop.call_later(delay, self._fire, t)

    def _fire(self, t: _Tenant) -> None:
        t.timer = None
        t.timer_at = None
        now = max(self.clock(), t.engine.now)
        deadline = t.engine.next_deadline()
        if deadline is not None and deadline > now:
            self._arm(t)  # woke early (clock granularity): wait again
            return
        try:
            fired = t.engine.advance(now)
        except Exception:
            logger.exception("tenant %s: timer advance failed", t.id)
            self._recover(t)
            return
        try:
            self._commit(t, [("advance", now, None, {}, fired)], None)
        except Exception:
            logger.exception("tenant %s: could not log a timer advance", t.id)
            self._arm(t)
