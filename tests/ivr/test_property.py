"""Property: whatever the caller keys and whenever the timers fire, a call through
an example flow ends in a terminal effect within a bounded number of inputs,
without exceptions, and every effect maps onto valid engine commands."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from switchboard.ivr import TERMINAL, CallInfo, FlowError, IvrSession, Status, load_flow
from switchboard.ivr import effects as fx
from switchboard.ivr.model import DIGITS, Flow
from tests.ivr.conftest import EXAMPLES, T0, flow

FLOWS = {p.stem: flow(p.read_text()) for p in sorted(EXAMPLES.glob("*.yaml"))}
DRAIN_LIMIT = 500  # inputs after the random ones; far above any path of the examples

lookup_data = st.one_of(
    st.none(),
    st.dictionaries(st.sampled_from(["name", "tier", "agent", "balance", "account_manager"]),
                    st.one_of(st.text(max_size=6), st.integers(-5, 5),
                              st.sampled_from(["gold", "platinum", "a1"])), max_size=4))
actions = st.lists(st.one_of(
    st.tuples(st.just("digit"), st.sampled_from(DIGITS)),
    st.tuples(st.just("timeout"), st.none()),
    st.tuples(st.just("prompt"), st.none()),
    st.tuples(st.just("lookup"), lookup_data),
    st.tuples(st.just("wait"), st.floats(0, 20)),
    st.tuples(st.just("queue"), st.booleans()),
), max_size=60)


def step_once(s: IvrSession, action: str, arg: Any,
              t: float) -> tuple[float, tuple[fx.Effect, ...]]:
    if action == "digit":
        return t, s.digit(arg, t)
    if action == "timeout":
        t = max(t, s.next_deadline() or t)
        return t, s.advance(t)
    if action == "prompt":
        return t, s.prompt_finished(t)
    if action == "lookup":
        return t, s.lookup_result(arg, t)
    if action == "wait":
        return t + arg, s.advance(t + arg)
    if s.status is Status.QUEUED:
        return t, s.after_call(t) if arg else s.queue_refused(t)
    return t, ()


def run(f: Flow, start: float, script: list[tuple[str, Any]], after: bool) -> list[fx.Effect]:
    s = IvrSession(f, CallInfo(interaction_id="c1", caller="+39333", called="800"), start)
    t = start
    out = list(s.start(t))
    for action, arg in script:
        if s.status is Status.ENDED:
            break
        t, effects = step_once(s, action, arg, t)
        out += effects
    for _ in range(DRAIN_LIMIT):
        if s.status is Status.ENDED:
            break
        if s.status is Status.QUEUED:
            out += s.after_call(t) if after else s.queue_refused(t)
            continue
        deadline = s.next_deadline()
        assert deadline is not None, f"running at {s.step} ({s.waiting_for}) with no timer"
        t = max(t, deadline)
        out += s.advance(t)
    assert s.status is Status.ENDED, f"still {s.status} at {s.step}"
    assert s.next_deadline() is None
    return out


@pytest.mark.parametrize("name", sorted(FLOWS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(script=actions, offset=st.floats(0, 366 * 86400), after=st.booleans())
def test_every_call_ends_in_a_terminal_effect(name: str, script: list[tuple[str, Any]],
                                              offset: float, after: bool) -> None:
    out = run(FLOWS[name], T0 + offset, script, after)
    terminal = [e for e in out if isinstance(e, TERMINAL)]
    assert terminal, [type(e).__name__ for e in out]
    final = [e for e in terminal if not isinstance(e, fx.Enqueue)]
    assert len(final) <= 1 and (not final or final[0] is terminal[-1])
    play_ids = [e.play_id for e in out if isinstance(e, fx.PlayPrompt)]
    assert play_ids == sorted(set(play_ids))
    for effect in out:
        effect.commands("c1")  # builds valid engine commands (they validate themselves)
        if isinstance(effect, fx.RecordSurvey):
            assert 1 <= effect.event("c1", T0).score <= 5


def test_the_example_flows_are_all_tested() -> None:
    assert set(FLOWS) >= {"support", "sales"}


@st.composite
def random_flows(draw: st.DrawFn) -> dict[str, Any]:
    """Small random flows: step i always leads on to step i + 1 (so all are
    reachable), other targets point forward, menu options anywhere (loops a
    caller can key round); the last step hangs up."""
    n = draw(st.integers(2, 8))
    ids = [f"s{i}" for i in range(n)]
    steps: dict[str, Any] = {ids[-1]: {"type": "hangup"}}
    for i, sid in enumerate(ids[:-1]):
        first = ids[i + 1]
        ahead = st.sampled_from(ids[i + 1:])
        kind = draw(st.sampled_from(["play", "menu", "collect", "set", "branch", "lookup",
                                     "callback", "enqueue", "hours"]))
        if kind == "play":
            steps[sid] = {"type": "play", "prompt": "p", "barge_in": draw(st.booleans()),
                          "next": first}
        elif kind == "menu":
            keys = draw(st.lists(st.sampled_from("019#"), min_size=1, max_size=3, unique=True))
            steps[sid] = {"type": "menu", "prompt": "m", "retries": draw(st.integers(0, 2)),
                          "options": {k: draw(st.sampled_from(ids)) for k in keys},
                          "fallback": first}
        elif kind == "collect":
            steps[sid] = {"type": "collect", "prompt": "c", "into": "x", "max_length": 3,
                          "validate": {"range": [1, 500]}, "next": draw(ahead),
                          "fallback": first}
        elif kind == "set":
            steps[sid] = {"type": "set", "values": {"y": "{x}"}, "next": first}
        elif kind == "branch":
            steps[sid] = {"type": "branch", "default": first,
                          "rules": [{"attr": "x", "above": 100, "next": draw(ahead)}]}
        elif kind == "lookup":
            steps[sid] = {"type": "lookup", "source": "contacts", "into": "r",
                          "next": draw(ahead), "fallback": first}
        elif kind == "hours":
            steps[sid] = {"type": "hours", "timezone": "Europe/Rome", "open": draw(ahead),
                          "weekly": {"mon": "09:00-17:00"}, "closed": first}
        elif kind == "callback":
            steps[sid] = {"type": "callback", "queue": "q", "prompt": "cb",
                          "accepted": ids[-1], "declined": first}
        else:
            steps[sid] = {"type": "enqueue", "queue": "q", "if_refused": first}
    return {"name": "random", "start": "s0", "steps": steps}


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(data=random_flows(), script=actions, offset=st.floats(0, 7 * 86400),
       after=st.booleans())
def test_every_call_through_a_random_flow_ends(data: dict[str, Any],
                                               script: list[tuple[str, Any]],
                                               offset: float, after: bool) -> None:
    out = run(load_flow(data), T0 + offset, script, after)
    assert any(isinstance(e, TERMINAL) for e in out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=random_flows(), rewires=st.lists(st.tuples(st.integers(0, 7), st.integers(0, 8)),
                                             max_size=3),
       script=actions, after=st.booleans())
def test_a_rewired_flow_is_refused_with_a_flow_error_or_every_call_ends(
        data: dict[str, Any], rewires: list[tuple[int, int]],
        script: list[tuple[str, Any]], after: bool) -> None:
    steps = data["steps"]
    ids = list(steps)
    for which, to in rewires:
        step = steps[ids[which % len(ids)]]
        fields = [k for k in ("next", "fallback", "default", "closed", "declined", "if_refused")
                  if k in step]
        if fields:
            step[fields[0]] = ids[to] if to < len(ids) else "nowhere"
    try:
        f = load_flow(data)
    except FlowError:
        return  # refused with a clear error: that is the other allowed outcome
    out = run(f, T0, script, after)
    assert any(isinstance(e, TERMINAL) for e in out)
