"""One heap of deadlines with lazy cancellation.

A timer is ``(at, seq, kind, ref)`` plus a token; the owner keeps the token of
each live timer and cancels by forgetting it, so the heap never needs a search.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable


class Timers:
    __slots__ = ("_heap", "_live", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, str, str]] = []
        self._live: set[int] = set()
        self._seq = 0

    def set(self, at: float, kind: str, ref: str) -> int:
        """Schedule; returns the token that identifies (and cancels) the timer."""
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, ref))
        self._live.add(self._seq)
        return self._seq

    def cancel(self, token: int | None) -> None:
        if token is not None:
            self._live.discard(token)

    def alive(self, token: int) -> bool:
        return token in self._live

    def next_at(self) -> float | None:
        heap = self._heap
        while heap and heap[0][1] not in self._live:
            heapq.heappop(heap)
        return heap[0][0] if heap else None

    def pop_due(self, now: float, fire: Callable[[float, int, str, str], None]) -> None:
        """Fire every live timer due at or before ``now``, earliest first (ties in
        the order they were set). A fired timer may set new ones."""
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, token, kind, ref = heapq.heappop(heap)
            if token in self._live:
                self._live.discard(token)
                fire(at, token, kind, ref)

    def __len__(self) -> int:
        return len(self._live)
