"""Effects map onto the routing engine's commands: a session drives the real Engine."""

from __future__ import annotations

from datetime import UTC, datetime

from switchboard.acd import Engine
from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.model import AgentConfig, QueueConfig, RoutingConfig
from switchboard.ivr import CallInfo, IvrSession, Status, engine_commands
from switchboard.ivr import effects as fx
from tests.ivr.conftest import EXAMPLES, flow, only

OPEN = datetime(2025, 3, 4, 9, 0, tzinfo=UTC).timestamp()  # Tue 10:00 in Rome


class Shell:
    """The part of a telephony shell that talks to routing, without media."""

    def __init__(self, engine: Engine, session: IvrSession) -> None:
        self.engine = engine
        self.session = session
        self.iid = session.call.interaction_id
        self.log: list[e.Event] = []

    def do(self, effects: tuple[fx.Effect, ...], now: float) -> tuple[fx.Effect, ...]:
        for effect in effects:
            for cmd in effect.commands(self.iid):
                self.log += self.engine.handle(cmd, now)
            if isinstance(effect, fx.RecordSurvey):
                self.log.append(effect.event(self.iid, now))
        return effects

    def kinds(self) -> list[str]:
        return [ev.kind for ev in self.log]


def support(queues: list[QueueConfig] | None = None) -> tuple[Shell, Engine]:
    cfg = RoutingConfig(
        skills=frozenset({"en", "it", "fr", "zh"}),
        queues=tuple(queues or [QueueConfig(id=q) for q in
                                ("billing", "tech", "support", "voicemail")]),
        agents=(AgentConfig(id="a1", skills={"it": 5}),))
    engine = Engine(cfg, now=OPEN)
    f = flow((EXAMPLES / "support.yaml").read_text())
    call = CallInfo(interaction_id="c1", caller="+39333", called="+390612345678")
    session = IvrSession(f, call, OPEN)
    shell = Shell(engine, session)
    shell.log += engine.handle(call.arrive(), OPEN)
    return shell, engine


def to_main_menu(shell: Shell, t: float) -> None:
    s = shell.session
    shell.do(s.start(t), t)
    shell.do(s.prompt_finished(t + 3), t + 3)            # welcome
    shell.do(s.digit("2", t + 4), t + 4)                 # italiano, then the contacts lookup
    shell.do(s.lookup_result({"name": "Ada", "tier": "silver"}, t + 5), t + 5)
    assert s.step == "main_menu"


def test_a_call_through_the_menu_into_a_queue_to_an_agent_and_a_survey() -> None:
    shell, engine = support()
    s, t = shell.session, OPEN
    to_main_menu(shell, t)
    shell.do(s.digit("1", t + 6), t + 6)                 # billing: account number
    for i, d in enumerate("79927398#"):
        shell.do(s.digit(d, t + 7 + i / 10), t + 8)
    out = shell.do(s.lookup_result({"balance": 12}, t + 9), t + 9)
    assert only(out, fx.Enqueue)[0].skills == {"it": 1}
    assert s.status is Status.QUEUED
    enq = next(ev for ev in shell.log if isinstance(ev, e.Enqueued))
    assert (enq.queue_id, dict(enq.skills)) == ("billing", {"it": 1})
    ivr = [ev for ev in shell.log if isinstance(ev, e.IvrInput)]
    assert [(ev.step, ev.digits) for ev in ivr][:3] == [
        ("language", "2"), ("set_it", ""), ("find_caller", "")]
    assert ("account", "****7398") in [(ev.step, ev.digits) for ev in ivr]
    attrs = engine.interaction("c1")["attributes"]
    assert attrs["account"] == "****7398" and attrs["acct.balance"] == 12
    assert attrs["language"] == "it" and attrs["customer.name"] == "Ada"

    shell.log += engine.handle(c.SetAgentStatus(agent_id="a1", status="ready"), t + 10)
    shell.log += engine.handle(c.Accept(interaction_id="c1", agent_id="a1"), t + 12)
    shell.log += engine.handle(c.Hangup(interaction_id="c1", by="agent"), t + 100)
    out = shell.do(s.after_call(t + 100), t + 100)       # the caller stays for the survey
    assert s.step == "survey"
    out = shell.do(played_then(s, out, "4", t + 104), t + 104)
    survey = [ev for ev in shell.log if isinstance(ev, e.SurveyAnswered)]
    assert [(ev.survey, ev.score) for ev in survey] == [("csat", 4)]
    assert only(out, fx.InputRecorded)[0].to_engine is False
    out = shell.do(s.prompt_finished(t + 106), t + 106)  # thanks
    assert out[-1] == fx.HangUp(step="bye", ends_contact=False)
    assert s.status is Status.ENDED
    kinds = shell.kinds()
    assert kinds.index("answered") < kinds.index("ended") < kinds.index("survey_answered")
    assert kinds[-1] == "survey_answered"


