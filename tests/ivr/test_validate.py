"""Graph checks: unknown targets, unreachable steps, loops without exit, misplaced steps."""

from __future__ import annotations

import pytest

from switchboard.ivr import (
    FlowError,
    LoopWithoutExit,
    MisplacedStep,
    UnknownTarget,
    UnreachableStep,
    parse_flow,
)


def error_of(text: str) -> FlowError:
    with pytest.raises(FlowError) as info:
        parse_flow(text, source="f.yaml")
    return info.value


def test_unknown_target_names_step_field_and_line() -> None:
    err = error_of("""\
name: t
start: menu
steps:
  menu:
    type: menu
    prompt: P
    options:
      1: billing
      2: bye
    fallback: bye
  bye: {type: hangup}
""")
    assert isinstance(err, UnknownTarget)
    assert err.field == "steps.menu.options.1" and err.step == "menu" and err.line == 8
    assert str(err) == ("f.yaml:8: steps.menu.options.1: unknown step 'billing'; "
                        "known steps: menu, bye")


def test_unknown_start_and_every_unknown_target_is_listed() -> None:
    err = error_of("name: t\nstart: nowhere\nsteps:\n"
                   "  a: {type: play, prompt: P, next: b}\n"
                   "  c: {type: play, prompt: P, next: d}\n")
    assert isinstance(err, UnknownTarget) and err.field == "start" and err.step is None
    assert [e.field for e in err.errors] == ["start", "steps.a.next", "steps.c.next"]


def test_unreachable_steps_are_each_reported() -> None:
    err = error_of("""\
name: t
start: a
steps:
  a: {type: hangup}
  orphan: {type: play, prompt: P, next: a}
  lost: {type: hangup}
""")
    assert isinstance(err, UnreachableStep)
    assert err.step == "orphan" and err.line == 5
    assert "cannot be reached from start ('a')" in err.message
    assert [e.step for e in err.errors] == ["orphan", "lost"]


def test_a_loop_with_no_terminal_step_is_refused() -> None:
    err = error_of("""\
name: t
start: menu
steps:
  menu:
    type: menu
    prompt: P
    options: {1: more, 2: bye}
    fallback: bye
  more:
    type: menu
    prompt: Q
    options: {1: again}
    fallback: again
  again: {type: play, prompt: R, next: more}
  bye: {type: hangup}
""")
    assert isinstance(err, LoopWithoutExit)
    assert err.step == "more" and err.line == 9
    assert "more -> again -> more never reaches a terminal step" in err.message


def test_a_menu_whose_fallback_comes_back_traps_a_silent_caller() -> None:
    err = error_of("""\
name: t
start: menu
steps:
  menu:
    type: menu
    prompt: P
    options: {1: bye}
    fallback: sorry
  sorry: {type: play, prompt: Sorry, next: menu}
  bye: {type: hangup}
""")
    assert isinstance(err, LoopWithoutExit)
    assert "silent caller: menu -> sorry -> menu" in err.message


def test_a_menu_option_may_loop_back() -> None:
    f = parse_flow("""\
name: t
start: menu
steps:
  menu:
    type: menu
    prompt: P
    options: {9: menu, 1: bye}
    fallback: bye
  bye: {type: hangup}
""")
    assert f.step("menu").targets()[0] == ("options.9", "menu")


def test_a_loop_of_instant_steps_never_waits() -> None:
    err = error_of("""\
name: t
start: a
steps:
  a:
    type: branch
    rules: [{attr: done, exists: true, next: bye}]
    default: b
  b: {type: set, values: {n: "{n}x"}, next: a}
  bye: {type: hangup}
""")
    assert isinstance(err, LoopWithoutExit)
    assert err.step == "a"
    assert "loop without a wait: a -> b -> a" in err.message


def test_routing_steps_after_an_accepted_callback_or_after_the_call_are_refused() -> None:
    err = error_of("""\
name: t
start: cb
steps:
  cb:
    type: callback
    queue: q
    prompt: P
    accepted: again
    declined: q1
  again: {type: enqueue, queue: q}
  q1: {type: enqueue, queue: q, after_call: q2}
  q2: {type: enqueue, queue: q}
""")
    assert isinstance(err, MisplacedStep)
    assert [(e.step, e.field) for e in err.errors] == [("again", "steps.again"),
                                                       ("q2", "steps.q2")]
    assert "after a callback was accepted" in err.errors[0].message
    assert "after the call" in err.errors[1].message
