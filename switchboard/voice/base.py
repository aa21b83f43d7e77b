"""What the call controller's parts share: the phases, :class:`Call`, and the
controller's state and helpers (:class:`ControllerBase`); the parts are mixins
(:mod:`~switchboard.voice.ivrdriver`, :mod:`~switchboard.voice.waiting`)
combined in :class:`~switchboard.voice.calls.CallController`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from switchboard.domain import commands as c
from switchboard.domain import events as e
from switchboard.domain.errors import SwitchboardError, ValidationError
from switchboard.domain.model import Customer
from switchboard.ivr import IvrSession
from switchboard.ivr import effects as fx
from switchboard.media.errors import MediaError
from switchboard.media.recording import ActiveRecording
from switchboard.server.runtime import Runtime
from switchboard.store.contacts import to_e164
from switchboard.voice import consult, outbound, voicemail
from switchboard.voice.config import Number, VoiceConfig
from switchboard.voice.mediaplane import MediaPlane
from switchboard.voice.signalling import Signalling

logger = logging.getLogger("switchboard.voice.calls")

#: Phases of a call. ``ivr``: the flow runs; ``queued``: waiting (music,
#: announcements; agents may be ringing); ``connected``/``held``: with an agent;
#: ``after``: the flow's post-call step; ``leaving``: told goodbye, hanging up;
#: ``voicemail``: leaving a message.
SETUP, IVR, QUEUED, CONNECTED, HELD, AFTER, LEAVING, VOICEMAIL, ENDED = (
    "setup", "ivr", "queued", "connected", "held", "after", "leaving", "voicemail", "ended")

#: Phone responses that mean "the agent declined" (the others wait for RNA).
DECLINED = frozenset({486, 600, 603})


@dataclass(eq=False)
class Call:
    """One customer call and everything the controller knows about it."""

    id: str
    tenant: str
    number: Number
    leg: str
    media_id: str
    caller_tag: str
    caller: str
    customer: Customer
    contact_id: str | None = None
    phase: str = SETUP
    inner_tag: str = ""
    agent_sdp: str = ""
    session: IvrSession | None = None
    session_now: float = 0.0
    ivr_timer: asyncio.TimerHandle | None = None
    play_id: int | None = None
    prompt_task: asyncio.Task[None] | None = None
    rings: dict[str, str] = field(default_factory=dict)  # agent -> ringing leg
    agent: str | None = None
    agent_leg: str | None = None
    treatment: int = 0  # generation of the queue treatment (stale timers check it)
    queue_timer: asyncio.TimerHandle | None = None
    callback_offer: bool = False
    agent_phone_sdp: str = ""  # what the connected agent's phone answered with
    consult: consult.Consult | None = None  # a warm transfer's consultation
    reinvites: dict[str, asyncio.Future[str | None]] = field(default_factory=dict)
    message: voicemail.Message | None = None  # a voicemail being left
    recording: ActiveRecording | None = None  # the call's recording, while it runs

    @property
    def language(self) -> str:
        lang = self.session.attributes.get("language") if self.session else None
        return lang if isinstance(lang, str) else self.number.flow.language


class ControllerBase:
    """The controller's state and the helpers every part uses."""

    def __init__(self, runtime: Runtime, config: VoiceConfig, signalling: Signalling,
                 media: MediaPlane, *, clock: Callable[[], float] = time.time,
                 recordings: voicemail.Recordings | None = None) -> None:
        self.runtime = runtime
        self.recordings = recordings
        self.config = config
        self.sip = signalling
        self.media = media
        self.clock = clock
        self.calls: dict[str, Call] = {}
        self._by_leg: dict[str, tuple[Call, str]] = {}  # leg -> (call, "caller" or agent id)
        self._by_media: dict[str, Call] = {}
        #: calls Switchboard places (callbacks, click-to-dial), by interaction id
        self.outbound: dict[str, outbound.Outbound] = {}
        self._out_legs: dict[str, tuple[outbound.Outbound, str]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        #: calls that reached an agent, and calls refused or failed in setup
        self.stats = {"arrived": 0, "answered": 0, "failed": 0, "ended": 0,
                      "announcements": 0}

    def spawn(self, coro: Any) -> None:
        """Run ``coro`` as a task the controller keeps (and cancels at stop)."""
        self._spawn(coro)

    def release(self, call: Call) -> None:
        """Hang the caller up and forget the call."""
        self._hangup_caller(call)
        self._finish(call)

    async def prompt_path(self, call: Call, part: fx.PromptPart) -> Path | None:
        """The file to play for one prompt part: its audio file when it exists
        (relative to the flow's file), else its text spoken (None: neither)."""
        if part.file:
            candidate = Path(call.number.source).parent / part.file
            if candidate.is_file():
                return candidate
        if part.text:
            try:
                return await self.media.speak(part.text, part.lang or call.language)
            except MediaError as exc:
                logger.warning("call %s: prompt not rendered: %s", call.id, exc)
        return None

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            logger.error("call task failed", exc_info=task.exception())

    def _now(self, call: Call) -> float:
        call.session_now = max(call.session_now, self.clock())
        return call.session_now

    def track(self, leg: str, call: Call, role: str) -> None:
        """Route ``leg``'s SIP events to ``call`` as ``role`` (an agent id,
        ``caller``, ``consult``, ``@external``)."""
        self._by_leg[leg] = (call, role)

    def track_outbound(self, leg: str, call: outbound.Outbound, role: str) -> None:
        self._out_legs[leg] = (call, role)

    def untrack(self, leg: str) -> None:
        self._by_leg.pop(leg, None)
        self._out_legs.pop(leg, None)

    def execute(self, call: Call, command: c.Command, **kw: Any) -> list[e.Event] | None:
        return self._execute(call, command, **kw)

    def execute_for(self, tenant: str, command: c.Command) -> list[e.Event] | None:
        """A routing command for a tenant; None (logged) when refused."""
        return self.execute_for_write(tenant, command, None)

    def execute_for_write(self, tenant: str, command: c.Command,
                          write: Any) -> list[e.Event] | None:
        """:meth:`execute_for` committing ``write``'s rows with the command."""
        try:
            return self.runtime.execute(tenant, command, write=write)
        except SwitchboardError as exc:
            logger.info("%s refused: %s", type(command).__name__, exc)
            return None

    def record_for(self, tenant: str, *events: e.Event) -> None:
        """Log facts beside routing (a survey answer, a dial's result); a
        refusal is logged and dropped, like a refused command."""
        try:
            self.runtime.record(tenant, events)
        except SwitchboardError as exc:
            logger.info("%s not logged: %s", ", ".join(ev.kind for ev in events), exc)

    def _execute(self, call: Call, command: c.Command, **kw: Any) -> list[e.Event] | None:
        """Run a routing command for the call; None (logged) when refused."""
        try:
            return self.runtime.execute(call.tenant, command, **kw)
        except SwitchboardError as exc:
            logger.info("call %s: %s refused: %s", call.id, type(command).__name__, exc)
            return None


    # ------------------------------------------------------------------ parts' hooks
    if TYPE_CHECKING:  # defined by the parts (ivrdriver, calls, waiting)
        def _perform(self, call: Call, effects: Iterable[fx.Effect]) -> None:
            ...

        def _hangup_caller(self, call: Call) -> None:
            ...

        def _finish(self, call: Call) -> None:
            ...

        def _start_treatment(self, call: Call, *, announce_now: bool) -> None:
            ...

        def _stop_treatment(self, call: Call) -> None:
            ...


def e164(number: str) -> str | None:
    """The caller's number in E.164, or None when it is not a phone number
    (a SIP user such as ``alice``)."""
    if not number or not number.startswith("+"):
        return None
    try:
        return to_e164(number)
    except ValidationError:
        return None
