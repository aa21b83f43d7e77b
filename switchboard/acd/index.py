"""Indexes of the free agents of one pool and channel, one kind per strategy.

Each supports ``add(agent_id, key, weight)``, ``discard(agent_id)``,
``pick(rng)`` (the agent the strategy chooses, or ``None``), ``chosen(id)``
(tell round robin whom it picked) and ``members()``. All operations are
O(log n) in the free agents (amortised for the heap's lazy deletion).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterator
from typing import Protocol

from sortedcontainers import SortedList

from switchboard.acd.strategies import Key
from switchboard.domain.enums import Strategy


class FreeAgents(Protocol):
    def add(self, agent_id: str, key: Key, weight: float) -> None: ...
    def discard(self, agent_id: str) -> None: ...
    def pick(self, rng: random.Random) -> str | None: ...
    def chosen(self, agent_id: str) -> None: ...
    def members(self) -> Iterator[str]: ...
    def __len__(self) -> int: ...


class HeapIndex:
    """Smallest key first; a binary heap with lazy deletion."""

    __slots__ = ("_heap", "_live")

    def __init__(self) -> None:
        self._heap: list[tuple[Key, str]] = []
        self._live: dict[str, Key] = {}

    def add(self, agent_id: str, key: Key, weight: float) -> None:
        self._live[agent_id] = key
        heapq.heappush(self._heap, (key, agent_id))
        if len(self._heap) > 2 * len(self._live) + 64:
            self._heap = [(k, a) for a, k in self._live.items()]
            heapq.heapify(self._heap)

    def discard(self, agent_id: str) -> None:
        self._live.pop(agent_id, None)

    def pick(self, rng: random.Random) -> str | None:
        heap, live = self._heap, self._live
        while heap:
            key, agent_id = heap[0]
            if live.get(agent_id) == key:
                return agent_id
            heapq.heappop(heap)
        return None

    def chosen(self, agent_id: str) -> None:
        return None

    def members(self) -> Iterator[str]:
        return iter(sorted(self._live, key=self._live.__getitem__))

    def __len__(self) -> int:
        return len(self._live)


class RingIndex:
    """Round robin with memory: the first free agent after the last one chosen."""

    __slots__ = ("_keys", "_last", "_sorted")

    def __init__(self) -> None:
        self._sorted: SortedList[tuple[Key, str]] = SortedList()
        self._keys: dict[str, Key] = {}
        self._last: Key | None = None

    def add(self, agent_id: str, key: Key, weight: float) -> None:
        self.discard(agent_id)
        self._keys[agent_id] = key
        self._sorted.add((key, agent_id))

    def discard(self, agent_id: str) -> None:
        key = self._keys.pop(agent_id, None)
        if key is not None:
            self._sorted.remove((key, agent_id))

    def pick(self, rng: random.Random) -> str | None:
        if not self._sorted:
            return None
        i = 0 if self._last is None else self._sorted.bisect_right((self._last, "\uffff"))
        if i >= len(self._sorted):
            i = 0
        agent_id: str = self._sorted[i][1]
        return agent_id

    def chosen(self, agent_id: str) -> None:
        self._last = self._keys.get(agent_id, self._last)

    def members(self) -> Iterator[str]:
        return (a for _, a in self._sorted)

    def __len__(self) -> int:
        return len(self._keys)


class RandomIndex:
    """Uniform choice: a dense list with swap-removal (O(1))."""

    __slots__ = ("_items", "_pos")

    def __init__(self) -> None:
        self._items: list[str] = []
        self._pos: dict[str, int] = {}

    def add(self, agent_id: str, key: Key, weight: float) -> None:
        if agent_id not in self._pos:
            self._pos[agent_id] = len(self._items)
            self._items.append(agent_id)

    def discard(self, agent_id: str) -> None:
        i = self._pos.pop(agent_id, None)
        if i is None:
            return
        last = self._items.pop()
        if last != agent_id:
            self._items[i] = last
            self._pos[last] = i

    def pick(self, rng: random.Random) -> str | None:
        if not self._items:
            return None
        return self._items[rng.randrange(len(self._items))]

    def chosen(self, agent_id: str) -> None:
        return None

    def members(self) -> Iterator[str]:
        return iter(sorted(self._items))

    def __len__(self) -> int:
        return len(self._items)


class WeightedIndex:
    """Choice with probability proportional to weight: a Fenwick tree of
    weights over agent slots, sampled by descending the tree (O(log n))."""

    __slots__ = ("_count", "_ids", "_size", "_slot", "_tree", "_weights")

    def __init__(self) -> None:
        self._count = 0
        self._size = 64
        self._tree = [0.0] * (self._size + 1)
        self._weights = [0.0] * self._size
        self._slot: dict[str, int] = {}
        self._ids: list[str] = []

    def _update(self, i: int, delta: float) -> None:
        j = i + 1
        while j <= self._size:
            self._tree[j] += delta
            j += j & -j

    def _grow(self) -> None:
        weights = self._weights + [0.0] * self._size
        self._size *= 2
        self._weights = [0.0] * self._size
        self._tree = [0.0] * (self._size + 1)
        for i, w in enumerate(weights):
            if w:
                self._weights[i] = w
                self._update(i, w)

    def add(self, agent_id: str, key: Key, weight: float) -> None:
        i = self._slot.get(agent_id)
        if i is None:
            i = len(self._ids)
            if i >= self._size:
                self._grow()
            self._slot[agent_id] = i
            self._ids.append(agent_id)
        if not self._weights[i]:
            self._count += 1
        delta = weight - self._weights[i]
        if delta:
            self._weights[i] = weight
            self._update(i, delta)

    def discard(self, agent_id: str) -> None:
        i = self._slot.get(agent_id)
        if i is not None and self._weights[i]:
            self._count -= 1
            self._update(i, -self._weights[i])
            self._weights[i] = 0.0

    def total(self) -> float:
        s, j = 0.0, self._size
        while j > 0:
            s += self._tree[j]
            j -= j & -j
        return s

    def pick(self, rng: random.Random) -> str | None:
        total = self.total()
        if total <= 0:
            return None
        target = rng.random() * total
        pos, step = 0, 1 << (self._size.bit_length() - 1)
        while step:
            nxt = pos + step
            if nxt <= self._size and self._tree[nxt] <= target:
                pos = nxt
                target -= self._tree[nxt]
            step >>= 1
        # pos is the count of slots whose prefix sum <= target; skip empty slots
        while pos < len(self._ids) and not self._weights[pos]:
            pos += 1
        if pos >= len(self._ids):  # float round-off at the very top
            pos = max(i for i, w in enumerate(self._weights) if w)
        return self._ids[pos]

    def chosen(self, agent_id: str) -> None:
        return None

    def members(self) -> Iterator[str]:
        return iter(sorted(a for a, i in self._slot.items() if self._weights[i]))

    def __len__(self) -> int:
        return self._count


def new_index(strategy: Strategy) -> FreeAgents:
    if strategy is Strategy.ROUND_ROBIN:
        return RingIndex()
    if strategy is Strategy.RANDOM:
        return RandomIndex()
    if strategy is Strategy.WEIGHTED_RANDOM:
        return WeightedIndex()
    return HeapIndex()
