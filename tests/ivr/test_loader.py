"""Loading flows: what parses into what, and every field error with its step and line."""

from __future__ import annotations

import json
from datetime import date

import pytest

from switchboard.domain.errors import ValidationError
from switchboard.ivr import (
    BadValue,
    FlowError,
    FlowSyntaxError,
    MissingFallback,
    UnknownStepType,
    load_flow,
    parse_flow,
)
from switchboard.ivr import model as m
from tests.ivr.conftest import EXAMPLES, flow

BASE = """\
name: t
start: menu
steps:
  menu:
    type: menu
    prompt: Press 1.
    options: {1: bye}
    fallback: bye
  bye:
    type: hangup
"""


def with_step(step_yaml: str, *, start: str = "s") -> str:
    """A flow whose start is the given step (indented under steps:), ending at bye."""
    return f"name: t\nstart: {start}\nsteps:\n{step_yaml}  bye:\n    type: hangup\n"


def test_minimal_flow_parses_with_defaults() -> None:
    f = flow(BASE)
    assert f.name == "t" and f.start == "menu" and f.language == "en"
    menu = f.step("menu")
    assert isinstance(menu, m.Menu)
    assert menu.options == {"1": "bye"}
    assert (menu.timeout_s, menu.retries, menu.barge_in) == (5.0, 2, True)
    assert menu.prompt.texts == {"en": "Press 1."}
    assert menu.line == 4 and f.step("bye").line == 9
    assert f.version is None and len(f.digest) == 64


def test_every_step_type_parses() -> None:
    f = flow((EXAMPLES / "support.yaml").read_text())
    assert {s.type for s in f.steps.values()} == set(m.STEP_TYPES)
    hours = f.step("hours")
    assert isinstance(hours, m.Hours)
    assert hours.weekly[0] == ((510, 780), (840, 1080))  # 08:30-13:00, 14:00-18:00
    assert 6 not in hours.weekly or hours.weekly[6] == ()
    assert hours.holidays[date(2025, 12, 25)] == ()
    assert hours.holidays[date(2025, 12, 24)] == ((540, 720),)
    account = f.step("account")
    assert isinstance(account, m.Collect)
    assert account.checks == (m.Check("luhn"),) and account.sensitive
    assert f.step("main_menu").prompt.texts["zh"].startswith("{customer.name}")  # type: ignore[attr-defined]


def test_json_text_and_data_parse_the_same_flow() -> None:
    data = {"name": "t", "start": "a", "steps": {
        "a": {"type": "play", "prompt": {"say": "Ciao", "lang": "it"}, "next": "b"},
        "b": {"type": "hangup", "reason": "done"}}}
    from_text = parse_flow(json.dumps(data, indent=2))
    from_data = load_flow(data)
    assert from_text.digest == from_data.digest
    assert from_text.step("a").prompt.texts == {"it": "Ciao"}  # type: ignore[attr-defined]
    assert from_data.step("a").line is None


def test_digest_ignores_layout_and_comments_but_not_content() -> None:
    a = flow(BASE)
    b = flow("# a comment\n" + BASE.replace("options: {1: bye}", "options:\n      1: bye"))
    c = flow(BASE.replace("Press 1.", "Press one."))
    assert a.digest == b.digest
    assert a.digest != c.digest


def test_keys_are_taken_as_written_and_clock_times_stay_text() -> None:
    f = flow(with_step("""\
  s:
    type: hours
    timezone: UTC
    weekly: {mon: [8:30-9:00]}
    open: bye
    closed: bye
"""))
    assert f.step("s").weekly == {0: ((510, 540),)}  # type: ignore[attr-defined]


def error_of(text: str) -> FlowError:
    with pytest.raises(FlowError) as info:
        parse_flow(text, source="f.yaml")
    return info.value


def test_errors_are_validation_errors_with_field_step_and_line() -> None:
    err = error_of(BASE.replace("type: hangup", "type: hang_up"))
    assert isinstance(err, UnknownStepType) and isinstance(err, ValidationError)
    assert err.field == "steps.bye.type" and err.step == "bye" and err.line == 10
    assert str(err).startswith("f.yaml:10: steps.bye.type: unknown step type 'hang_up'")
    assert "hangup" in err.message and err.code == "flow_unknown_step_type"
    assert err.to_dict()["field"] == "steps.bye.type"


