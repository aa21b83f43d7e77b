"""The demo tenant's shape and its set-up through the API.

:class:`Shape` says what a demo of ``agents`` agents and ``queues`` queues
holds; :func:`provision` creates, through the public API as an admin, what the
``demo`` tenant lacks of it: queues (one routing strategy, skill, channel mix
and extra rule each), agents with skills at varied levels, reason codes,
dispositions, business hours and holidays, and wallboard thresholds (amber and
red) on every queue. What an admin changed in the demo stays, except the demo
agents' skills, which every start resets to the shape's (so that the traffic
finds the agents it expects).

The last queue, ``vip``, is served by the two agents left to the person trying
the demo (its ``members``), and by no one else; the traffic sends a customer
there whenever one of them is ready and idle (:mod:`switchboard.server.demo_traffic`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from switchboard.domain.errors import ValidationError

MIN_AGENTS, MAX_AGENTS = 3, 1000
MIN_QUEUES, MAX_QUEUES = 2, 100
DEFAULT_AGENTS, DEFAULT_QUEUES = 20, 4
HUMAN_AGENTS = 2  # the last two agents are not driven: their logins are printed
HUMAN_QUEUE = "vip"

AGENT_NAMES = ("Ada", "Ben", "Chloe", "Dev", "Elif", "Farid", "Grace", "Hugo", "Ines", "Jonas",
               "Kemi", "Liam", "Mei", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sam", "Tara",
               "Umar", "Vera", "Wen", "Xavi", "Yara", "Zoe", "Aiko", "Bruno", "Carla", "Dario",
               "Emma", "Femi", "Giulia", "Hana", "Igor", "Julie", "Karim", "Lena", "Marco",
               "Nadia", "Omar", "Paola", "Raj", "Sofia", "Theo", "Ugo", "Vikram", "Yusuf")
HUMAN_NAMES = ("Sam", "Tara")
VIRTUAL_NAMES = tuple(n for n in AGENT_NAMES if n not in HUMAN_NAMES)
REASON_CODES = (("break", "Break"), ("lunch", "Lunch"), ("training", "Training"),
                ("coaching", "Coaching"), ("meeting", "Team meeting"))
DISPOSITIONS = (("resolved", "Resolved"), ("follow-up", "Follow-up needed"),
                ("sale", "Sale made"), ("escalated", "Escalated"),
                ("wrong-queue", "Wrong queue"))
# Levels that turn a figure amber or red on the wallboard (rates are fractions).
THRESHOLDS: dict[str, dict[str, float]] = {
    "service_level": {"amber": 0.8, "red": 0.6}, "asa_s": {"amber": 10.0, "red": 25.0},
    "abandon_rate": {"amber": 0.05, "red": 0.1}, "longest_wait_s": {"amber": 15.0, "red": 40.0},
    "waiting": {"amber": 2.0, "red": 5.0}}
TENANT_HOURS = {"name": "contact-center", "weekly": {
    d: ["08:00-20:00"] for d in ("mon", "tue", "wed", "thu", "fri")} | {"sat": ["09:00-13:00"]}}
BILLING_HOURS = {"name": "billing-desk", "weekly": {
    d: ["09:00-17:00"] for d in ("mon", "tue", "wed", "thu", "fri")}}
HOLIDAYS: tuple[tuple[str, str, list[str]], ...] = (
    ("01-01", "New Year's Day", []), ("12-24", "Christmas Eve", ["09:00-13:00"]),
    ("12-25", "Christmas Day", []))
_BASE = {"wrapup_s": 30.0, "ring_timeout_s": 15.0}


@dataclass(frozen=True, slots=True)
class QueueSpec:
    """One demo queue: ``skill`` (None: members only), its contacts' channel mix,
    its share of the arrivals and the ``POST /queues`` fields beyond the name."""

    name: str
    strategy: str
    skill: str | None
    channels: tuple[tuple[str, float], ...]
    share: float
    settings: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        skills = {self.skill: 1} if self.skill else {}
        return {"name": self.name, "strategy": self.strategy, "skills": skills,
                **_BASE, **self.settings}


BASE_QUEUES = (
    QueueSpec("sales", "longest_idle", "sales", (("voice", 0.8), ("chat", 0.2)), 0.4),
    QueueSpec("support", "best_skill", "support",
              (("chat", 0.7), ("voice", 0.2), ("email", 0.1)), 0.4),
    QueueSpec("billing", "round_robin", "billing", (("voice", 0.7), ("email", 0.3)), 0.2,
              {"timeout_s": 300.0}),
)
# More queues for bigger demos: (name, channel mix); strategies and extra rules
# cycle so that every strategy and rule is on some queue.
MORE_QUEUES = (
    ("technical", (("voice", 0.5), ("chat", 0.5))), ("returns", (("chat", 0.6), ("email", 0.4))),
    ("renewals", (("voice", 1.0),)), ("claims", (("voice", 0.6), ("email", 0.4))),
    ("orders", (("chat", 0.7), ("voice", 0.3))), ("shipping", (("chat", 1.0),)),
    ("accounts", (("voice", 0.7), ("chat", 0.3))), ("loyalty", (("voice", 1.0),)),
    ("onboarding", (("chat", 0.5), ("voice", 0.5))),
    ("complaints", (("email", 0.5), ("voice", 0.5))), ("partners", (("voice", 0.8),
                                                                     ("email", 0.2))),
    ("warranty", (("chat", 0.6), ("voice", 0.4))), ("payments", (("voice", 0.7), ("chat", 0.3))),
    ("retention", (("voice", 1.0),)), ("outages", (("chat", 0.5), ("voice", 0.5))),
    ("appointments", (("voice", 0.6), ("sms", 0.4))), ("sales-it", (("voice", 1.0),)),
    ("support-fr", (("chat", 0.6), ("voice", 0.4))), ("support-zh", (("chat", 1.0),)),
)
STRATEGY_CYCLE = ("least_occupied", "fewest_handled", "linear", "random", "weighted_random",
                  "ring_all", "longest_idle", "best_skill", "round_robin")


def virtual_name(i: int) -> str:
    """The ``i``-th virtual agent's name (Ada, Ben, ..., then Ada 2, Ben 2, ...)."""
    n = len(VIRTUAL_NAMES)
    return VIRTUAL_NAMES[i] if i < n else f"{VIRTUAL_NAMES[i % n]} {i // n + 1}"


