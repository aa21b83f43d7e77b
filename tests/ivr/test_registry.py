"""Versions: saving, identical content, old versions readable, running calls pinned."""

from __future__ import annotations

import pytest

from switchboard.domain.errors import NotFound
from switchboard.ivr import FlowError, FlowRegistry
from switchboard.ivr import effects as fx
from tests.ivr.conftest import T0, only, session

V1 = """\
name: main
start: menu
steps:
  menu:
    type: menu
    prompt: Press 1 for sales.
    options: {1: sales}
    fallback: sales
  sales: {type: enqueue, queue: sales}
"""
V2 = V1.replace("queue: sales}", "queue: sales_new}").replace("for sales.", "for the new sales.")


def test_versions_are_numbered_per_name_and_identical_content_is_not_a_new_version() -> None:
    reg = FlowRegistry()
    one = reg.save(V1)
    assert one.version == 1 and reg.get("main") is one
    assert reg.save("# same flow, new comment\n" + V1) is one
    two = reg.save(V2)
    assert two.version == 2 and two.digest != one.digest
    assert reg.get("main") is two and reg.get("main", 1) is one
    assert reg.versions("main") == [1, 2] and reg.names() == ["main"]
    other = reg.save(V1.replace("name: main", "name: other"))
    assert other.version == 1 and reg.names() == ["main", "other"]


def test_an_invalid_flow_is_not_saved() -> None:
    reg = FlowRegistry()
    reg.save(V1)
    with pytest.raises(FlowError):
        reg.save(V1.replace("fallback: sales", "fallback: nowhere"))
    assert reg.versions("main") == [1]


def test_unknown_names_and_versions() -> None:
    reg = FlowRegistry()
    with pytest.raises(NotFound):
        reg.get("main")
    reg.save(V1)
    with pytest.raises(NotFound, match="versions 1 to 1"):
        reg.get("main", 2)
    assert reg.versions("nope") == []


def test_a_running_call_keeps_the_version_it_started_with() -> None:
    reg = FlowRegistry()
    reg.save(V1)
    old_call = session(reg.get("main"))
    out = old_call.start(T0)
    assert old_call.version == 1
    reg.save(V2)                                       # saved while the call is in the menu
    new_call = session(reg.get("main"), interaction_id="c2")
    new_out = new_call.start(T0 + 1)
    assert new_call.version == 2
    assert only(new_out, fx.PlayPrompt)[0].parts[0].text == "Press 1 for the new sales."
    old_call.prompt_finished(T0 + 2, only(out, fx.PlayPrompt)[0].play_id)
    assert only(old_call.digit("1", T0 + 3), fx.Enqueue)[0].queue_id == "sales"
    assert only(new_call.digit("1", T0 + 3), fx.Enqueue)[0].queue_id == "sales_new"
