"""The interpreter driven step by step with explicit times: menus, prompts, timers."""

from __future__ import annotations

import pytest

from switchboard.domain.errors import InvalidTransition, ValidationError
from switchboard.ivr import Status
from switchboard.ivr import effects as fx
from tests.ivr.conftest import T0, kinds, only, played, records, session, texts

MENU = """\
name: t
start: welcome
steps:
  welcome:
    type: play
    prompt: Welcome.
    next: menu
  menu:
    type: menu
    prompt: Press 1 for sales, 2 for support.
    options: {1: sales, 2: support}
    timeout_s: 5
    retries: 2
    invalid: Not a valid choice.
    no_input: I did not hear you.
    fallback: operator
  sales: {type: enqueue, queue: sales, priority: 3, skills: {en: 2}}
  support: {type: hangup, reason: self_service}
  operator: {type: transfer, number: "+390600000"}
"""


def test_start_plays_the_welcome_then_the_menu_waits_for_a_key() -> None:
    s = session(MENU)
    assert s.status is Status.NEW and s.next_deadline() is None
    out = s.start(T0)
    assert kinds(out) == ["PlayPrompt", "StartTimer"]
    play = out[0]
    assert isinstance(play, fx.PlayPrompt) and not play.barge_in
    assert play.parts == (fx.PromptPart(text="Welcome.", lang="en"),)
    assert s.next_deadline() == T0 + 300  # the prompt's safety limit
    out = played(s, out, T0 + 2)
    assert kinds(out) == ["CollectDigits", "PlayPrompt", "StartTimer"]
    assert texts(out) == ["Press 1 for sales, 2 for support."]
    assert only(out, fx.PlayPrompt)[0].barge_in
    out = played(s, out, T0 + 6)
    assert s.waiting_for == "input" and s.next_deadline() == T0 + 11
    assert out == (fx.StartTimer(step="menu", at=T0 + 11, purpose="input"),)
    out = s.digit("1", T0 + 8)
    assert records(out) == [("menu", "1", "selected")]
    enqueue = only(out, fx.Enqueue)[0]
    assert (enqueue.queue_id, enqueue.priority, dict(enqueue.skills)) == ("sales", 3, {"en": 2})
    assert s.status is Status.ENDED and s.next_deadline() is None


def test_invalid_keys_and_silence_are_retried_then_the_fallback_is_taken() -> None:
    s = session(MENU)
    out = played(s, s.start(T0), T0 + 1)
    out = played(s, out, T0 + 4)                      # menu prompt done: wait to T0+9
    out = s.digit("7", T0 + 5)                        # invalid: 1st failure
    assert records(out) == [("menu", "7", "invalid")]
    assert texts(out) == ["Not a valid choice.", "Press 1 for sales, 2 for support."]
    out = played(s, out, T0 + 9)
    assert s.advance(T0 + 13.9) == ()                 # not due yet
    out = s.advance(T0 + 14)                          # silence: 2nd failure
    assert records(out) == [("menu", "", "no_input")]
    assert texts(out) == ["I did not hear you.", "Press 1 for sales, 2 for support."]
    out = played(s, out, T0 + 18)
    out = s.timeout(T0 + 23)                          # 3rd failure > retries: fallback
    assert records(out) == [("menu", "", "no_input")]
    assert kinds(out) == ["InputRecorded", "TransferExternal"]
    assert only(out, fx.TransferExternal)[0].number == "+390600000"
    assert s.status is Status.ENDED


def test_barge_in_stops_the_prompt_and_takes_the_key() -> None:
    s = session(MENU)
    out = played(s, s.start(T0), T0 + 1)
    play_id = only(out, fx.PlayPrompt)[0].play_id
    out = s.digit("2", T0 + 1.5)
    assert kinds(out)[:2] == ["StopPrompt", "InputRecorded"]
    assert out[0] == fx.StopPrompt(step="menu", play_id=play_id)
    assert only(out, fx.HangUp)[0] == fx.HangUp(step="support", reason="self_service")


def test_keys_during_a_prompt_without_barge_in_are_dropped() -> None:
    s = session(MENU)
    s.start(T0)
    assert s.digit("1", T0 + 0.5) == ()
    out = s.prompt_finished(T0 + 2)
    assert texts(out) == ["Press 1 for sales, 2 for support."]  # the 1 was not kept


TYPEAHEAD = MENU.replace("    prompt: Welcome.\n", "    prompt: Welcome.\n    barge_in: true\n")


def test_keys_pressed_over_a_barge_in_play_go_to_the_next_menu() -> None:
    s = session(TYPEAHEAD)
    s.start(T0)
    out = s.digit("1", T0 + 0.5)
    assert kinds(out)[:2] == ["StopPrompt", "CollectDigits"]
    assert texts(out) == []                          # the menu prompt is skipped
    assert records(out) == [("menu", "1", "selected")]
    assert only(out, fx.Enqueue)[0].queue_id == "sales"