@pytest.mark.parametrize(("step", "needs"), [
    ("  s:\n    type: menu\n    prompt: P\n    options: {1: bye}\n", "fallback"),
    ("  s:\n    type: collect\n    prompt: P\n    into: x\n    next: bye\n", "fallback"),
    ("  s:\n    type: lookup\n    source: contacts\n    into: x\n    next: bye\n", "fallback"),
    ("  s:\n    type: hours\n    timezone: UTC\n    open: bye\n", "closed"),
    ("  s:\n    type: branch\n    rules: [{attr: x, exists: true, next: bye}]\n", "default"),
    ("  s:\n    type: callback\n    queue: q\n    prompt: P\n    accepted: bye\n", "declined"),
    ("  s:\n    type: survey\n    prompt: P\n    next: bye\n", "fallback"),
])
def test_missing_fallback_names_the_step(step: str, needs: str) -> None:
    err = error_of(with_step(step))
    assert isinstance(err, MissingFallback)
    assert err.step == "s" and err.field == "steps.s" and err.line == 4
    assert f"needs {needs}" in err.message


@pytest.mark.parametrize(("step", "field", "words"), [
    ("  s: {type: play, prompt: {say: Hi, lang: de}, next: bye}\n", "steps.s.prompt.lang",
     "unknown language 'de'"),
    ("  s: {type: play, prompt: {say: {en: Hi, es: Hola}}, next: bye}\n",
     "steps.s.prompt.say.es", "unknown language 'es'"),
    ("  s: {type: play, prompt: {lang: it}, next: bye}\n", "steps.s.prompt", "give say"),
    ("  s: {type: play, prompt: 'Hi {name', next: bye}\n", "steps.s.prompt",
     "stray '{'"),
    ("  s: {type: play, prompt: Hi, next: bye, colour: red}\n", "steps.s.colour",
     "unknown field"),
    ("  s: {type: play, prompt: Hi}\n", "steps.s", "next is required"),
    ("  s: {type: collect, prompt: P, into: x, validate: {regex: '[0-9'}, next: bye, "
     "fallback: bye}\n", "steps.s.validate.regex", "not a valid regular expression"),
    ("  s: {type: collect, prompt: P, into: x, validate: [luhn, md5], next: bye, "
     "fallback: bye}\n", "steps.s.validate[1]", "must be luhn"),
    ("  s: {type: collect, prompt: P, into: x, validate: {range: [9, 1]}, next: bye, "
     "fallback: bye}\n", "steps.s.validate.range", "below LOW"),
    ("  s: {type: collect, prompt: P, into: x, min_length: 5, max_length: 4, next: bye, "
     "fallback: bye}\n", "steps.s.max_length", "at least min_length"),
    ("  s: {type: collect, prompt: P, into: caller, next: bye, fallback: bye}\n",
     "steps.s.into", "read-only"),
    ("  s: {type: collect, prompt: P, into: 'a b', next: bye, fallback: bye}\n",
     "steps.s.into", "not an attribute name"),
    ("  s: {type: menu, prompt: P, options: {12: bye}, fallback: bye}\n",
     "steps.s.options.12", "one key"),
    ("  s: {type: menu, prompt: P, options: {1: bye}, timeout_s: 0, fallback: bye}\n",
     "steps.s.timeout_s", "above 0"),
    ("  s: {type: menu, prompt: P, options: {1: bye}, retries: -1, fallback: bye}\n",
     "steps.s.retries", "from 0 to 10"),
    ("  s: {type: hours, timezone: Mars/Olympus, open: bye, closed: bye}\n",
     "steps.s.timezone", "unknown time zone"),
    ("  s: {type: hours, timezone: UTC, weekly: {mon: ['18:00-08:00']}, open: bye, "
     "closed: bye}\n", "steps.s.weekly.mon[0]", "passes midnight"),
    ("  s: {type: hours, timezone: UTC, weekly: {mon: ['25:00-26:00']}, open: bye, "
     "closed: bye}\n", "steps.s.weekly.mon[0]", "not a valid time"),
    ("  s: {type: hours, timezone: UTC, weekly: {monday: closed}, open: bye, closed: bye}\n",
     "steps.s.weekly.monday", "unknown field"),
    ("  s: {type: hours, timezone: UTC, holidays: [2025-02-30], open: bye, closed: bye}\n",
     "steps.s.holidays[0]", "not a date"),
    ("  s: {type: hours, timezone: UTC, holidays: [2025-12-25, 2025-12-25], open: bye, "
     "closed: bye}\n", "steps.s.holidays[1]", "listed twice"),
    ("  s: {type: set, values: {language: de}, next: bye}\n", "steps.s.values.language",
     "unknown language"),
    ("  s: {type: branch, rules: [{attr: x, above: high, next: bye}], default: bye}\n",
     "steps.s.rules[0].above", "must be a number"),
    ("  s: {type: branch, rules: [{attr: x, equals: 1, in: [1], next: bye}], default: bye}\n",
     "steps.s.rules[0]", "exactly one"),
    ("  s: {type: lookup, source: ldap, into: x, next: bye, fallback: bye}\n",
     "steps.s.source", "webhook or contacts"),
    ("  s: {type: lookup, source: webhook, url: 'ftp://x', into: x, next: bye, "
     "fallback: bye}\n", "steps.s.url", "http://"),
    ("  s: {type: lookup, source: webhook, url: 'https://x', timeout_s: 60, into: x, "
     "next: bye, fallback: bye}\n", "steps.s.timeout_s", "at most 30"),
    ("  s: {type: enqueue, queue: q, skills: {en: 11}}\n", "steps.s.skills.en",
     "from 1 to 10"),
    ("  s: {type: enqueue, queue: q, priority: high}\n", "steps.s.priority", "whole number"),
    ("  s: {type: transfer, number: 'call me'}\n", "steps.s.number", "not a phone number"),
    ("  s: {type: callback, queue: q, prompt: P, accept_key: 1, decline_key: 1, "
     "accepted: bye, declined: bye}\n", "steps.s.decline_key", "differ"),
    ("  s: {type: survey, survey: nps, prompt: P, next: bye, fallback: bye}\n",
     "steps.s.survey", "only csat"),
    ("  s: {type: voicemail, queue: q, max_s: 0}\n", "steps.s.max_s", "above 0"),
    ("  'bad id!': {type: hangup}\n  s: {type: hangup}\n", "steps.bad id!", "a step id"),
])
def test_bad_values_name_the_field(step: str, field: str, words: str) -> None:
    err = error_of(with_step(step))
    assert isinstance(err, BadValue), err
    assert err.field == field
    assert words in err.message, err.message
    assert err.line == 4


