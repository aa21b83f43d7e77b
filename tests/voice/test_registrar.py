"""The registrar's binding table, driven with explicit times."""

from __future__ import annotations

import pytest

from switchboard.voice.registrar import OutOfOrder, Registrar


def test_bindings_expire_and_the_latest_wins() -> None:
    reg = Registrar(min_s=60, max_s=600)
    reg.update("ada", "sip:ada@10.0.0.1:5060", "10.0.0.1", 5060, "ada", 120, "c1", 1, now=0)
    reg.update("ada", "sip:ada@10.0.0.2:5060", "10.0.0.2", 5060, "ada", 300, "c2", 1, now=10)
    found = reg.lookup("ada", now=100)
    assert found is not None and found.host == "10.0.0.2"
    assert [b.host for b in reg.bindings("ada", now=200)] == ["10.0.0.2"]  # first expired
    assert reg.lookup("ada", now=310) is None
    assert reg.lookup("bob", now=0) is None


def test_expiry_is_clamped_and_too_brief_is_told() -> None:
    reg = Registrar(min_s=60, max_s=600)
    assert reg.grant(None) == 600 and reg.grant(7200) == 600 and reg.grant(90) == 90
    assert reg.too_brief(30) and not reg.too_brief(0) and not reg.too_brief(None)


def test_zero_expiry_removes_and_stale_cseq_is_refused() -> None:
    reg = Registrar()
    reg.update("ada", "sip:ada@h:1", "h", 1, "ada", 120, "c1", 5, now=0)
    with pytest.raises(OutOfOrder):
        reg.update("ada", "sip:ada@h:1", "h", 1, "ada", 120, "c1", 5, now=1)
    assert reg.lookup("ada", now=2) is not None  # unchanged by the refused one
    reg.update("ada", "sip:ada@h:1", "h", 1, "ada", 0, "c1", 6, now=3)
    assert reg.lookup("ada", now=3) is None and reg.all(now=3) == []
