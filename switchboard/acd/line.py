"""A waiting line: contacts kept in the order of their sort key.

A queue's line and each pool's line per channel are mostly short (a contact
that finds a free agent joins and leaves at once), and their operations run
several times per routing decision. So a line is two plain lists (keys and
contacts) searched with :mod:`bisect` while it holds at most ``SMALL``
contacts: C-speed search and insertion whose memmove is bounded by ``SMALL``.
Past that it moves into a :class:`sortedcontainers.SortedKeyList`, O(log n)
per operation however long the line (and back when it shrinks to a quarter of
that), so every operation stays O(log n) in waiting contacts.

Sort keys are unique (they end with a sequence number) and a contact's key
never changes while it is in a line; contacts compare by identity.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator
from typing import Any, Generic, Protocol, TypeVar

from sortedcontainers import SortedKeyList

SMALL = 128


class Waiting(Protocol):
    """What a line needs of a contact."""

    @property
    def sort_key(self) -> tuple[float, float, int]: ...


def _key(it: Waiting) -> tuple[float, float, int]:
    return it.sort_key


T = TypeVar("T", bound=Waiting)


class Line(Generic[T]):
    __slots__ = ("_big", "_items", "_keys")

    def __init__(self) -> None:
        self._keys: list[tuple[float, float, int]] = []
        self._items: list[T] = []
        self._big: SortedKeyList[T, Any] | None = None

    def add(self, it: T) -> None:
        big = self._big
        if big is not None:
            big.add(it)
            return
        key = it.sort_key
        i = bisect_right(self._keys, key)
        self._keys.insert(i, key)
        self._items.insert(i, it)
        if len(self._items) > SMALL:
            self._big = SortedKeyList(self._items, key=_key)
            self._keys, self._items = [], []

    def discard(self, it: T) -> None:
        """Remove the contact if it is in the line."""
        big = self._big
        if big is not None:
            big.discard(it)
            if len(big) < SMALL // 4:
                self._items = list(big)
                self._keys = [x.sort_key for x in self._items]
                self._big = None
            return
        i = bisect_left(self._keys, it.sort_key)
        if i < len(self._items) and self._items[i] is it:
            del self._keys[i]
            del self._items[i]

    def index(self, it: T) -> int:
        """0-based place of the contact; ValueError if it is not in the line."""
        big = self._big
        if big is not None:
            return int(big.index(it))
        i = bisect_left(self._keys, it.sort_key)
        if i < len(self._items) and self._items[i] is it:
            return i
        raise ValueError(f"{it!r} is not in the line")

    def first(self) -> T:
        """The contact first in line (IndexError when the line is empty)."""
        big = self._big
        if big is not None:
            head: T = big[0]
            return head
        return self._items[0]

    def __len__(self) -> int:
        big = self._big
        return len(big) if big is not None else len(self._items)

    def __bool__(self) -> bool:
        big = self._big
        return bool(big) if big is not None else bool(self._items)

    def __iter__(self) -> Iterator[T]:
        big = self._big
        return iter(big) if big is not None else iter(self._items)
