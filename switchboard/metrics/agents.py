"""Agent state times from ``agent_state`` events (occupancy, utilization...).

An agent's time is split by its chosen status and the system's state (kept
apart, as the ACD keeps them): logged in = any status but ``offline``;
``busy`` and ``wrapup`` count whatever the status; ``idle`` counts as
available when the status is ``ready``, as not-ready time otherwise;
``reserved`` (ringing) is its own bucket. An open state is closed at the
report's ``until``. O(1) per event.
"""

from __future__ import annotations

from dataclasses import dataclass

from switchboard.domain.enums import AgentState, AgentStatus
from switchboard.domain.events import AgentStateChanged
from switchboard.metrics.kpi import AgentTimes
from switchboard.metrics.params import seconds_to_us


@dataclass(slots=True)
class _Clock:
    since: int
    status: AgentStatus
    state: AgentState
    logged_in: int = 0
    ready_idle: int = 0
    reserved: int = 0
    busy: int = 0
    wrapup: int = 0
    not_ready: int = 0

    def accrue(self, until: int) -> tuple[int, int, int, int, int, int]:
        """The buckets with the open state counted up to ``until``."""
        d = max(0, until - self.since)
        b = [self.logged_in, self.ready_idle, self.reserved, self.busy, self.wrapup,
             self.not_ready]
        if self.status is not AgentStatus.OFFLINE:
            b[0] += d
            if self.state is AgentState.BUSY:
                b[3] += d
            elif self.state is AgentState.WRAPUP:
                b[4] += d
            elif self.state is AgentState.RESERVED:
                b[2] += d
            elif self.status is AgentStatus.READY:
                b[1] += d
            else:
                b[5] += d
        return b[0], b[1], b[2], b[3], b[4], b[5]


class AgentClock:
    """Accumulates each agent's state times."""

    def __init__(self) -> None:
        self._clocks: dict[str, _Clock] = {}

    def apply(self, event: AgentStateChanged) -> None:
        at = seconds_to_us(event.at)
        agent = event.agent_id or ""
        c = self._clocks.get(agent)
        if c is None:
            self._clocks[agent] = _Clock(since=at, status=event.status, state=event.state)
            return
        (c.logged_in, c.ready_idle, c.reserved, c.busy, c.wrapup,
         c.not_ready) = c.accrue(at)
        c.since, c.status, c.state = max(c.since, at), event.status, event.state

    def agents(self) -> list[str]:
        return list(self._clocks)

    def times(self, agent: str, until_us: int) -> AgentTimes | None:
        """The agent's times up to ``until_us``; None for an agent never seen."""
        c = self._clocks.get(agent)
        if c is None:
            return None
        return AgentTimes(*c.accrue(until_us))
