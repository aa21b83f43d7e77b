"""The demo's traffic generator: virtual customers and agents as API clients.

Everything goes through the server's public interface on 127.0.0.1, like any
client, with the bearer tokens :mod:`switchboard.server.demo` wrote for it:

* **customers** arrive as ``POST /api/v1/interactions`` calls (Poisson, each
  queue's rate swelling and ebbing by 45 % over four minutes, and now and then
  a surge: one queue gets 5 times its customers for 40 s, so that its
  figures turn amber or red on the wallboard and recover), spread over the
  queues by their share and over channels by each queue's mix. A chat customer writes a first
  message and answers each agent's message a few times
  (``POST /interactions/{id}/messages`` as the supervisor, ``sender:
  customer``). A customer still waiting when its patience runs out hangs up
  (``POST /interactions/{id}/end`` while queued: an abandon).
* **virtual agents** each read their own WebSocket feed: on an ``offered``
  event they ring for a moment, accept, greet and answer a chat, talk for a
  lognormal time, end, wrap up with a disposition and now and then go not
  ready with a reason code (break, coaching, training, meeting, lunch); one
  that a supervisor sets not ready or logs out comes back a minute later.
* **the people's agents**: whenever one of them is ready and idle for
  :data:`VIP_AFTER_S` seconds, a customer comes to the ``vip`` queue that only
  they serve (two chats, then a call, and so on); their chat customers answer
  every message they write, up to a goodbye.

Durations come from :mod:`switchboard.sim.dists`. The supervisor's feed counts
what happens and prints a status line every 10 s, and says how long after the
process started the first contact was routed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx
import websockets

from switchboard.server.demo_tenant import HUMAN_QUEUE, Provisioned
from switchboard.sim.dists import Exponential, LogNormal

if TYPE_CHECKING:
    from switchboard.server.demo import DemoSettings

# Seconds at speed 1 (means and spreads of typical voice and chat work).
RING = LogNormal(mean=3.0, sd=1.5)
TALK = LogNormal(mean=25.0, sd=15.0)
WRAPUP = LogNormal(mean=6.0, sd=3.0)
TYPING = LogNormal(mean=3.0, sd=1.5)
PATIENCE = Exponential(mean=60.0)
# Not-ready reasons after a contact: (reason code, weight, how long).
BREAKS = (("break", 0.45, Exponential(mean=30.0)), ("coaching", 0.2, Exponential(mean=40.0)),
          ("training", 0.15, Exponential(mean=60.0)), ("meeting", 0.1, Exponential(mean=60.0)),
          ("lunch", 0.1, Exponential(mean=120.0)))
BREAK_CHANCE = 0.06  # after each contact, when the agent has no other
COME_BACK, COME_BACK_MAX_S = Exponential(mean=60.0), 120.0  # after a supervisor's not ready
DISPOSITIONS = ("resolved", "resolved", "resolved", "follow-up", "sale", "escalated")
WAVE_PERIOD_S, WAVE_DEPTH = 240.0, 0.45
# Now and then one queue gets SURGE times more customers than usual, for SURGE_S.
SURGE, SURGE_S, SURGE_EVERY_S, SURGE_FIRST_S = 4.0, 40.0, 150.0, 45.0
VIP_AFTER_S = 2.0  # a person's agent ready and idle this long (real seconds) gets a customer
STATUS_EVERY_S = 10.0
CLOSED = frozenset({"answered", "abandoned", "exited", "ended"})

# What chat customers write: per queue, conversations of a first message, the
# answers to the agent's messages, and a goodbye ({order}: the contact's order).
SCRIPTS: dict[str, tuple[tuple[str, ...], ...]] = {
    "sales": (("Hi! Do you deliver to Milan?", "To the city centre, yes.",
               "And how much is shipping?", "Perfect, thank you! Bye."),
              ("Is the family plan still on offer?", "We are two adults and two kids.",
               "Can I switch before the end of the month?", "Great, thanks a lot.")),
    "support": (("My router drops the connection every evening.",
                 "I restarted it already, no luck.", "The light on the front is orange.",
                 "It works now, thank you!"),
                ("The app says my password is wrong, but it isn't.",
                 "I tried twice and it locked me out.", "Yes, the e-mail on file is right.",
                 "Got the reset link, thanks.")),
    "billing": (("I was charged twice this month.", "Both on the 3rd, for order {order}.",
                 "Will the refund go back to my card?", "OK, thanks for sorting it out."),),
    HUMAN_QUEUE: (("Hello, I'm a gold member: my order {order} hasn't arrived yet.",
                   "It was due last Monday.", "Could you send it by express instead?",
                   "Perfect, thank you! Bye."),
                  ("Bonjour! I'd like to move my appointment to Friday, please.",
                   "The one on Wednesday at 10:00.", "Friday afternoon would be best.",
                   "Merci, that's all!"),
                  ("Hi, I was promised a call back about my complaint.",
                   "Nobody called yet, it's been three days.", "My number is the one on file.",
                   "OK, thanks for looking into it.")),
}
GENERIC_SCRIPTS = (("Hello, can you help me with order {order}?", "It's the one from last week.",
                    "Yes, the address is still the same.", "Thanks, that's all I needed."),)
FIRST_NAMES = ("Camille", "Giulia", "Wei", "Jean", "Sofia", "Luca", "Amelia", "Hiroshi",
               "Fatima", "Noah", "Chiara", "Lucas", "Mei", "Pierre", "Olivia", "Matteo",
               "Zhang", "Ines", "Oliver", "Alessia", "Hugo", "Yuki", "Emma", "Marco", "Lin")
LAST_NAMES = ("Martin", "Rossi", "Li", "Dupont", "Bianchi", "Smith", "Bernard", "Wang",
              "Ferrari", "Brown", "Moreau", "Chen", "Romano", "Taylor", "Laurent", "Esposito",
              "Liu", "Wilson", "Girard", "Ricci", "Zhao")
CUSTOMERS = 900  # the traffic's customers (phones in Ofcom's range for fiction)
GOLD_MEMBERS = 12  # the vip queue's customers come back: their cards show history
AGENT_LINES = ("I can see your account now; one moment please.",
               "Done: you'll get a confirmation by e-mail in a minute.",
               "Is there anything else I can help with?")


def counts_line(counts: Counter[str], waiting: int) -> str:
    """One status line from the event counts the supervisor's feed has seen."""
    parts = [f"{counts.get(k, 0)} {label}" for k, label in (
        ("arrived", "arrived"), ("offered", "offered"), ("answered", "answered"),
        ("abandoned", "abandoned"), ("ended", "ended"), ("wrapup_ended", "wrapped up"),
        ("exited", "timed out"), ("message", "chat messages"))]
    return f"demo: {', '.join(parts)}; {waiting} waiting or ringing now"