def test_a_stale_prompt_finished_is_ignored() -> None:
    s = session(MENU)
    first = s.start(T0)
    out = played(s, first, T0 + 1)
    assert s.prompt_finished(T0 + 2, only(first, fx.PlayPrompt)[0].play_id) == ()
    assert s.waiting_for == "prompt"
    played(s, out, T0 + 3)
    assert s.waiting_for == "input"


def test_a_prompt_that_never_reports_its_end_times_out() -> None:
    s = session(MENU)
    s.start(T0)
    out = s.advance(T0 + 300)
    assert texts(out) == ["Press 1 for sales, 2 for support."]


def test_bad_inputs_raise_and_change_nothing() -> None:
    s = session(MENU)
    with pytest.raises(InvalidTransition):
        s.digit("1", T0)
    s.start(T0)
    with pytest.raises(InvalidTransition):
        s.start(T0)
    with pytest.raises(ValidationError) as info:
        s.digit("A", T0 + 1)
    assert info.value.field == "digit"
    with pytest.raises(ValidationError, match="backwards"):
        s.advance(T0 - 1)
    with pytest.raises(ValidationError):
        s.lookup_result([1, 2], T0)  # type: ignore[arg-type]
    assert s.step == "welcome" and s.waiting_for == "prompt"


def test_inputs_after_the_end_are_ignored() -> None:
    s = session(MENU)
    s.start(T0)
    assert s.hangup(T0 + 1) == ()
    assert s.status is Status.ENDED and s.next_deadline() is None
    assert s.digit("1", T0 + 2) == ()
    assert s.advance(T0 + 500) == ()
    assert s.prompt_finished(T0 + 3) == ()


def test_the_session_is_deterministic() -> None:
    def run() -> list[fx.Effect]:
        s = session(MENU)
        out = list(s.start(T0))
        out += s.prompt_finished(T0 + 1)
        out += s.digit("9", T0 + 2)
        out += s.advance(T0 + 400)
        out += s.digit("1", T0 + 401)
        return out
    assert run() == run()


SETS = """\
name: t
start: lang
language: en
steps:
  lang:
    type: menu
    prompt: "1 English, 2 italiano"
    options: {1: hi, 2: set_it}
    fallback: hi
  set_it: {type: set, values: {language: it, greeting: "Ciao {caller}"}, next: hi}
  hi:
    type: play
    prompt:
      say: {en: "Hello {caller}", it: "{greeting}, benvenuto"}
      file: "prompts/{language}/hi.wav"
    next: route
  route:
    type: branch
    rules:
      - {attr: vip, equals: true, next: vip}
      - {attr: language, in: [it, fr], next: latin}
      - {attr: score, above: 50, next: vip}
    default: bye
  vip: {type: enqueue, queue: vip}
  latin: {type: enqueue, queue: latin, skills: {"{language}": 4}}
  bye: {type: hangup}
"""


def test_set_language_and_templates_choose_and_fill_prompts() -> None:
    s = session(SETS, caller="+39333")
    out = played(s, s.start(T0), T0 + 1)
    out = s.digit("2", T0 + 2)
    assert records(out)[1] == ("set_it", "", "set")
    assert only(out, fx.InputRecorded)[1].attributes == {"language": "it",
                                                          "greeting": "Ciao +39333"}
    part = only(out, fx.PlayPrompt)[0].parts[0]
    assert part == fx.PromptPart(text="Ciao +39333, benvenuto", lang="it",
                                 file="prompts/it/hi.wav")
    out = played(s, out, T0 + 5)
    q = only(out, fx.Enqueue)[0]
    assert q.queue_id == "latin" and dict(q.skills) == {"it": 4}
    assert q.attributes == {"language": "it", "greeting": "Ciao +39333"}


@pytest.mark.parametrize(("attrs", "queue"), [
    ({"vip": True}, "vip"), ({"vip": "true"}, "vip"), ({"score": "51"}, "vip"),
    ({"score": 50}, None), ({"score": "n/a"}, None), ({}, None),
])
def test_branch_rules(attrs: dict[str, object], queue: str | None) -> None:
    s = session(SETS, attributes=attrs)
    out = played(s, s.start(T0), T0 + 1)
    out = played(s, s.digit("1", T0 + 2), T0 + 3)
    got = only(out, fx.Enqueue)
    assert (got[0].queue_id if got else None) == queue
    if queue is None:
        assert only(out, fx.HangUp) == [fx.HangUp(step="bye")]


def test_starting_language_comes_from_the_call_when_valid() -> None:
    s = session(SETS, attributes={"language": "it", "greeting": "Salve"})
    out = played(s, s.start(T0), T0 + 1)
    out = s.digit("1", T0 + 2)
    assert only(out, fx.PlayPrompt)[0].parts[0].text == "Salve, benvenuto"
    s2 = session(SETS, attributes={"language": "de"})
    assert s2.attributes["language"] == "en"
