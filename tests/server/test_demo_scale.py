"""Demo mode at size: ``serve --demo --demo-agents 200 --demo-queues 20`` starts,
routes into every queue, and says how long after the start its first contact
was routed (printed, never asserted: the machine is shared)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from switchboard.server.demo_tenant import Shape
from tests.server.test_demo import Demo, wait_for

pytestmark = pytest.mark.slow


def test_a_demo_of_200_agents_in_20_queues_starts_and_routes(tmp_path: Path) -> None:
    db = tmp_path / "big.db"
    demo = Demo(tmp_path, "--demo-agents", "200", "--demo-queues", "20", "--demo-db", str(db))
    try:
        printed, seen_s = demo.first_routed()
        print(f"\ndemo (200 agents, 20 queues): first contact routed {printed:.1f} s after the "
              f"process started (the test saw the line after {seen_s:.1f} s)")
        assert demo.roles == {"demo-supervisor": "supervisor", "demo-sam": "agent",
                              "demo-tara": "agent", "demo-admin": "admin"}
        shape = Shape(agents=200, queues=20)
        with demo.client("demo-supervisor") as sup:
            queues = {q["id"]: q for q in sup.get("/queues").json()}
            assert sorted(q["name"] for q in queues.values()) == \
                sorted(q.name for q in shape.queue_specs())
            strategies = Counter(q["strategy"] for q in queues.values())
            assert len(strategies) == 9  # every routing strategy is on some queue
            agents = sup.get("/agents").json()
            assert len(agents) == 200

            def present() -> int:
                return sum(a["status"] != "offline" for a in sup.get("/agents").json())

            assert wait_for(lambda: present() >= 190, 60), present()  # the virtual agents
            regular = {qid for qid, q in queues.items() if q["name"] != "vip"}
            answered: set[str] = set()
            started = time.monotonic()

            def every_queue_answered() -> bool:
                board = sup.get("/wallboard", params={"include": "queues"}).json()
                answered.update(q["id"] for q in board["queues"] if q["today"]["answered"])
                return regular <= answered

            assert wait_for(every_queue_answered, 150), \
                sorted(queues[q]["name"] for q in regular - answered)
            print(f"every one of the 19 traffic queues had an answered contact "
                  f"{time.monotonic() - started:.0f} s later")
            people = [a for a in sup.get("/agents").json() if a["name"] in ("Sam", "Tara")]
            assert [a["status"] for a in people] == ["offline", "offline"]  # left to the person
    finally:
        assert demo.stop() == 0, demo.text()[-3000:]
    assert "a virtual client stopped" not in demo.text(), demo.text()[-3000:]
    # a smaller size on this database is refused (it names the size that fits)
    demo_small = tmp_path / "small"
    demo_small.mkdir()
    r = subprocess.run([sys.executable, "-m", "switchboard.cli", "serve", "--demo",
                        "--demo-db", str(db)], cwd=demo_small, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2
    assert r.stderr.startswith(f"error: demo-agents: {db} holds a demo of 200 agents and 20 "
                               "queues: start it with --demo-agents 200 --demo-queues 20"), r.stderr
