"""Demo mode's shape, banner and size check, without a server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from switchboard.domain.enums import Strategy
from switchboard.domain.errors import ConfigError, ValidationError
from switchboard.domain.model import AgentConfig, QueueConfig
from switchboard.server import demo
from switchboard.server.demo_tenant import HUMAN_QUEUE, Shape
from switchboard.store import repo
from switchboard.store.db import migrate, open_db
from tests.server.test_demo import LOGIN, URL


@pytest.mark.parametrize(("agents", "queues"), [(20, 4), (3, 2), (5, 4), (200, 20), (60, 23),
                                                (1000, 100)])
def test_every_queue_has_virtual_agents_and_the_people_serve_only_vip(agents: int,
                                                                      queues: int) -> None:
    shape = Shape(agents=agents, queues=queues)
    specs = shape.queue_specs()
    assert len(specs) == queues and specs[-1].name == HUMAN_QUEUE
    assert len({q.name for q in specs}) == queues
    names = [shape.agent_name(i) for i in range(agents)]
    assert len(set(names)) == agents and names[-2:] == ["Sam", "Tara"]
    assert len({shape.username(i) for i in range(agents)}) == agents
    for q in specs[:-1]:
        minimum = q.body()["skills"][q.skill]
        # who may take its contacts at once (bullseye queues: after their step, anyone)
        served = [i for i in range(shape.virtual) if shape.agent_skills(i).get(q.skill, 0) >= 1]
        assert served, q.name
        assert any(shape.agent_skills(i).get(q.skill, 0) >= minimum for i in served) \
            or q.settings.get("steps"), q.name
    assert [shape.agent_skills(i) for i in range(shape.virtual, agents)] == [{}, {}]
    assert all(1 <= lvl <= 10 for i in range(agents) for lvl in shape.agent_skills(i).values())


def test_the_big_demo_uses_every_strategy_channel_and_rule() -> None:
    specs = Shape(agents=200, queues=20).queue_specs()
    assert {q.strategy for q in specs} == {s.value for s in Strategy}
    assert {c for q in specs for c, _ in q.channels} == {"voice", "chat", "email", "sms"}
    rules = {k for q in specs for k in q.settings}
    assert {"timeout_s", "priority_aging_s", "steps", "overflow"} <= rules
    # the queues the traffic uses can be built as the API builds them
    for q in specs:
        body = {k: v for k, v in q.body().items() if k not in ("overflow", "steps")}
        QueueConfig(id=q.name, **body)


def test_shapes_that_cannot_work_are_refused_with_what_to_do() -> None:
    with pytest.raises(ValidationError) as err:
        Shape(agents=10, queues=10)
    assert err.value.field == "demo-agents" and "--demo-agents 11" in err.value.message
    with pytest.raises(ValidationError, match="from 2 to 100"):
        Shape(queues=101)
    with pytest.raises(ValidationError, match="whole number"):
        Shape(agents=True)


def test_the_banner_says_where_and_who_in_a_few_lines() -> None:
    settings = demo.DemoSettings()
    logins = demo.demo_logins(settings.shape)
    text = demo.banner("http://127.0.0.1:8080", logins, settings)
    lines = text.splitlines()
    assert len(lines) <= 10 and max(len(line) for line in lines) <= 110
    url = URL.search(text)
    assert url is not None and url[1] == "http://127.0.0.1:8080"
    shown = {m[0]: (m[1], m[2]) for m in LOGIN.findall(text)}
    passwords = {lg.username: lg.password for lg in logins}
    assert {u: role for u, (_, role) in shown.items()} == {
        "demo-supervisor": "supervisor", "demo-sam": "agent", "demo-tara": "agent",
        "demo-admin": "admin"}
    assert all(pw == passwords[u] and len(pw) >= 8 for u, (pw, _) in shown.items())
    assert "wallboard" in text and "agent desktop" in text and "administration" in text
    # the virtual agents get no password at all
    assert sum(1 for lg in logins if lg.password) == 4


def test_a_database_with_a_bigger_demo_is_refused_unchanged(tmp_path: Path) -> None:
    settings = demo.DemoSettings(shape=Shape(agents=30, queues=6),
                                 db_path=str(tmp_path / "d.db"))
    db = open_db(f"sqlite:///{settings.path}")
    try:
        migrate(db)
        demo.ensure_tenant(db)
        demo.check_size(db, settings)  # empty: fine
        big = Shape(agents=40, queues=8)
        with db.begin() as conn:
            for i in range(big.agents):
                repo.insert_agent(conn, demo.TENANT, AgentConfig(
                    id=f"a{i}", name=big.agent_name(i)), time.time())
            for q in big.queue_specs():
                repo.insert_queue(conn, demo.TENANT, QueueConfig(id=q.name, name=q.name),
                                  time.time())
            repo.insert_agent(conn, demo.TENANT, AgentConfig(id="x", name="Made by hand"),
                              time.time())
        with pytest.raises(ConfigError) as err:
            demo.check_size(db, settings)
        assert err.value.field == "demo-agents"
        assert err.value.message.startswith(
            f"{settings.path} holds a demo of 40 agents and 8 queues: start it with "
            "--demo-agents 40 --demo-queues 8")
        demo.check_size(db, demo.DemoSettings(shape=big))  # the same size: fine
        demo.check_size(db, demo.DemoSettings(shape=Shape(agents=50, queues=9)))  # bigger
    finally:
        db.dispose()
