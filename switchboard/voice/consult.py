"""Warm transfer: the first agent consults the target while the caller holds.

Routing drives it (``Transfer(mode="warm")``: ``held``, ``transfer_started``,
``offered`` to the target; then ``CompleteTransfer`` or ``CancelTransfer``);
this module does the legs and the media:

1. the target's phone rings with an SDP from a second rtpengine call, the
   *consultation*, offered from the first agent's side (the SDP its phone
   answered with);
2. when the target answers (``Accept``: the target joins), the consultation is
   answered with the target's SDP and the first agent's phone is re-INVITEd
   onto it: the two agents talk, the caller hears music (the call is held);
3. on completion the target's phone is re-INVITEd onto the customer call's
   agent side and the customer call is re-answered with its SDP; the first
   agent's leg is released (wrap-up) and the consultation deleted;
4. on cancellation (or a target who declines, does not answer, or hangs up)
   the first agent's phone is re-INVITEd back onto the customer call and the
   target's leg released; the caller stays on hold until ``Resume``.

Each step re-checks that the consultation it started with is still the
call's, so a hang-up in the middle leaves nothing half done.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from switchboard.domain import commands as c
from switchboard.media.errors import MediaError
from switchboard.voice.signalling import LegAnswered, LegEnded, LegFailed

if TYPE_CHECKING:
    from switchboard.voice.base import Call, ControllerBase

logger = logging.getLogger("switchboard.voice.consult")

REINVITE_TIMEOUT_S = 10.0
DECLINED = frozenset({486, 600, 603})


@dataclass(eq=False)
class Consult:
    """A consultation in progress: the target agent, its rtpengine call (the
    first agent's side is ``first_tag``, the target's ``target_tag``) and the
    target's phone leg once it rings."""

    agent: str
    media_id: str
    first_tag: str
    target_tag: str
    leg: str | None = None
    connected: bool = False


def begin(call: Call, to_agent: str) -> None:
    """``transfer_started``: remember whom the first agent consults."""
    call.consult = Consult(agent=to_agent, media_id=f"{call.media_id}~consult",
                           first_tag="c1-" + secrets.token_hex(6),
                           target_tag="c2-" + secrets.token_hex(6))


async def reinvite(ctl: ControllerBase, call: Call, leg: str, sdp: str) -> str | None:
    """Re-INVITE ``leg`` with ``sdp``; the phone's answer SDP (None: refused or
    no answer within :data:`REINVITE_TIMEOUT_S`)."""
    future: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
    call.reinvites[leg] = future
    ctl.sip.reinvite(leg, sdp)
    try:
        return await asyncio.wait_for(future, REINVITE_TIMEOUT_S)
    except TimeoutError:
        return None
    finally:
        call.reinvites.pop(leg, None)


async def ring(ctl: ControllerBase, call: Call) -> None:
    """``offered`` to the consulted agent: ring its phone."""
    con = call.consult
    if con is None or con.leg is not None:
        return
    phones = ctl.config.phones_of(call.tenant, con.agent)
    if not phones or not call.agent_phone_sdp:
        logger.info("call %s: agent %s has no phone to consult", call.id, con.agent)
        return
    con.leg = "co-" + secrets.token_hex(8)
    ctl.track(con.leg, call, "consult")
    try:
        sdp = await ctl.media.offer(con.media_id, con.first_tag, call.agent_phone_sdp)
    except MediaError as exc:
        logger.error("call %s: consultation media failed: %s", call.id, exc)
        return
    if call.consult is not con:
        return
    ctl.sip.invite_phone(con.leg, phones[0], caller=call.caller,
                         caller_name=call.customer.name, sdp=sdp)


async def answered(ctl: ControllerBase, call: Call, ev: LegAnswered) -> None:
    """The consulted agent's phone answered: join, and put the agents together."""
    con = call.consult
    if con is None or con.leg != ev.leg or con.connected:
        ctl.untrack(ev.leg)
        ctl.sip.hangup(ev.leg)
        return
    if ctl.execute(call, c.Accept(interaction_id=call.id, agent_id=con.agent)) is None:
        return  # the engine cancelled the transfer: the cancel handler cleans up
    con.connected = True
    try:
        sdp = await ctl.media.answer(con.media_id, con.first_tag, con.target_tag, ev.sdp or "")
    except MediaError as exc:
        logger.error("call %s: consultation media failed: %s", call.id, exc)
        return
    if call.consult is con and call.agent_leg is not None \
            and await reinvite(ctl, call, call.agent_leg, sdp) is None:
        logger.warning("call %s: the first agent's phone refused the consultation", call.id)


def failed(ctl: ControllerBase, call: Call, ev: LegFailed) -> None:
    """The consulted phone will not answer: a decline ends the transfer at
    once; otherwise the offer rings on until routing's ring timeout."""
    con = call.consult
    if con is None or con.leg != ev.leg:
        return
    ctl.untrack(ev.leg)
    con.leg = None
    if ev.code in DECLINED:
        ctl.execute(call, c.Reject(interaction_id=call.id, agent_id=con.agent))


def ended(ctl: ControllerBase, call: Call, ev: LegEnded) -> None:
    """The consulted agent hung up: the consultation (and transfer) ends."""
    con = call.consult
    ctl.untrack(ev.leg)
    if con is None or con.leg != ev.leg:
        return
    con.leg = None
    if con.connected:
        ctl.execute(call, c.LeaveConference(interaction_id=call.id, agent_id=con.agent))
    else:
        ctl.execute(call, c.CancelTransfer(interaction_id=call.id))


async def complete(ctl: ControllerBase, call: Call) -> None:
    """``transferred`` (warm): the target takes the caller, the first agent leaves."""
    con = call.consult
    if con is None or con.leg is None:
        return
    call.consult = None
    sdp = await reinvite(ctl, call, con.leg, call.agent_sdp)
    try:
        if sdp is not None:
            await ctl.media.connect(call.media_id, call.caller_tag, call.inner_tag, sdp)
    except MediaError as exc:
        logger.error("call %s: moving the caller to agent %s failed: %s", call.id,
                     con.agent, exc)
    old = call.agent_leg
    if old is not None:
        ctl.untrack(old)
        ctl.sip.hangup(old)
    ctl.track(con.leg, call, con.agent)
    call.agent, call.agent_leg = con.agent, con.leg
    call.agent_phone_sdp = sdp or ""
    ctl.media.delete(con.media_id)


async def cancel(ctl: ControllerBase, call: Call) -> None:
    """``transfer_cancelled``: back to the first agent; the caller stays held."""
    con = call.consult
    if con is None:
        return
    call.consult = None
    if con.leg is not None:
        ctl.untrack(con.leg)
        ctl.sip.hangup(con.leg)
    if con.connected and call.agent_leg is not None:
        sdp = await reinvite(ctl, call, call.agent_leg, call.agent_sdp)
        try:
            if sdp is not None:
                await ctl.media.connect(call.media_id, call.caller_tag, call.inner_tag, sdp)
                call.agent_phone_sdp = sdp
        except MediaError as exc:
            logger.error("call %s: returning to the first agent failed: %s", call.id, exc)
    ctl.media.delete(con.media_id)
