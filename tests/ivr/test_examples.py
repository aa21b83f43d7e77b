"""The example flows in examples/ivr load, validate and behave as their comments say."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from switchboard.ivr import FlowRegistry, IvrSession
from switchboard.ivr import effects as fx
from tests.ivr.conftest import EXAMPLES, only, played, session


def utc(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.yaml")), ids=lambda p: p.name)
def test_each_example_saves_as_version_1(path) -> None:  # type: ignore[no-untyped-def]
    saved = FlowRegistry().save(path.read_text(), source=path.name)
    assert saved.version == 1 and saved.name == path.stem


def support(now: float) -> IvrSession:
    return session((EXAMPLES / "support.yaml").read_text(), now=now)


def past_language(s: IvrSession, now: float, key: str = "1") -> tuple[fx.Effect, ...]:
    played(s, s.start(now), now + 3)
    return s.digit(key, now + 4)


def test_support_after_hours_offers_voicemail() -> None:
    t = utc(2025, 3, 9, 10, 0)  # a Sunday
    s = support(t)
    out = past_language(s, t, "3")  # français
    assert only(out, fx.PlayPrompt)[0].parts[0].text.startswith("Nous sommes fermés")
    out = s.digit("1", t + 6)
    vm = only(out, fx.StartVoicemail)[0]
    assert vm.queue_id == "voicemail" and vm.greeting == fx.PromptPart(
        text="Laissez votre message après le bip.", lang="fr")


def test_support_on_a_holiday_transfers_to_the_on_call_partner() -> None:
    t = utc(2025, 12, 25, 10, 0)
    s = support(t)
    out = past_language(s, t)
    out = played(s, out, t + 10)
    assert only(out, fx.TransferExternal)[0].number == "+390612340000"


def test_support_sends_gold_customers_to_the_priority_queue() -> None:
    t = utc(2025, 3, 4, 9, 0)  # Tuesday 10:00 in Rome
    s = support(t)
    out = past_language(s, t)
    assert only(out, fx.LookupRequest)[0].params == {"phone": "+393331234567"}
    out = s.lookup_result({"tier": "gold", "account_manager": "a7"}, t + 5)
    q = only(out, fx.Enqueue)[0]
    assert (q.queue_id, q.priority, q.preferred_agent) == ("support", 10, "a7")


def test_support_in_chinese_with_an_unknown_caller() -> None:
    t = utc(2025, 3, 4, 9, 0)
    s = support(t)
    past_language(s, t, "4")
    out = s.lookup_result(None, t + 5)
    part = only(out, fx.PlayPrompt)[0].parts[0]
    assert part == fx.PromptPart(text="账单请按1，技术支持请按2，重听请按9。", lang="zh")