def customer(i: int) -> dict[str, str]:
    """The ``i``-th customer: a name, and a phone in the 020 7946 0000-0999 range
    that Ofcom keeps for drama (never a real line)."""
    first = FIRST_NAMES[i % len(FIRST_NAMES)]
    last = LAST_NAMES[(i // len(FIRST_NAMES) + i) % len(LAST_NAMES)]
    return {"name": f"{first} {last}", "phone": f"+44207946{i % 1000:04d}"}


@dataclass(slots=True)
class Chat:
    """A chat customer: its script, how far into it, whether a person answers."""

    lines: tuple[str, ...]
    human: bool
    said: int = 1
    order: str = ""


class Traffic:
    """The generator's tasks; :meth:`start` launches them, :meth:`stop` ends them.

    ``virtual``: (token, agent id, name) of each agent the traffic drives;
    ``started``: when the process started (``time.time()``), for the first
    routing's line."""

    def __init__(self, url: str, settings: DemoSettings, made: Provisioned, supervisor: str,
                 virtual: Sequence[tuple[str, str, str]], seed: int,
                 say: Callable[[str], None], started: float) -> None:
        self.url = url
        self.settings = settings
        self.specs = {q.name: q for q in settings.shape.queue_specs()}
        self.made = made
        self.queue_names = {qid: name for name, qid in made.queues.items()}
        shape = settings.shape
        self.agent_names = {aid: shape.agent_name(i) for i, aid in enumerate(made.agents)}
        self.humans = set(made.agents[shape.virtual:])
        self.virtual = list(virtual)
        self.supervisor = supervisor
        self.sup = {"Authorization": f"Bearer {supervisor}"}
        self.seed = seed
        self.rng = random.Random(seed)
        self.say = say
        self.started = started
        self.counts: Counter[str] = Counter()
        self.tasks: set[asyncio.Task[Any]] = set()
        self.open: set[str] = set()  # created by us, not yet answered or closed
        self.vip: set[str] = set()  # of those, the vip queue's
        self.chats: dict[str, Chat] = {}
        self.people: dict[str, tuple[str, str, float]] = {}  # agent: status, state, since
        self.routed = False
        self.feed_up = asyncio.Event()
        self.client = httpx.AsyncClient(base_url=f"{url}/api/v1", timeout=30,
                                        limits=httpx.Limits(max_connections=64))

    # ------------------------------------------------------------------ tasks
    def _spawn(self, coro: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)
        return task

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.say(f"demo: a virtual client stopped: {task.exception()!r}")

    def start(self) -> None:
        self._spawn(self._watch())
        for token, agent_id, name in self.virtual:
            self._spawn(VirtualAgent(self, token, agent_id, name).run())
        self._spawn(self._arrivals())
        self._spawn(self._people())

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

    def feed(self, token: str) -> Any:
        ws_url = self.url.replace("http://", "ws://", 1)
        return websockets.connect(f"{ws_url}/api/v1/events/ws?token={token}",
                                  ping_interval=None, max_queue=None, close_timeout=1)

    # ------------------------------------------------------------------ customers
    def rates(self, t: float) -> dict[str, float]:
        """Each queue's arrival rate (a second) ``t`` seconds of demo time after
        the start: its share of the base rate on a wave of its own phase, and
        :data:`SURGE` times more during a surge in it."""
        base = self.settings.rate / 60.0
        names = [q for q, spec in self.specs.items() if spec.share > 0]
        total = sum(self.specs[q].share for q in names)
        out = {}
        for k, q in enumerate(names):
            phase = 2 * math.pi * (t / WAVE_PERIOD_S + k / len(names))
            out[q] = base * self.specs[q].share / total * (1 + WAVE_DEPTH * math.sin(phase))
        surge = self.surge_at(t)
        if surge is not None:
            out[surge] *= 1 + SURGE
        return out

    def surge_at(self, t: float) -> str | None:
        """The queue in a surge ``t`` seconds of demo time after the start, if any."""
        k, into = divmod(t - SURGE_FIRST_S, SURGE_EVERY_S)
        if k < 0 or into >= SURGE_S:
            return None
        names = sorted(q for q, spec in self.specs.items() if spec.share > 0)
        return random.Random(self.seed * 1000 + int(k)).choice(names)

    async def _arrivals(self) -> None:
        """Poisson arrivals at rates that change with time (thinning, Lewis and
        Shedler 1979: draw at a rate above them all, keep each draw with the
        rate at that moment over it), into queues by their rate at the moment."""
        await self.feed_up.wait()
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        speed = self.settings.speed
        top = max(self.specs[q].share for q in self.specs) / sum(
            spec.share for spec in self.specs.values())
        bound = self.settings.rate / 60.0 * (1 + WAVE_DEPTH) * (1 + SURGE * top) * speed
        n = 0
        surging: str | None = None
        while True:
            await asyncio.sleep(self.rng.expovariate(bound))
            t = (loop.time() - t0) * speed
            now = self.surge_at(t)
            if now != surging and now is not None:
                self.say(f"demo: a surge of customers in {now} for the next "
                         f"{SURGE_S / speed:g} s (watch its figures on the wallboard)")
            surging = now
            rates = self.rates(t)
            total = sum(rates.values()) * speed
            if self.rng.random() * bound > total:
                continue
            n += 1
            self._spawn(self._arrive(self.rng.choices(list(rates), list(rates.values()))[0], n))

    async def _arrive(self, queue: str, n: int, channel: str | None = None) -> str | None:
        """One customer in ``queue``: the contact, a chat's first message, patience."""
        spec = self.specs[queue]
        if channel is None:
            channel = self.rng.choices([c for c, _ in spec.channels],
                                       [w for _, w in spec.channels])[0]
        human = queue == HUMAN_QUEUE
        who = CUSTOMERS + self.rng.randrange(GOLD_MEMBERS) if human \
            else self.rng.randrange(CUSTOMERS)
        order = f"A-{10_000 + n}"
        body = {"queue": self.made.queues[queue], "channel": channel,
                "priority": 1 if human or self.rng.random() < 0.1 else 0,
                "customer": customer(who),
                "attributes": {"source": "demo", "order": order}}
        r = await self.client.post("/interactions", json=body, headers=self.sup)
        if r.status_code >= 400:
            self.say(f"demo: creating a contact answered {r.status_code} {r.text[:200]}")
            return None
        it = r.json()
        iid: str = it["id"]
        if it["state"] in CLOSED:
            return iid
        self.open.add(iid)
        if human:
            self.vip.add(iid)
        if channel == "chat":
            chat = Chat(self.rng.choice(SCRIPTS.get(queue, GENERIC_SCRIPTS)), human,
                        order=order)
            self.chats[iid] = chat
            await self.customer_says(iid, chat.lines[0].format(order=order))
        self._spawn(self._patience(iid, 3.0 if human else 1.0))
        return iid

    async def customer_says(self, iid: str, text: str) -> None:
        r = await self.client.post(f"/interactions/{iid}/messages", json={"text": text},
                                   headers=self.sup)
        if r.status_code >= 400 and r.status_code != 409:  # 409: the chat ended meanwhile
            self.say(f"demo: a customer's message answered {r.status_code} {r.text[:200]}")

    async def _reply(self, iid: str) -> None:
        """The chat customer answers an agent's message with its script's next
        line (the last is a goodbye; then it writes no more)."""
        chat = self.chats.get(iid)
        if chat is None or chat.said >= len(chat.lines):
            return
        line = chat.lines[chat.said].format(order=chat.order)
        chat.said += 1
        await asyncio.sleep(TYPING.sample(self.rng) if chat.human else self.wait(TYPING))
        if iid in self.chats:
            await self.customer_says(iid, line)

    async def _patience(self, iid: str, factor: float) -> None:
        """A customer still waiting when its patience runs out hangs up."""
        await asyncio.sleep(self.wait(PATIENCE) * factor)
        if iid not in self.open:
            return
        r = await self.client.get(f"/interactions/{iid}", headers=self.sup)
        if r.is_success and r.json()["state"] == "queued":
            await self.client.post(f"/interactions/{iid}/end", headers=self.sup)

    async def _people(self) -> None:
        """A customer for the ``vip`` queue whenever one of the people's agents is
        ready and idle and none is on its way to it (two chats, then a call)."""
        await self.feed_up.wait()
        loop = asyncio.get_running_loop()
        for agent_id in self.humans:
            r = await self.client.get(f"/agents/{agent_id}", headers=self.sup)
            if r.is_success and agent_id not in self.people:
                self.people[agent_id] = (r.json()["status"], r.json()["state"], loop.time())
        n = 0
        while True:
            await asyncio.sleep(0.5)
            now = loop.time()
            free = [a for a, (status, state, since) in self.people.items()
                    if status == "ready" and state == "idle" and now - since >= VIP_AFTER_S]
            if len(free) > len(self.vip):
                n += 1
                await self._arrive(HUMAN_QUEUE, 90_000 + n, "voice" if n % 3 == 0 else "chat")

    # ------------------------------------------------------------------ the feed
    async def _watch(self) -> None:
        async with self.feed(self.supervisor) as ws:
            self.feed_up.set()
            loop = asyncio.get_running_loop()
            next_at = loop.time() + STATUS_EVERY_S
            while True:
                # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancel
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(max(0.0, next_at - loop.time())):
                        self._seen(json.loads(await ws.recv()), loop.time())
                if loop.time() >= next_at:
                    next_at += STATUS_EVERY_S
                    self.say(counts_line(self.counts, len(self.open)))

    def _seen(self, ev: dict[str, Any], now: float) -> None:
        kind = ev["kind"]
        self.counts[kind] += 1
        iid = ev.get("interaction_id")
        if kind == "offered" and not self.routed:
            self.routed = True
            queue = self.queue_names.get(ev.get("queue_id", ""), "?")
            agent = self.agent_names.get(ev.get("agent_id", ""), "?")
            self.say(f"demo: first contact routed {time.time() - self.started:.1f} s after "
                     f"the start ({queue}, to {agent})")
        if kind in CLOSED and iid is not None:
            self.open.discard(iid)
            self.vip.discard(iid)
            if kind != "answered":
                self.chats.pop(iid, None)
        elif kind == "agent_state" and ev["agent_id"] in self.humans:
            old = self.people.get(ev["agent_id"])
            if old is None or old[:2] != (ev["status"], ev["state"]):
                self.people[ev["agent_id"]] = (ev["status"], ev["state"], now)
        elif kind == "message" and iid in self.chats and ev["message"]["sender"] == "agent":
            self._spawn(self._reply(iid))


class VirtualAgent:
    """One virtual agent: its feed, and one task per contact offered to it."""

    def __init__(self, traffic: Traffic, token: str, agent_id: str, name: str) -> None:
        self.t = traffic
        self.agent_id = agent_id
        self.name = name
        self.busy: set[str] = set()
        self.chats: dict[str, int] = {}  # connected chats: how many more answers
        self.headers = {"Authorization": f"Bearer {token}"}
        self.token = token
        self.resting = False  # on a break of its own
        self.coming_back = False  # someone else set it not ready or logged it out

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.t.client.post(path, json=body or {}, headers=self.headers)

    async def run(self) -> None:
        async with self.t.feed(self.token) as ws:
            await self._leftovers()
            await self.post(f"/agents/{self.agent_id}/status", {"status": "ready"})
            async for raw in ws:
                ev = json.loads(raw)
                iid = ev.get("interaction_id")
                if ev["kind"] == "offered" and ev.get("agent_id") == self.agent_id:
                    self._take(iid)
                elif ev["kind"] == "message" and iid in self.chats \
                        and ev["message"]["sender"] == "customer" and self.chats[iid] > 0:
                    self.chats[iid] -= 1
                    self.t._spawn(self._say(iid, self.t.rng.choice(AGENT_LINES)))
                elif ev["kind"] == "agent_state" and ev.get("agent_id") == self.agent_id \
                        and ev["status"] != "ready" and not self.resting \
                        and not self.coming_back:
                    self.coming_back = True
                    self.t._spawn(self._come_back())

    async def _come_back(self) -> None:
        """Set not ready or logged out by a supervisor (or after missed offers):
        back to ready a while later, so that the demo keeps its agents."""
        try:
            await asyncio.sleep(min(COME_BACK.sample(self.t.rng), COME_BACK_MAX_S)
                                / self.t.settings.speed)
            await self.post(f"/agents/{self.agent_id}/status", {"status": "ready"})
        finally:
            self.coming_back = False

    def _take(self, iid: str) -> None:
        if iid not in self.busy:
            self.busy.add(iid)
            self.t._spawn(self._handle(iid))

    async def _leftovers(self) -> None:
        """What an earlier run left with this agent: offers are taken, contacts
        ended and wrapped up."""
        r = await self.t.client.get(f"/agents/{self.agent_id}", headers=self.headers)
        if not r.is_success:
            return
        snap = r.json()
        for iid in snap.get("offers", []):
            self._take(iid)
        for iid in snap.get("contacts", []):
            await self.post(f"/interactions/{iid}/end")
            await self.post(f"/interactions/{iid}/wrapup", {"disposition": "follow-up"})
        for iid in snap.get("wrapups", []):
            await self.post(f"/interactions/{iid}/wrapup", {"disposition": "follow-up"})

    async def _say(self, iid: str, text: str) -> None:
        await asyncio.sleep(self.t.wait(TYPING))
        if iid in self.chats:
            await self.post(f"/interactions/{iid}/messages", {"text": text})

    async def _handle(self, iid: str) -> None:
        t = self.t
        try:
            await asyncio.sleep(t.wait(RING))
            r = await self.post(f"/interactions/{iid}/accept")
            if not r.is_success:
                return  # the offer timed out, was withdrawn or taken by another
            if r.json().get("channel") == "chat":
                self.chats[iid] = 2
                t._spawn(self._say(iid, f"Hi, this is {self.name}. {AGENT_LINES[0]}"))
            await asyncio.sleep(t.wait(TALK))
            self.chats.pop(iid, None)
            await self.post(f"/interactions/{iid}/end")  # refused if the customer left first
            await asyncio.sleep(t.wait(WRAPUP))
            await self.post(f"/interactions/{iid}/wrapup",
                            {"disposition": t.rng.choice(DISPOSITIONS)})
        finally:
            self.busy.discard(iid)
            self.chats.pop(iid, None)
        if not self.busy and not self.coming_back and t.rng.random() < BREAK_CHANCE:
            reason, _, dist = t.rng.choices(BREAKS, [w for _, w, _ in BREAKS])[0]
            status = f"/agents/{self.agent_id}/status"
            self.resting = True
            try:
                await self.post(status, {"status": "not_ready", "reason": reason})
                await asyncio.sleep(t.wait(dist))
                await self.post(status, {"status": "ready"})
            finally:
                self.resting = False
