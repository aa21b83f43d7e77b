"""The state tables: an illegal transition raises and changes nothing."""

from __future__ import annotations

import pytest

from switchboard.acd.machines import (
    INTERACTION_TABLE,
    Act,
    check_status,
    derive_agent_state,
    step,
)
from switchboard.domain.enums import AgentState, AgentStatus
from switchboard.domain.enums import InteractionState as S
from switchboard.domain.errors import InvalidTransition


def test_legal_interaction_path() -> None:
    state = S.IVR
    for act in (Act.ENQUEUE, Act.OFFER, Act.OFFER_END, Act.OFFER, Act.ANSWER, Act.HOLD,
                Act.RESUME, Act.END, Act.WRAPUP_END):
        state = step(INTERACTION_TABLE, state, act, "i1")
    assert state is S.ENDED


@pytest.mark.parametrize(("state", "act"), [
    (S.QUEUED, Act.ANSWER), (S.IVR, Act.HOLD), (S.ENDED, Act.ENQUEUE),
    (S.ABANDONED, Act.OFFER), (S.WRAPUP, Act.HOLD), (S.CONNECTED, Act.OFFER),
])
def test_illegal_interaction_step_raises(state: S, act: Act) -> None:
    current = state
    with pytest.raises(InvalidTransition) as exc:
        current = step(INTERACTION_TABLE, current, act, "i1")
    assert current is state
    assert state.value in str(exc.value) and act.value in str(exc.value)


def test_terminal_states_have_no_way_out() -> None:
    for (state, _act) in INTERACTION_TABLE:
        assert state not in (S.ENDED, S.ABANDONED)


def test_agent_status_table() -> None:
    check_status(AgentStatus.OFFLINE, AgentStatus.READY, "a")
    check_status(AgentStatus.NOT_READY, AgentStatus.NOT_READY, "a")
    with pytest.raises(InvalidTransition):
        check_status(AgentStatus.READY, AgentStatus.READY, "a")


def test_agent_state_is_derived_from_contacts() -> None:
    assert derive_agent_state(active=0, wrapups=0, offers=0) is AgentState.IDLE
    assert derive_agent_state(active=0, wrapups=0, offers=1) is AgentState.RESERVED
    assert derive_agent_state(active=0, wrapups=1, offers=1) is AgentState.WRAPUP
    assert derive_agent_state(active=1, wrapups=1, offers=1) is AgentState.BUSY
