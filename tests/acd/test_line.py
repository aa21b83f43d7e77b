"""The waiting line keeps sort-key order through its short and long forms."""

from __future__ import annotations

from dataclasses import dataclass
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from switchboard.acd.line import SMALL, Line


@dataclass(eq=False)
class Contact:
    sort_key: tuple[float, float, int]


def contacts(n: int) -> list[Contact]:
    # priorities 0..3 over arrival order: keys not in arrival order
    return [Contact((-float(i % 4), float(i), i)) for i in range(n)]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 23)), max_size=200))
def test_line_matches_a_sorted_reference(ops: list[tuple[bool, int]]) -> None:
    with patch("switchboard.acd.line.SMALL", 4):  # so that it changes form often
        check_against_reference(ops)


def check_against_reference(ops: list[tuple[bool, int]]) -> None:
    pool = contacts(24)
    line: Line[Contact] = Line()
    ref: set[int] = set()
    for add, i in ops:
        if add and i not in ref:
            line.add(pool[i])
            ref.add(i)
        elif not add:
            line.discard(pool[i])  # absent: nothing happens
            ref.discard(i)
        expected = sorted((pool[j] for j in ref), key=lambda c: c.sort_key)
        assert len(line) == len(expected)
        assert bool(line) == bool(expected)
        if expected:
            assert line.first() is expected[0]
            k = len(expected) // 2
            assert line.index(expected[k]) == k
    assert list(line) == sorted((pool[j] for j in ref), key=lambda c: c.sort_key)


def test_line_grows_past_small_and_shrinks_back() -> None:
    pool = contacts(2 * SMALL)
    line: Line[Contact] = Line()
    for c in reversed(pool):
        line.add(c)
    assert list(line) == sorted(pool, key=lambda c: c.sort_key)
    for c in pool[: 2 * SMALL - 5]:
        line.discard(c)
    assert list(line) == sorted(pool[-5:], key=lambda c: c.sort_key)
    with pytest.raises(ValueError):
        line.index(pool[0])
    with pytest.raises(IndexError):
        Line[Contact]().first()
