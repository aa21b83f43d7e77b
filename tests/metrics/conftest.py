"""Shared helpers for the metrics tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metrics"


def check_rows(rows: list[dict[str, Any]], expected: dict[str, dict[str, Any]]) -> None:
    """Every expected key is a row (and no other), with these figures."""
    assert [r["key"] for r in rows] == sorted(expected)
    for row in rows:
        for name, want in expected[row["key"]].items():
            got = row[name]
            if want is None or isinstance(want, str | bool):
                assert got == want, (row["key"], name, got, want)
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (row["key"], name, got)
