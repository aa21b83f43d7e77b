"""Collecting digits (CED): terminator, lengths, inter-digit timeout, checks, masking."""

from __future__ import annotations

import pytest

from switchboard.ivr import Status
from switchboard.ivr import effects as fx
from switchboard.ivr.values import luhn_ok, mask, render
from tests.ivr.conftest import T0, kinds, only, played, records, session, texts


def collect(extra: str = "", *, sensitive: bool = False) -> str:
    return f"""\
name: t
start: acct
steps:
  acct:
    type: collect
    prompt: Key your number then hash.
    into: account
    min_length: 4
    max_length: 8
    terminator: "#"
    timeout_s: 10
    inter_digit_timeout_s: 3
    retries: 1
    invalid: That is not valid.
    sensitive: {str(sensitive).lower()}
{extra}    next: done
    fallback: give_up
  done: {{type: enqueue, queue: q}}
  give_up: {{type: hangup, reason: no_account}}
"""


def keyed(s, digits: str, t: float) -> tuple[fx.Effect, ...]:  # type: ignore[no-untyped-def]
    out: tuple[fx.Effect, ...] = ()
    for i, d in enumerate(digits):
        out = s.digit(d, t + i * 0.5)
    return out


def started(text: str):  # type: ignore[no-untyped-def]
    s = session(text)
    out = s.start(T0)
    assert kinds(out) == ["CollectDigits", "PlayPrompt", "StartTimer"]
    assert out[0] == fx.CollectDigits(step="acct", max_digits=8, terminator="#", timeout_s=10)
    played(s, out, T0 + 2)
    return s


def test_terminator_ends_the_input_and_stores_the_attribute() -> None:
    s = started(collect())
    out = keyed(s, "12345#", T0 + 3)
    assert records(out) == [("acct", "12345", "collected")]
    assert only(out, fx.InputRecorded)[0].attributes == {"account": "12345"}
    assert s.attributes["account"] == "12345"
    assert only(out, fx.Enqueue)[0].attributes == {"account": "12345", "language": "en"}


def test_max_length_ends_the_input_without_terminator() -> None:
    s = started(collect())
    out = keyed(s, "12345678", T0 + 3)
    assert records(out) == [("acct", "12345678", "collected")]


def test_inter_digit_timeout_accepts_enough_digits() -> None:
    s = started(collect())
    keyed(s, "12345", T0 + 3)                 # last key at T0+5
    assert s.next_deadline() == T0 + 8
    out = s.advance(T0 + 8)
    assert records(out) == [("acct", "12345", "collected")]


def test_too_few_digits_is_invalid_then_the_retry_succeeds() -> None:
    s = started(collect())
    out = keyed(s, "12#", T0 + 3)
    assert records(out) == [("acct", "12#", "invalid")]
    assert texts(out) == ["That is not valid.", "Key your number then hash."]
    played(s, out, T0 + 6)
    out = keyed(s, "9876#", T0 + 7)
    assert records(out) == [("acct", "9876", "collected")]


def test_silence_until_the_first_digit_timeout_then_the_fallback() -> None:
    s = started(collect())
    assert s.next_deadline() == T0 + 12
    out = s.advance(T0 + 12)
    assert records(out) == [("acct", "", "no_input")]
    out = played(s, out, T0 + 14)
    out = s.advance(T0 + 24)
    assert only(out, fx.HangUp) == [fx.HangUp(step="give_up", reason="no_account")]
    assert s.status is Status.ENDED


def test_luhn_check_and_masking_of_sensitive_input() -> None:
    s = started(collect("    validate: luhn\n", sensitive=True))
    out = keyed(s, "79927391", T0 + 3)         # 8 keys (max_length); fails Luhn
    assert records(out) == [("acct", "****7391", "invalid")]
    played(s, out, T0 + 8)
    out = keyed(s, "79927398", T0 + 9)         # the classic valid Luhn example
    assert records(out) == [("acct", "****7398", "collected")]
    assert only(out, fx.InputRecorded)[0].attributes == {"account": "****7398"}
    assert only(out, fx.Enqueue)[0].attributes["account"] == "****7398"
    assert s.attributes["account"] == "79927398"  # the real value stays in the session


@pytest.mark.parametrize(("rule", "good", "bad"), [
    ("{regex: '1[0-9]{3}'}", "1234", "2234"),
    ("{range: [1000, 1500]}", "1500", "1501"),
    ("[luhn, {regex: '[0-9]{8}'}]", "79927398", "4111111111111111"[:8]),
])
def test_regex_and_range_checks(rule: str, good: str, bad: str) -> None:
    s = started(collect(f"    validate: {rule}\n"))
    end = "" if len(bad) == 8 else "#"  # 8 keys end the input by themselves
    out = keyed(s, bad + end, T0 + 3)
    assert records(out)[0][2] == "invalid"
    played(s, out, T0 + 10)
    out = keyed(s, good + end, T0 + 11)
    assert records(out) == [("acct", good, "collected")]


def test_star_can_be_keyed_when_it_is_not_the_terminator() -> None:
    s = started(collect("    validate: {regex: '[0-9]+[*][0-9]+'}\n"))
    out = keyed(s, "12*34#", T0 + 3)
    assert records(out) == [("acct", "12*34", "collected")]


def test_luhn_and_mask_helpers() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("0") and not luhn_ok("4111111111111112")
    assert not luhn_ok("") and not luhn_ok("12a4")
    assert mask("123") == "***" and mask("123456") == "**3456"
    assert render("{a}{{b}}{c}", {"a": 1, "c": True}) == "1{b}true"