def test_top_level_errors() -> None:
    assert error_of("name: t\nsteps: {a: {type: hangup}}\n").field == "start"
    err = error_of("name: t\nstart: a\nlanguage: de\nsteps: {a: {type: hangup}}\n")
    assert err.field == "language" and err.line == 3
    assert error_of("name: t\nstart: a\nsteps: {}\n").field == "steps"
    assert error_of("name: t\nstart: a\nowner: me\nsteps: {a: {type: hangup}}\n").field \
        == "owner"


def test_syntax_errors() -> None:
    err = error_of("name: t\nstart: a\nsteps:\n  a: {type: hangup\n")
    assert isinstance(err, FlowSyntaxError) and err.line is not None
    assert "not valid YAML" in err.message
    assert isinstance(error_of(""), FlowSyntaxError)
    assert "mapping" in error_of("- a\n- b\n").message
    dup = error_of("name: t\nstart: a\nsteps:\n  a: {type: hangup}\n  a: {type: hangup}\n")
    assert isinstance(dup, FlowSyntaxError) and dup.field == "steps.a" and dup.line == 5


def test_known_queues_are_checked_when_given() -> None:
    text = "name: t\nstart: s\nsteps:\n  s: {type: enqueue, queue: sales}\n"
    with pytest.raises(BadValue, match="unknown queue 'sales'; known queues: billing"):
        parse_flow(text, known_queues={"billing"})
    assert parse_flow(text, known_queues={"sales"}).step("s").queue == "sales"  # type: ignore[attr-defined]


def test_prompt_forms() -> None:
    f = flow("name: t\nstart: a\nlanguage: fr\nsteps:\n"
             "  a: {type: play, prompt: Bonjour, next: b}\n"
             "  b: {type: play, prompt: {file: 'p/{language}/x.wav'}, next: c}\n"
             "  c: {type: play, prompt: {say: {en: Hi, zh: 你好}}, next: d}\n"
             "  d: {type: hangup}\n")
    assert f.step("a").prompt == m.Prompt(texts={"fr": "Bonjour"})  # type: ignore[attr-defined]
    assert f.step("b").prompt == m.Prompt(file="p/{language}/x.wav")  # type: ignore[attr-defined]
    assert f.step("c").prompt.texts == {"en": "Hi", "zh": "你好"}  # type: ignore[attr-defined]
