"""Lookups: the request effect, a result, no result, a timeout, late answers."""

from __future__ import annotations

from switchboard.ivr import effects as fx
from switchboard.ivr.logic import flatten
from tests.ivr.conftest import T0, kinds, only, records, session

FLOW = """\
name: t
start: find
steps:
  find:
    type: lookup
    source: webhook
    url: "https://crm.example.com/customers?phone={caller}"
    method: POST
    params: {phone: "{caller}", dnis: "{called}"}
    timeout_s: 2
    into: customer
    next: route
    fallback: anyone
  route:
    type: branch
    rules: [{attr: customer.tier.level, above: 1, next: vip}]
    default: anyone
  vip:
    type: menu
    prompt: "Hello {customer.name}, press 1."
    options: {1: to_vip}
    fallback: to_vip
  to_vip: {type: enqueue, queue: vip, preferred_agent: "{customer.agent}"}
  anyone: {type: enqueue, queue: general, attributes: [customer.name]}
"""


def started():  # type: ignore[no-untyped-def]
    s = session(FLOW, caller="+39333", called="800")
    out = s.start(T0)
    assert kinds(out) == ["LookupRequest", "StartTimer"]
    assert out[0] == fx.LookupRequest(
        step="find", request_id=1, source="webhook",
        url="https://crm.example.com/customers?phone=+39333", method="POST",
        params={"phone": "+39333", "dnis": "800"}, timeout_s=2)
    assert s.next_deadline() == T0 + 2 and s.waiting_for == "lookup"
    return s


def test_a_result_becomes_attributes_and_routes_the_call() -> None:
    s = started()
    out = s.lookup_result({"name": "Ada", "tier": {"level": 2}, "agent": "a7"}, T0 + 1,
                          request_id=1)
    rec = only(out, fx.InputRecorded)[0]
    assert rec.outcome == "lookup"
    assert rec.attributes == {"customer.name": "Ada", "customer.tier.level": 2,
                              "customer.agent": "a7"}
    assert only(out, fx.PlayPrompt)[0].parts[0].text == "Hello Ada, press 1."
    out = s.digit("1", T0 + 2)
    q = only(out, fx.Enqueue)[0]
    assert (q.queue_id, q.preferred_agent) == ("vip", "a7")


def test_no_result_takes_the_fallback() -> None:
    s = started()
    out = s.lookup_result(None, T0 + 0.5)
    assert records(out) == [("find", "", "lookup_failed")]
    q = only(out, fx.Enqueue)[0]
    assert q.queue_id == "general" and q.attributes == {}  # customer.name unknown: left out


def test_a_timeout_takes_the_fallback_and_a_late_answer_is_ignored() -> None:
    s = started()
    assert s.advance(T0 + 1.9) == ()
    out = s.advance(T0 + 2)
    assert records(out) == [("find", "", "lookup_timeout")]
    assert only(out, fx.Enqueue)[0].queue_id == "general"
    assert s.lookup_result({"name": "late"}, T0 + 3, request_id=1) == ()


def test_an_answer_to_another_request_is_ignored() -> None:
    s = started()
    assert s.lookup_result({"name": "x"}, T0 + 1, request_id=7) == ()
    assert s.waiting_for == "lookup"


def test_keys_during_a_lookup_are_kept_for_the_next_menu() -> None:
    s = started()
    assert s.digit("1", T0 + 0.5) == ()
    out = s.lookup_result({"tier": {"level": 5}}, T0 + 1)
    assert kinds(out) == ["InputRecorded", "CollectDigits", "InputRecorded", "Enqueue"]
    q = only(out, fx.Enqueue)[0]
    assert q.queue_id == "vip" and q.preferred_agent is None  # "{customer.agent}" is empty


def test_flatten_keeps_plain_values_only() -> None:
    data = {"a": 1, "b": {"c": "x", "d": {"e": {"f": {"g": 1}}}}, "h": [1, "2"],
            "i": [{"no": 1}], "j": float("nan"), "k": None, "l": object()}
    assert flatten(data, "p") == {"p.a": 1, "p.b.c": "x", "p.h": [1, "2"], "p.k": None}