def _more_queue(k: int) -> QueueSpec:
    """The ``k``-th queue beyond the base ones."""
    name, channels = MORE_QUEUES[k] if k < len(MORE_QUEUES) else (f"queue-{k + 4}",
                                                                 (("voice", 0.6), ("chat", 0.4)))
    rule = k % 4
    settings: dict[str, Any] = {}
    if rule == 0:
        settings = {"timeout_s": 300.0}
    elif rule == 1:
        settings = {"priority_aging_s": 30.0}
    elif rule == 2:  # bullseye: skilled agents first, anyone with the skill after 30 s
        settings = {"skills": {name: 6}, "steps": [{"after_s": 30.0, "skills": {name: 1}}]}
    else:
        settings = {"overflow": [{"to_queue": "support", "after_s": 120.0}]}  # a name here
    return QueueSpec(name, STRATEGY_CYCLE[k % len(STRATEGY_CYCLE)], name, channels,
                     0.3 / (1 + k % 4), settings)


@dataclass(frozen=True, slots=True)
class Shape:
    """How big the demo is: ``agents`` agents (the last :data:`HUMAN_AGENTS` left to
    the person), ``queues`` queues (the last is :data:`HUMAN_QUEUE`)."""

    agents: int = DEFAULT_AGENTS
    queues: int = DEFAULT_QUEUES

    def __post_init__(self) -> None:
        for name, value, lo, hi, default in (
                ("demo-agents", self.agents, MIN_AGENTS, MAX_AGENTS, DEFAULT_AGENTS),
                ("demo-queues", self.queues, MIN_QUEUES, MAX_QUEUES, DEFAULT_QUEUES)):
            if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
                raise ValidationError(f"must be a whole number from {lo} to {hi} "
                                      f"(default {default})", field=name)
        if self.virtual < self.queues - 1:
            raise ValidationError(
                f"{self.agents} agents are too few for {self.queues} queues: two agents are "
                f"left to you, and each of the other {self.queues - 1} queues needs a virtual "
                f"agent; give --demo-agents {self.queues + 1} or more, or fewer --demo-queues",
                field="demo-agents")

    @property
    def virtual(self) -> int:
        """How many agents the traffic drives (the first ones)."""
        return self.agents - HUMAN_AGENTS

    def queue_specs(self) -> list[QueueSpec]:
        """The traffic's queues, then :data:`HUMAN_QUEUE`."""
        regular = list(BASE_QUEUES[:self.queues - 1])
        regular += [_more_queue(k) for k in range(max(0, self.queues - 1 - len(BASE_QUEUES)))]
        vip = QueueSpec(HUMAN_QUEUE, "linear", None, (("chat", 2 / 3), ("voice", 1 / 3)), 0.0,
                        {"ring_timeout_s": 30.0, "wrapup_s": 120.0, "weight": 10})
        return [*regular, vip]

    def agent_name(self, i: int) -> str:
        """Agent ``i``'s name: the people's are Sam and Tara whatever the size."""
        if self.is_human(i):
            return HUMAN_NAMES[i - self.virtual]
        return virtual_name(i)

    def username(self, i: int) -> str:
        return "demo-" + self.agent_name(i).lower().replace(" ", "-")

    def is_human(self, i: int) -> bool:
        return i >= self.virtual

    def agent_skills(self, i: int) -> dict[str, int]:
        """Virtual agent ``i``'s skills: the skills of two or three neighbouring
        queues at levels 2 to 9 (every queue gets agents); none for the humans."""
        if self.is_human(i):
            return {}
        skills = [q.skill for q in self.queue_specs() if q.skill]
        r = len(skills)
        picks = [i % r, (i + 1) % r] + ([(i + r // 2) % r] if r >= 6 else [])
        levels = (2 + (i * 3) % 8, 3 + (i * 5) % 7, 4 + (i * 2) % 6)
        return {skills[k]: levels[j] for j, k in enumerate(dict.fromkeys(picks))}


@dataclass(slots=True)
class Provisioned:
    """What :func:`provision` found or made: queue ids by name, agent ids by index."""

    queues: dict[str, str]
    agents: list[str]


def _ok(r: httpx.Response) -> Any:
    if r.status_code >= 400:
        raise RuntimeError(f"demo setup: {r.request.method} {r.request.url.path} answered "
                           f"{r.status_code} {r.text[:300]}")
    return r.json() if r.content else None


async def provision(api: httpx.AsyncClient, shape: Shape) -> Provisioned:
    """Create through the API (``api`` carries an admin's token) whatever the
    demo tenant lacks of ``shape``; reset the demo agents' skills to the shape's."""
    await _codes(api)
    have_a = {a["name"]: a for a in _ok(await api.get("/agents"))}
    sem = asyncio.Semaphore(8)

    async def agent(i: int) -> str:
        name, skills = shape.agent_name(i), shape.agent_skills(i)
        async with sem:
            old = have_a.get(name)
            if old is None:
                made: str = _ok(await api.post("/agents", json={"name": name,
                                                                "skills": skills}))["id"]
                return made
            if old["skills"] != skills:
                _ok(await api.patch(f"/agents/{old['id']}", json={"skills": skills}))
            return str(old["id"])

    agents = list(await asyncio.gather(*(agent(i) for i in range(shape.agents))))
    humans = agents[shape.virtual:]
    have_q = {q["name"]: q for q in _ok(await api.get("/queues"))}
    queues: dict[str, str] = {}
    for spec in shape.queue_specs():
        body = spec.body()
        if spec.skill is None:
            body["members"] = humans
        body["overflow"] = [{**rule, "to_queue": queues[rule["to_queue"]]}
                            for rule in body.get("overflow", [])]  # names to ids
        old = have_q.get(spec.name)
        if old is None:
            queues[spec.name] = _ok(await api.post("/queues", json=body))["id"]
            continue
        queues[spec.name] = old["id"]
        if spec.skill is None and old.get("members") != humans:
            _ok(await api.patch(f"/queues/{old['id']}", json={"members": humans}))
    await asyncio.gather(*(_thresholds(api, qid) for qid in queues.values()))
    await _hours(api, queues.get("billing"))
    return Provisioned(queues, agents)


async def _codes(api: httpx.AsyncClient) -> None:
    for path, codes in (("/reason-codes", REASON_CODES), ("/dispositions", DISPOSITIONS)):
        have = {c["code"] for c in _ok(await api.get(path))}
        for code, label in codes:
            if code not in have:
                _ok(await api.post(path, json={"code": code, "label": label}))


async def _thresholds(api: httpx.AsyncClient, queue_id: str) -> None:
    """The demo's thresholds on a queue that has none yet."""
    now = _ok(await api.get(f"/queues/{queue_id}/thresholds"))
    if all(now.get(f) is None for f in THRESHOLDS):
        _ok(await api.put(f"/queues/{queue_id}/thresholds", json=THRESHOLDS))


async def _hours(api: httpx.AsyncClient, billing: str | None) -> None:
    """The tenant's opening hours (and billing's own), and this year's and next
    year's holidays. (Contacts created through the API are not held to them;
    an IVR flow's hours step is.)"""
    have = {h["name"]: h for h in _ok(await api.get("/business-hours"))}
    if TENANT_HOURS["name"] not in have:
        _ok(await api.post("/business-hours", json=TENANT_HOURS))
    if billing is not None and BILLING_HOURS["name"] not in have:
        _ok(await api.post("/business-hours", json={**BILLING_HOURS, "queue": billing}))
    days = {h["date"] for h in _ok(await api.get("/holidays"))}
    year = date.today().year
    for y in (year, year + 1):
        for day, name, hours in HOLIDAYS:
            if f"{y}-{day}" not in days:
                _ok(await api.post("/holidays", json={"date": f"{y}-{day}", "name": name,
                                                      "hours": hours}))
