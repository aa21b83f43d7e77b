"""Call control with real SIP peers: ring no answer, a declining phone, blind
transfer, the agent hanging up first, abandon in queue, a vanished caller.

Agents' phones are sipp UAS processes at fixed addresses (each plays one
behaviour: answer, never answer, busy, hang up); callers are sipp clients.
Every step must show in the event log."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from switchboard.domain import commands as c
from tests.voice.harness import TENANT, Harness, telephony
from tests.voice.peers import (
    Sipp,
    SippPhone,
    caller_scenario,
    need_peers,
    phone_scenario,
    write_tone,
)

pytestmark = [pytest.mark.slow, pytest.mark.voice]


def phones(tmp: Path, modes: dict[str, str], voice: Path) -> dict[str, SippPhone]:
    out = {}
    for agent, spec in modes.items():
        mode, _, reinvites = spec.partition("+")  # "answer+1": one re-INVITE expected
        scenario = phone_scenario(tmp / f"{agent}-{mode}.xml", mode, voice=voice,
                                  reinvites=int(reinvites or 0))
        out[agent] = SippPhone(tmp / agent, scenario)
    return out


def phone_config(sipp_phones: dict[str, SippPhone]) -> dict[str, Any]:
    return {name: {"tenant": TENANT, "agent": name, "address": p.address}
            for name, p in sipp_phones.items()}


def kinds(h: Harness, iid: str) -> list[tuple[str, str | None]]:
    return [(ev["kind"], ev.get("agent_id")) for ev in h.events(iid)
            if ev["kind"] not in ("agent_state", "ivr_input")]


def run(tmp: Path, modes: dict[str, str], body: Callable[..., Any], *,
        queue: dict[str, Any] | None = None, voice: dict[str, Any] | None = None) -> Any:
    need_peers()
    tone = write_tone(tmp / "tone.al", 400, 2)
    sipp_phones = phones(tmp, modes, tone)

    async def main() -> Any:
        for p in sipp_phones.values():
            p.start()
        try:
            async with telephony(tmp, agents=tuple(modes), phones=phone_config(sipp_phones),
                                 queue=queue, voice=voice) as h:
                return await body(h, sipp_phones)
        finally:
            for p in sipp_phones.values():
                p.kill()

    return asyncio.run(main())


def start_caller(tmp: Path, h: Harness, **kw: Any) -> Sipp:
    voice = write_tone(tmp / "caller.al", 500, 2)
    scenario = caller_scenario(tmp / "caller.xml", keys="1", voice=voice, **kw)
    caller = Sipp(tmp / "caller", scenario, h.sip_port, "100")
    caller.start()
    return caller


async def finish(caller: Sipp, *others: SippPhone) -> None:
    rc = await asyncio.to_thread(caller.wait, 60)
    assert rc == 0, caller.errors()
    for phone in others:
        rc = await asyncio.to_thread(phone.wait, 20)
        assert rc == 0, phone.errors()


def test_ring_no_answer_puts_the_call_back_and_the_next_agent_answers(tmp_path: Path) -> None:
    async def body(h: Harness, p: dict[str, SippPhone]) -> None:
        h.ready("ben")  # ben's phone rings and is never answered
        caller = start_caller(tmp_path, h, talk_ms=9000)
        enq = await h.wait_event("enqueued", 20)
        iid = enq["interaction_id"]
        await h.wait_event("offered", 10, lambda ev: ev["agent_id"] == "ben")
        h.ready("ada")
        await h.wait_event("offer_timeout", 10, lambda ev: ev["agent_id"] == "ben")
        await h.wait_event("answered", 10, lambda ev: ev["agent_id"] == "ada")
        await finish(caller, p["ben"], p["ada"])
        await h.wait_event("ended", 10)
        assert kinds(h, iid) == [
            ("arrived", None), ("enqueued", None), ("offered", "ben"),
            ("offer_timeout", "ben"), ("offered", "ada"), ("answered", "ada"),
            ("ended", "ada"), ("wrapup_ended", "ada")]

    run(tmp_path, {"ben": "noanswer", "ada": "answer"}, body, queue={"ring_timeout_s": 3.0})


def test_a_busy_phone_declines_and_the_next_agent_answers(tmp_path: Path) -> None:
    async def body(h: Harness, p: dict[str, SippPhone]) -> None:
        h.ready("ben")
        caller = start_caller(tmp_path, h, talk_ms=5000)
        enq = await h.wait_event("enqueued", 20)
        await h.wait_event("offered", 10, lambda ev: ev["agent_id"] == "ben")
        h.ready("ada")
        await h.wait_event("offer_rejected", 10, lambda ev: ev["agent_id"] == "ben")
        await h.wait_event("answered", 10, lambda ev: ev["agent_id"] == "ada")
        await finish(caller, p["ben"], p["ada"])
        await h.wait_event("ended", 10)
        assert ("offer_rejected", "ben") in kinds(h, enq["interaction_id"])

    run(tmp_path, {"ben": "busy", "ada": "answer"}, body, queue={"ring_timeout_s": 20.0})


def test_blind_transfer_moves_the_caller_to_another_agents_phone(tmp_path: Path) -> None:
    async def body(h: Harness, p: dict[str, SippPhone]) -> None:
        h.ready("ada")
        caller = start_caller(tmp_path, h, talk_ms=10_000)
        enq = await h.wait_event("enqueued", 20)
        iid = enq["interaction_id"]
        await h.wait_event("answered", 10, lambda ev: ev["agent_id"] == "ada")
        h.ready("ben")
        await asyncio.sleep(1.0)
        h.runtime.execute(TENANT, c.Transfer(interaction_id=iid, to_agent="ben", mode="blind"))
        await h.wait_event("answered", 10, lambda ev: ev["agent_id"] == "ben")
        rc = await asyncio.to_thread(p["ada"].wait, 10)  # ada's phone got its BYE
        assert rc == 0, p["ada"].errors()
        await finish(caller, p["ben"])
        ended = await h.wait_event("ended", 10)
        assert ended["agent_id"] == "ben" and ended["by"] == "customer"
        steps = [k for k in kinds(h, iid) if k[0] != "wrapup_ended"]
        assert steps[-5:] == [
            ("answered", "ada"), ("transferred", "ada"), ("offered", "ben"),
            ("answered", "ben"), ("ended", "ben")]

    run(tmp_path, {"ada": "answer", "ben": "answer"}, body)


def test_the_agent_hanging_up_ends_the_caller_and_starts_wrap_up(tmp_path: Path) -> None:
    async def body(h: Harness, p: dict[str, SippPhone]) -> None:
        h.ready("ada")
        caller = start_caller(tmp_path, h, talk_ms=0, they_hang_up=True)
        await h.wait_event("answered", 20, lambda ev: ev["agent_id"] == "ada")
        ended = await h.wait_event("ended", 15)
        assert ended["by"] == "agent" and ended["wrapup_until"] > ended["at"]
        await finish(caller, p["ada"])  # the caller got Switchboard's BYE
        assert h.runtime.engine(TENANT).agent("ada")["state"] == "wrapup"

    run(tmp_path, {"ada": "hangup"}, body, queue={"wrapup_s": 30.0})


def test_a_caller_who_hangs_up_in_the_queue_is_an_abandon(tmp_path: Path) -> None:
    async def body(h: Harness, p: dict[str, SippPhone]) -> None:
        caller = start_caller(tmp_path, h, talk_ms=2500)  # nobody is ready
        enq = await h.wait_event("enqueued", 20)
        await finish(caller)
        abandoned = await h.wait_event("abandoned", 10)
        assert abandoned["interaction_id"] == enq["interaction_id"]
        assert abandoned["reason"] == "customer_hangup" and abandoned["wait_s"] > 1
        assert h.stats["answered"] == 0 and not h.service.calls.calls  # type: ignore[union-attr]

    run(tmp_path, {"ada": "answer"}, body)


def test_a_caller_who_vanishes_without_bye_is_reaped(tmp_path: Path) -> None:
    async def body(h: Harness, p: dict[str, SippPhone]) -> None:
        caller = start_caller(tmp_path, h, talk_ms=60_000)
        enq = await h.wait_event("enqueued", 20)
        caller.kill()  # no BYE: the in-dialog OPTIONS go unanswered
        abandoned = await h.wait_event("abandoned", 15)
        assert abandoned["interaction_id"] == enq["interaction_id"]
        await h.until(lambda: not h.service.calls.calls, 5, "the call to be forgotten")  # type: ignore[union-attr]

    run(tmp_path, {"ada": "answer"}, body, voice={"reap": {"every_s": 1.0, "after_s": 1.5}})


def test_warm_transfer_consults_then_hands_the_caller_over(tmp_path: Path) -> None:
    async def body(h: Harness, p: dict[str, SippPhone]) -> None:
        h.ready("ada")
        caller = start_caller(tmp_path, h, talk_ms=14_000)
        enq = await h.wait_event("enqueued", 20)
        iid = enq["interaction_id"]
        await h.wait_event("answered", 10, lambda ev: ev["agent_id"] == "ada")
        h.ready("ben")
        await asyncio.sleep(0.5)
        h.runtime.execute(TENANT, c.Transfer(interaction_id=iid, to_agent="ben", mode="warm"))
        # ben's phone rings with the consultation; when it answers, ada's phone
        # is re-INVITEd onto the consultation (ben joins), the caller holds.
        await h.wait_event("conference_joined", 10, lambda ev: ev["agent_id"] == "ben")
        await asyncio.sleep(1.5)
        h.runtime.execute(TENANT, c.CompleteTransfer(interaction_id=iid))
        await h.wait_event("transferred", 10, lambda ev: ev.get("mode") == "warm")
        rc = await asyncio.to_thread(p["ada"].wait, 15)  # re-INVITE, then BYE
        assert rc == 0, p["ada"].errors()
        await finish(caller, p["ben"])  # ben: consultation, re-INVITE to the caller, BYE
        ended = await h.wait_event("ended", 10)
        assert ended["agent_id"] == "ben"
        steps = [k for k in kinds(h, iid) if k[0] in (
            "answered", "held", "transfer_started", "offered", "conference_joined",
            "resumed", "transferred", "ended")]
        assert steps == [
            ("offered", "ada"), ("answered", "ada"), ("held", "ada"),
            ("transfer_started", "ada"), ("offered", "ben"), ("conference_joined", "ben"),
            ("resumed", "ada"), ("transferred", "ada"), ("ended", "ben")]

    run(tmp_path, {"ada": "answer+1", "ben": "answer+1"}, body)


def test_a_cancelled_consultation_returns_to_the_first_agent(tmp_path: Path) -> None:
    async def body(h: Harness, p: dict[str, SippPhone]) -> None:
        h.ready("ada")
        caller = start_caller(tmp_path, h, talk_ms=14_000)
        enq = await h.wait_event("enqueued", 20)
        iid = enq["interaction_id"]
        await h.wait_event("answered", 10, lambda ev: ev["agent_id"] == "ada")
        h.ready("ben")
        await asyncio.sleep(0.5)
        h.runtime.execute(TENANT, c.Transfer(interaction_id=iid, to_agent="ben", mode="warm"))
        await h.wait_event("conference_joined", 10, lambda ev: ev["agent_id"] == "ben")
        await asyncio.sleep(1.0)
        h.runtime.execute(TENANT, c.CancelTransfer(interaction_id=iid))
        await h.wait_event("transfer_cancelled", 10)
        rc = await asyncio.to_thread(p["ben"].wait, 15)  # ben's leg got its BYE
        assert rc == 0, p["ben"].errors()
        await asyncio.sleep(1.0)
        h.runtime.execute(TENANT, c.Resume(interaction_id=iid))
        await finish(caller, p["ada"])  # ada: to the consultation and back, then BYE
        ended = await h.wait_event("ended", 10)
        assert ended["agent_id"] == "ada"
        assert h.stats["answered"] == 1

    run(tmp_path, {"ada": "answer+2", "ben": "answer"}, body)
