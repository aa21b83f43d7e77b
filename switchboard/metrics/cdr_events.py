"""Events from CDR rows: the reverse of :func:`~switchboard.metrics.builder.cdr_rows_from_events`.

Each row becomes its own interaction: ``arrived``, ``enqueued``, one
``offer_timeout`` per RNA, ``answered``, a ``held``/``resumed`` pair carrying
``hold_s``, ``transferred`` (to the agent) per transfer, ``callback_requested``
per callback, ``abandoned``, ``ended``, ``wrapup_ended`` (ACW, disposition),
``survey_answered``. Rows -> events -> rows gives the rows back when each row
has a known channel, an agent when answered, no overflow (an overflow is a new
leg, so it cannot be one row's count), no queue unless it queued, an
``ended_at`` equal to ``abandoned_at`` when abandoned, and a disposition only
when answered.
"""

from __future__ import annotations

from collections.abc import Iterable

from switchboard.domain import events as ev
from switchboard.domain.enums import Channel, Direction
from switchboard.domain.model import Customer
from switchboard.metrics.cdr import CdrRow
from switchboard.metrics.params import US


def events_from_cdr_rows(rows: Iterable[CdrRow]) -> list[ev.Event]:
    """An event log whose CDR is ``rows`` (see the module note for the limits)."""
    out: list[tuple[float, int, int, ev.Event]] = []
    for n, r in enumerate(rows):
        seq = 0

        def put(e: ev.Event, n: int = n) -> None:
            nonlocal seq
            out.append((e.at, n, seq, e))
            seq += 1

        iid, agent = r.id, r.agent or "unknown"
        channel = r.channel if r.channel in tuple(Channel) else Channel.VOICE
        direction = r.direction if r.direction in tuple(Direction) else Direction.INBOUND
        put(ev.Arrived(at=r.arrived_at / US, interaction_id=iid, channel=Channel(channel),
                       direction=Direction(direction), customer=Customer(id=r.customer or None)))
        if r.enqueued_at is not None:
            put(ev.Enqueued(at=r.enqueued_at / US, interaction_id=iid, queue_id=r.queue or "-"))
        start = (r.enqueued_at if r.enqueued_at is not None else r.arrived_at) / US
        for k in range(r.rna):
            put(ev.OfferTimedOut(at=start, interaction_id=iid, agent_id=agent,
                                 reservation_id=f"{iid}:rna{k}"))
        for _ in range(r.callbacks):
            put(ev.CallbackRequested(at=start, interaction_id=iid, queue_id=r.queue or "-"))
        if r.answered_at is not None:
            ans = r.answered_at / US
            put(ev.Answered(at=ans, interaction_id=iid, agent_id=agent, queue_id=r.queue or None))
            if r.hold_us:
                put(ev.Held(at=ans, interaction_id=iid))
                put(ev.Resumed(at=(r.answered_at + r.hold_us) / US, interaction_id=iid,
                               hold_s=r.hold_us / US))
            for _ in range(r.transfers):
                put(ev.Transferred(at=ans, interaction_id=iid, agent_id=agent, to_agent=agent))
        if r.abandoned_at is not None:
            put(ev.Abandoned(at=r.abandoned_at / US, interaction_id=iid, queue_id=r.queue or None))
        if r.ended_at is not None and r.ended_at != r.abandoned_at:
            put(ev.Ended(at=r.ended_at / US, interaction_id=iid))
        if r.answered_at is not None and (r.wrapup_us or r.disposition):
            end = (r.ended_at if r.ended_at is not None else r.answered_at) / US
            put(ev.WrapupEnded(at=end + r.wrapup_us / US, interaction_id=iid, agent_id=agent,
                               wrapup_s=r.wrapup_us / US, disposition=r.disposition or None))
        last = max(t for t, *_ in out[-seq:])
        if r.csat is not None:
            put(ev.SurveyAnswered(at=last, interaction_id=iid, survey="csat", score=r.csat))
        if r.nps is not None:
            put(ev.SurveyAnswered(at=last, interaction_id=iid, survey="nps", score=r.nps))
    out.sort(key=lambda x: (x[0], x[1], x[2]))
    return [e for *_, e in out]
