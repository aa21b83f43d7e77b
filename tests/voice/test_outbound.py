"""Calls Switchboard places, with real peers: a callback (the caller keys 1
in the queue, hangs up, and is called back when an agent is free) and
click-to-dial; each rings the agent's phone first, then the customer through
the trunk's outbound address (a sipp UAS playing the customer)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from switchboard.domain.errors import AgentUnavailable, NotFound
from switchboard.store import log
from tests.voice.harness import TENANT, Harness, telephony
from tests.voice.peers import (
    Sipp,
    SippPhone,
    caller_scenario,
    need_peers,
    phone_scenario,
    read_wav,
    tone_power,
    write_tone,
)

pytestmark = [pytest.mark.slow, pytest.mark.voice]

AGENT_HZ, CUSTOMER_HZ = 400, 600


def run(tmp: Path, body: Any, *, queue: dict[str, Any] | None = None,
        callback_key: str = "1", flow: str = "menu.yaml", customer_mode: str = "answer",
        outbound: dict[str, Any] | None = None, record: bool = False,
        agent_talk_ms: int = 3000, agent_mode: str = "hangup") -> None:
    need_peers()
    tone = write_tone(tmp / "tone.al", AGENT_HZ, 2)
    customer_tone = write_tone(tmp / "customer.al", CUSTOMER_HZ, 2)
    agent = SippPhone(tmp / "ada", phone_scenario(
        tmp / "ada.xml", agent_mode, voice=tone if agent_mode == "hangup" else None,
        hangup_after_ms=agent_talk_ms))
    customer = SippPhone(tmp / "customer", phone_scenario(
        tmp / "customer.xml", customer_mode,
        voice=None if customer_mode in ("busy", "noanswer") else customer_tone))

    async def main() -> None:
        agent.start()
        customer.start()
        try:
            voice = {"trunks": {"local": {"addresses": ["127.0.0.1"],
                                          "outbound": customer.address}},
                     "queue": {"announce_every_s": 30, "callback_key": callback_key},
                     **({"outbound": outbound} if outbound else {}),
                     **({"recording": {"calls": True}} if record else {})}
            phones = {"ada": {"tenant": TENANT, "agent": "ada", "address": agent.address}}
            async with telephony(tmp, phones=phones, queue=queue, voice=voice,
                                 flow=flow) as h:
                await body(h, agent, customer)
        finally:
            agent.kill()
            customer.kill()

    asyncio.run(main())


async def both_done(*phones: SippPhone) -> None:
    for phone in phones:
        rc = await asyncio.to_thread(phone.wait, 20)
        assert rc == 0, phone.errors()


def test_a_queued_caller_takes_the_callback_and_is_called_back(tmp_path: Path) -> None:
    async def body(h: Harness, agent: SippPhone, customer: SippPhone) -> None:
        voice = write_tone(tmp_path / "caller.al", 500, 2)
        # 1 in the menu, then 2 when the announcement offers the callback (sipp's
        # pcap of a key has fixed RTP timestamps: the same key twice is one event)
        scenario = caller_scenario(tmp_path / "caller.xml", keys="12", voice=voice,
                                   between_keys_ms=2500, talk_ms=0, they_hang_up=True)
        caller = Sipp(tmp_path / "caller", scenario, h.sip_port, "100")
        caller.start()
        try:
            enq = await h.wait_event("enqueued", 20)
            assert enq["callback_offered"] is True
            iid = enq["interaction_id"]
            requested = await h.wait_event("callback_requested", 15)
            assert requested["interaction_id"] == iid
            assert requested["phone"] == "+393331234567"
            rc = await asyncio.to_thread(caller.wait, 20)  # told goodbye, then our BYE
            assert rc == 0, caller.errors()
            h.ready("ada")
            offered = await h.wait_event("offered", 10, lambda ev: ev["interaction_id"] == iid)
            assert offered["callback"] is True
            await h.wait_event("answered", 10, lambda ev: ev["interaction_id"] == iid)
            ended = await h.wait_event("ended", 20, lambda ev: ev["interaction_id"] == iid)
            assert ended["by"] == "agent"
            await both_done(agent, customer)
            assert h.stats.get("outbound_connected") == 1
            invite = next((customer.dir).glob("*messages.log")).read_text()
            assert "INVITE sip:+393331234567@" in invite
        finally:
            caller.kill()

    run(tmp_path, body, queue={"callback_ewt_s": 0.0}, callback_key="2")


def test_click_to_dial_rings_the_agent_then_the_customer(tmp_path: Path) -> None:
    async def body(h: Harness, agent: SippPhone, customer: SippPhone) -> None:
        calls = h.service.calls
        assert calls is not None
        with pytest.raises(AgentUnavailable):  # ada is offline
            calls.click_to_dial(TENANT, "ada", "+390612345678")
        with pytest.raises(NotFound):  # a queue to report under must exist
            calls.click_to_dial(TENANT, "ada", "+390612345678", queue="nope")
        h.ready("ada")
        iid = calls.click_to_dial(TENANT, "ada", "+390612345678")
        arrived = await h.wait_event("arrived", 5, lambda ev: ev["interaction_id"] == iid)
        assert arrived["direction"] == "outbound"
        enq = await h.wait_event("enqueued", 5, lambda ev: ev["interaction_id"] == iid)
        assert enq["queue_id"] == "sales"  # ada's queue: no queue of its own any more
        assert h.runtime.engine(TENANT).queue_ids() == ["sales"]
        await h.wait_event("answered", 10, lambda ev: ev["interaction_id"] == iid)
        ended = await h.wait_event("ended", 20, lambda ev: ev["interaction_id"] == iid)
        assert ended["by"] == "agent"
        await both_done(agent, customer)
        assert h.stats.get("outbound_connected") == 1
        invite = next((customer.dir).glob("*messages.log")).read_text()
        assert "INVITE sip:+390612345678@" in invite

    run(tmp_path, body)


def test_a_flow_transfers_the_caller_to_an_external_number(tmp_path: Path) -> None:
    async def body(h: Harness, agent: SippPhone, customer: SippPhone) -> None:
        voice = write_tone(tmp_path / "caller.al", 500, 2)
        scenario = caller_scenario(tmp_path / "caller.xml", keys="", voice=voice,
                                   talk_ms=6000)
        caller = Sipp(tmp_path / "caller", scenario, h.sip_port, "100")
        caller.start()
        try:
            arrived = await h.wait_event("arrived", 20)
            ended = await h.wait_event("ended", 15)
            assert ended["interaction_id"] == arrived["interaction_id"]
            assert ended["by"] == "system"  # the contact leaves routing at the transfer
            rc = await asyncio.to_thread(caller.wait, 30)
            assert rc == 0, caller.errors()
            rc = await asyncio.to_thread(customer.wait, 20)  # answered, then our BYE
            assert rc == 0, customer.errors()
            invite = next((customer.dir).glob("*messages.log")).read_text()
            assert "INVITE sip:+390612340000@" in invite
        finally:
            caller.kill()

    run(tmp_path, body, flow="transfer.yaml")


def test_a_busy_customer_ends_a_click_to_dial_not_connected(tmp_path: Path) -> None:
    async def body(h: Harness, agent: SippPhone, customer: SippPhone) -> None:
        calls = h.service.calls
        assert calls is not None
        h.ready("ada")
        iid = calls.click_to_dial(TENANT, "ada", "+390612345678")
        await h.wait_event("answered", 10, lambda ev: ev["interaction_id"] == iid)
        failed = await h.wait_event("dial_failed", 15, lambda ev: ev["interaction_id"] == iid)
        assert (failed["result"], failed["sip_code"], failed["agent_id"]) == ("busy", 486, "ada")
        assert failed["queue_id"] == "sales" and "retry_at" not in failed  # never retried
        ended = await h.wait_event("ended", 10, lambda ev: ev["interaction_id"] == iid)
        assert ended["by"] == "system"
        rc = await asyncio.to_thread(customer.wait, 20)
        assert rc == 0, customer.errors()
        assert h.stats.get("outbound_connected") is None
        # the CDR and the report: offered in sales, not answered
        row = next(r for r in h.cdr() if r.id == iid)
        assert row.answered_at is None and row.abandoned_at is None
        assert row.disposition == "not_connected_busy" and row.agent == "ada"
        sales = next(r for r in h.report() if r["key"] == "sales")
        assert (sales["offered"], sales["answered"], sales["abandoned"]) == (1, 0, 0)

    run(tmp_path, body, customer_mode="busy")


def test_an_unanswered_callback_is_tried_again_per_the_policy(tmp_path: Path) -> None:
    async def body(h: Harness, agent: SippPhone, customer: SippPhone) -> None:
        voice = write_tone(tmp_path / "caller.al", 500, 2)
        scenario = caller_scenario(tmp_path / "caller.xml", keys="12", voice=voice,
                                   between_keys_ms=2500, talk_ms=0, they_hang_up=True)
        caller = Sipp(tmp_path / "caller", scenario, h.sip_port, "100")
        caller.start()
        try:
            requested = await h.wait_event("callback_requested", 20)
            iid = requested["interaction_id"]
            rc = await asyncio.to_thread(caller.wait, 20)
            assert rc == 0, caller.errors()
            h.ready("ada")
            await h.wait_event("answered", 10, lambda ev: ev["interaction_id"] == iid)
            failed = await h.wait_event("dial_failed", 15,
                                        lambda ev: ev["interaction_id"] == iid)
            assert (failed["result"], failed["attempt"]) == ("busy", 1)
            assert failed["retry_at"] - failed["at"] == pytest.approx(600)
            retry = await h.wait_event("callback_scheduled", 10,
                                       lambda ev: ev["interaction_id"] != iid)
            assert retry["queue_id"] == "sales" and retry["phone"] == "+393331234567"
            assert retry["due_at"] == pytest.approx(failed["retry_at"])
            with h.runtime.db.connect() as conn:
                attrs = log.interaction_row(conn, TENANT, retry["interaction_id"]).attributes
            assert attrs["retry_of"] == iid and attrs["attempt"] == 2
            await both_done(customer)
            row = next(r for r in h.cdr() if r.id == iid)
            assert row.answered_at is None and row.disposition == "not_connected_busy"
            sales = next(r for r in h.report() if r["key"] == "sales")
            assert sales["answered"] == 0
        finally:
            caller.kill()

    run(tmp_path, body, queue={"callback_ewt_s": 0.0}, callback_key="2", customer_mode="busy",
        outbound={"callback_retries": 1, "retry_after_s": 600})


def test_a_click_to_dial_is_recorded_like_an_inbound_call(tmp_path: Path) -> None:
    async def body(h: Harness, agent: SippPhone, customer: SippPhone) -> None:
        calls = h.service.calls
        assert calls is not None
        h.ready("ada")
        iid = calls.click_to_dial(TENANT, "ada", "+390612345678")
        await h.wait_event("answered", 10, lambda ev: ev["interaction_id"] == iid)
        await h.until(lambda: h.stats.get("outbound_connected") == 1, 15, "the customer")
        connected = time.monotonic()
        await h.wait_event("ended", 20, lambda ev: ev["interaction_id"] == iid)
        talk_s = time.monotonic() - connected
        await both_done(agent, customer)
        await h.until(lambda: bool(h.recordings(iid)) and h.recordings(iid)[0]["status"]
                      != "recording", 15, "the recording to be stored")
        recordings = h.recordings(iid)
        assert len(recordings) == 1
        rec = recordings[0]
        assert (rec["kind"], rec["status"], rec["channels"]) == ("call", "complete", 2)
        assert rec["queue_id"] == "sales"
        # from the customer's answer to the end of the call
        assert abs(rec["duration"] - talk_s) < 2.0, (rec["duration"], talk_s)
        wav = h.service.recordings.absolute(rec["path"] or "-")
        left, rate = read_wav(wav, 0)
        right, _ = read_wav(wav, 1)
        assert tone_power(left[rate // 2: rate * 3], rate, CUSTOMER_HZ) > 0.5, \
            "no customer on the left"
        assert tone_power(right[rate // 2: rate * 3], rate, AGENT_HZ) > 0.5, \
            "no agent on the right"

    run(tmp_path, body, record=True, agent_talk_ms=6000)


def test_the_agent_giving_up_while_the_customer_rings_is_not_connected(
        tmp_path: Path) -> None:
    async def body(h: Harness, agent: SippPhone, customer: SippPhone) -> None:
        calls = h.service.calls
        assert calls is not None
        h.ready("ada")
        iid = calls.click_to_dial(TENANT, "ada", "+390612345678")
        failed = await h.wait_event("dial_failed", 20, lambda ev: ev["interaction_id"] == iid)
        assert (failed["result"], failed["sip_code"]) == ("cancelled", 0)
        ended = await h.wait_event("ended", 10, lambda ev: ev["interaction_id"] == iid)
        assert ended["by"] == "agent"
        await both_done(agent, customer)  # the customer's INVITE was cancelled
        row = next(r for r in h.cdr() if r.id == iid)
        assert row.answered_at is None and row.disposition == "not_connected_cancelled"

    run(tmp_path, body, customer_mode="noanswer")


def test_a_click_to_dial_its_agent_does_not_answer_is_withdrawn(tmp_path: Path) -> None:
    async def body(h: Harness, agent: SippPhone, customer: SippPhone) -> None:
        calls = h.service.calls
        assert calls is not None
        h.ready("ada")
        iid = calls.click_to_dial(TENANT, "ada", "+390612345678")
        rna = await h.wait_event("offer_timeout", 10, lambda ev: ev["interaction_id"] == iid)
        assert rna["agent_id"] == "ada"  # the usual ring timeout (the queue's: 3 s)
        exited = await h.wait_event("exited", 5, lambda ev: ev["interaction_id"] == iid)
        assert exited["reason"] == "withdrawn" and exited["queue_id"] == "sales"
        rc = await asyncio.to_thread(agent.wait, 20)  # rang once, then our CANCEL
        assert rc == 0, agent.errors()
        assert [ev["kind"] for ev in h.events(iid)].count("offered") <= 2
        assert h.runtime.engine(TENANT).agent("ada")["state"] == "idle"
        row = next(r for r in h.cdr() if r.id == iid)
        assert (row.answered_at, row.abandoned_at) == (None, None)
        assert row.disposition == "withdrawn"
        sales = next(r for r in h.report() if r["key"] == "sales")
        assert (sales["offered"], sales["answered"], sales["abandoned"], sales["rna"]) \
            == (1, 0, 0, 1)
        customer.kill()  # never dialled

    run(tmp_path, body, agent_mode="noanswer", queue={"ring_timeout_s": 3.0})
