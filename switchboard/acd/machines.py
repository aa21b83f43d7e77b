"""State machines as tables: interactions, reservations (offers), agent status.

Theory of operation. Each machine is a dict from (current state, action) to the
next state. ``step(table, state, action, what)`` looks the pair up and returns
the next state, or raises :class:`InvalidTransition` naming the state and the
action; the caller assigns the result only after every check of the command
has passed, so a refused command changes nothing.

The agent's *status* (offline, ready, not ready: what the agent chose) is a
machine of its own; the agent's *state* (idle, reserved, busy, wrap-up: what
the system is doing with it) is not stored at all but derived from the agent's
contacts (:func:`derive_agent_state`), so it cannot disagree with them and an
agent cannot be "stuck in wrap-up".
"""

from __future__ import annotations

from enum import StrEnum

from switchboard.domain.enums import AgentState, AgentStatus
from switchboard.domain.enums import InteractionState as S
from switchboard.domain.errors import InvalidTransition


class Act(StrEnum):
    """Actions on an interaction."""

    ENQUEUE = "enqueue"
    REFUSE = "refuse"  # a queue would not take it: stays in IVR
    SCHEDULE = "schedule"  # a callback set for later
    DUE = "due"  # a scheduled callback's time came
    OFFER = "offer"
    OFFER_END = "offer_end"  # the last outstanding offer ended unanswered
    ANSWER = "answer"
    HOLD = "hold"
    RESUME = "resume"
    END = "end"  # customer part ended with an agent: wrap-up follows
    WRAPUP_END = "wrapup_end"
    SELF_SERVICE = "self_service"  # ended in IVR, no agent
    ABANDON = "abandon"
    EXIT = "exit"
    CALLBACK = "callback"  # virtual hold: keeps its place
    OVERFLOW = "overflow"
    TRANSFER_QUEUE = "transfer_queue"
    TRANSFER_AGENT = "transfer_agent"  # blind transfer to a busy agent: waits for it


INTERACTION_TABLE: dict[tuple[S, Act], S] = {
    (S.IVR, Act.ENQUEUE): S.QUEUED,
    (S.IVR, Act.REFUSE): S.IVR,
    (S.IVR, Act.SELF_SERVICE): S.ENDED,
    (S.IVR, Act.SCHEDULE): S.SCHEDULED,
    (S.IVR, Act.CALLBACK): S.QUEUED,
    (S.SCHEDULED, Act.DUE): S.QUEUED,
    (S.SCHEDULED, Act.ABANDON): S.ABANDONED,
    (S.QUEUED, Act.OFFER): S.OFFERED,
    (S.QUEUED, Act.ABANDON): S.ABANDONED,
    (S.QUEUED, Act.EXIT): S.ABANDONED,
    (S.QUEUED, Act.CALLBACK): S.QUEUED,
    (S.QUEUED, Act.OVERFLOW): S.QUEUED,
    (S.OFFERED, Act.OFFER): S.OFFERED,  # ring all: one more agent rings
    (S.OFFERED, Act.OFFER_END): S.QUEUED,
    (S.OFFERED, Act.ANSWER): S.CONNECTED,
    (S.OFFERED, Act.ABANDON): S.ABANDONED,
    (S.CONNECTED, Act.HOLD): S.HELD,
    (S.HELD, Act.RESUME): S.CONNECTED,
    (S.CONNECTED, Act.END): S.WRAPUP,
    (S.HELD, Act.END): S.WRAPUP,
    (S.CONNECTED, Act.TRANSFER_QUEUE): S.QUEUED,
    (S.HELD, Act.TRANSFER_QUEUE): S.QUEUED,
    (S.CONNECTED, Act.TRANSFER_AGENT): S.QUEUED,
    (S.HELD, Act.TRANSFER_AGENT): S.QUEUED,
    (S.WRAPUP, Act.WRAPUP_END): S.ENDED,
}

# Exited contacts are closed like abandoned ones: both are terminal and neither
# reached an agent; the events (Abandoned vs Exited) keep the difference.

TERMINAL = frozenset({S.ENDED, S.ABANDONED})


def step(table: dict[tuple[S, Act], S], state: S, action: Act, what: str) -> S:
    """The next state, or :class:`InvalidTransition` (nothing is changed)."""
    nxt = table.get((state, action))
    if nxt is None:
        raise InvalidTransition(f"{what} is {state.value}: cannot {action.value}")
    return nxt


def interaction_step(state: S, action: Act, interaction_id: str) -> S:
    """:func:`step` on :data:`INTERACTION_TABLE`, the error naming the
    interaction. Runs several times per routing decision, so the message is
    only formatted when the step is refused."""
    nxt = INTERACTION_TABLE.get((state, action))
    if nxt is None:
        raise InvalidTransition(
            f"interaction {interaction_id} is {state.value}: cannot {action.value}")
    return nxt


STATUS_TABLE: dict[tuple[AgentStatus, AgentStatus], bool] = {
    (AgentStatus.OFFLINE, AgentStatus.READY): True,
    (AgentStatus.OFFLINE, AgentStatus.NOT_READY): True,
    (AgentStatus.READY, AgentStatus.NOT_READY): True,
    (AgentStatus.READY, AgentStatus.OFFLINE): True,
    (AgentStatus.NOT_READY, AgentStatus.READY): True,
    (AgentStatus.NOT_READY, AgentStatus.NOT_READY): True,  # a new reason code
    (AgentStatus.NOT_READY, AgentStatus.OFFLINE): True,
}


def check_status(current: AgentStatus, new: AgentStatus, agent_id: str) -> None:
    """Raise :class:`InvalidTransition` unless ``current -> new`` is allowed."""
    if not STATUS_TABLE.get((current, new), False):
        raise InvalidTransition(
            f"agent {agent_id} is {current.value}: cannot become {new.value}"
        )


def derive_agent_state(*, active: int, wrapups: int, offers: int) -> AgentState:
    """The agent's system state from its contacts: busy beats wrap-up beats reserved."""
    if active:
        return AgentState.BUSY
    if wrapups:
        return AgentState.WRAPUP
    if offers:
        return AgentState.RESERVED
    return AgentState.IDLE