def played_then(s: IvrSession, out: tuple[fx.Effect, ...], d: str,
                t: float) -> tuple[fx.Effect, ...]:
    play = only(out, fx.PlayPrompt)[-1]
    return s.prompt_finished(t - 1, play.play_id) + s.digit(d, t)


def test_an_accepted_callback_keeps_the_place_in_the_queue() -> None:
    shell, engine = support()
    s, t = shell.session, OPEN
    to_main_menu(shell, t)
    out = shell.do(s.digit("2", t + 6), t + 6)
    assert only(out, fx.OfferCallback) == [fx.OfferCallback(step="callback_offer",
                                                            queue_id="tech")]
    out = shell.do(s.digit("1", t + 7), t + 7)
    req = only(out, fx.RequestCallback)[0]
    assert (req.queue_id, req.phone, dict(req.skills)) == ("tech", "+39333", {"it": 1})
    assert [type(cmd).__name__ for cmd in req.commands("c1")] == [
        "IvrStep", "Enqueue", "RequestCallback"]
    assert shell.kinds()[-2:] == ["enqueued", "callback_requested"]
    out = shell.do(s.prompt_finished(t + 10), t + 10)
    assert out[-1] == fx.HangUp(step="bye", ends_contact=False)
    assert engine.interaction("c1")["state"] == "queued"  # the callback waits its turn


def test_a_refused_enqueue_falls_back_to_voicemail() -> None:
    shell, engine = support([QueueConfig(id="support", max_length=0), QueueConfig(id="billing"),
                             QueueConfig(id="tech"), QueueConfig(id="voicemail")])
    s, t = shell.session, OPEN
    to_main_menu(shell, t)
    for i in range(3):                                   # three silences: fallback
        shell.do(s.prompt_finished(t + 10 * i + 6), t + 10 * i + 6)
        due = s.next_deadline()
        assert due == t + 10 * i + 12
        shell.do(s.advance(due), due)
    assert shell.kinds()[-1] == "enqueue_refused"
    out = shell.do(s.queue_refused(t + 40), t + 40)
    vm = only(out, fx.StartVoicemail)[0]
    assert vm.queue_id == "voicemail" and vm.greeting is not None
    assert vm.greeting.lang == "it" and vm.attributes["customer.name"] == "Ada"
    assert s.status is Status.ENDED and engine.interaction("c1")["state"] == "ivr"


def test_commands_of_terminal_effects() -> None:
    assert engine_commands((fx.HangUp(reason="x"), fx.TransferExternal(number="+3906")), "c9") \
        == [c.Hangup(interaction_id="c9", by="system"), c.Hangup(interaction_id="c9", by="system")]
    assert fx.HangUp(ends_contact=False).commands("c9") == ()
    assert fx.StartVoicemail(queue_id="vm").commands("c9") == ()
    assert fx.Enqueue(queue_id="q").commands("c9") == (
        c.Enqueue(interaction_id="c9", queue_id="q"),)
    assert fx.InputRecorded(digits="1", step="m").commands("c9") == (
        c.IvrStep(interaction_id="c9", digits="1", step="m"),)
    arrive = CallInfo(interaction_id="c9", caller="+39", called="800").arrive()
    assert arrive.customer.phone == "+39" and arrive.attributes == {"called": "800"}


AFTER = """\
name: t
start: q
steps:
  q: {type: enqueue, queue: q, after_call: menu}
  menu:
    type: menu
    prompt: Press 1 for our partner.
    options: {1: partner}
    fallback: bye
  partner: {type: transfer, number: "+3906999"}
  bye: {type: hangup}
"""


def test_after_the_call_routing_commands_are_not_sent_again() -> None:
    s = IvrSession(flow(AFTER), CallInfo(interaction_id="c1"), OPEN)
    out = s.start(OPEN)
    assert [type(cmd).__name__ for cmd in engine_commands(out, "c1")] == ["IvrStep", "Enqueue"]
    out = s.after_call(OPEN + 60)
    out += s.digit("1", OPEN + 61)
    assert only(out, fx.TransferExternal)[0].ends_contact is False
    assert engine_commands(out, "c1") == []


def test_a_refused_enqueue_without_if_refused_hangs_up_the_contact() -> None:
    s = IvrSession(flow(AFTER), CallInfo(interaction_id="c1"), OPEN)
    s.start(OPEN)
    assert s.status is Status.QUEUED and s.next_deadline() is None
    out = s.queue_refused(OPEN + 1)
    assert out == (fx.HangUp(step="q", reason="queue_refused"),)
    assert engine_commands(out, "c1") == [c.Hangup(interaction_id="c1", by="system")]
    assert s.status is Status.ENDED
