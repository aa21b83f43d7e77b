"""A post-call CSAT survey with real peers: a sipp caller reaches a sipp agent
through the menu, the agent hangs up first, the caller keys a score; the
score is in the event log and in the queue report's CSAT."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.voice.harness import TENANT, telephony
from tests.voice.peers import (
    Sipp,
    SippPhone,
    caller_scenario,
    need_peers,
    phone_scenario,
    write_tone,
)

pytestmark = [pytest.mark.slow, pytest.mark.voice]


def test_the_caller_keys_a_score_after_the_agent_hangs_up(tmp_path: Path) -> None:
    need_peers()
    tone = write_tone(tmp_path / "tone.al", 400, 2)
    agent = SippPhone(tmp_path / "ada", phone_scenario(tmp_path / "ada.xml", "hangup",
                                                       voice=tone, hangup_after_ms=2000))
    voice = write_tone(tmp_path / "caller.al", 500, 2)
    # 1 in the menu; 4 well after the agent's BYE (the survey prompt takes keys)
    scenario = caller_scenario(tmp_path / "caller.xml", keys="14", voice=voice,
                               between_keys_ms=7000, talk_ms=0, they_hang_up=True)

    async def main() -> None:
        agent.start()
        try:
            phones = {"ada": {"tenant": TENANT, "agent": "ada", "address": agent.address}}
            async with telephony(tmp_path, phones=phones, flow="survey.yaml") as h:
                h.ready("ada")
                caller = Sipp(tmp_path / "caller", scenario, h.sip_port, "100")
                caller.start()
                try:
                    answered = await h.wait_event("answered", 20)
                    iid = answered["interaction_id"]
                    ended = await h.wait_event("ended", 15, lambda ev: ev["interaction_id"] == iid)
                    assert ended["by"] == "agent"
                    survey = await h.wait_event("survey_answered", 20,
                                                lambda ev: ev["interaction_id"] == iid)
                    assert (survey["survey"], survey["score"]) == ("csat", 4)
                    assert survey["at"] > ended["at"]
                    rc = await asyncio.to_thread(caller.wait, 30)  # thanked, then our BYE
                    assert rc == 0, caller.errors()
                    rc = await asyncio.to_thread(agent.wait, 20)
                    assert rc == 0, agent.errors()
                    kinds = [ev["kind"] for ev in h.events(iid)]
                    assert kinds.index("survey_answered") > kinds.index("ended")
                    row = next(r for r in h.cdr() if r.id == iid)
                    assert row.csat == 4
                    sales = next(r for r in h.report() if r["key"] == "sales")
                    assert sales["answered"] == 1 and sales["csat"] == 1.0  # 4 counts as satisfied
                finally:
                    caller.kill()
        finally:
            agent.kill()

    asyncio.run(main())
