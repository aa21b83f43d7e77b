"""IVR flows, sans-I/O: the flow format, its validation, versions and the
interpreter that the telephony shell drives (see docs/ivr.md).

    flow = parse_flow(text, source="support.yaml")      # FlowError if invalid
    session = IvrSession(flow, CallInfo(interaction_id="c1", caller="+39..."), now)
    effects = session.start(now)                         # PlayPrompt, CollectDigits, ...
    effects = session.digit("1", now)                    # InputRecorded, Enqueue, ...
    session.next_deadline()                              # call advance(now) then
"""

from __future__ import annotations

from switchboard.ivr.effects import (
    TERMINAL,
    CollectDigits,
    Effect,
    Enqueue,
    HangUp,
    InputRecorded,
    LookupRequest,
    OfferCallback,
    PlayPrompt,
    PromptPart,
    RecordSurvey,
    RequestCallback,
    StartTimer,
    StartVoicemail,
    StopPrompt,
    TransferExternal,
    engine_commands,
)
from switchboard.ivr.errors import (
    BadValue,
    FlowError,
    FlowSyntaxError,
    LoopWithoutExit,
    MisplacedStep,
    MissingFallback,
    UnknownStepType,
    UnknownTarget,
    UnreachableStep,
)
from switchboard.ivr.loader import load_flow, parse_flow
from switchboard.ivr.model import LANGUAGES, STEP_TYPES, Flow
from switchboard.ivr.registry import FlowRegistry
from switchboard.ivr.session import CallInfo, IvrSession, Status

__all__ = [
    "LANGUAGES", "STEP_TYPES", "TERMINAL", "BadValue", "CallInfo", "CollectDigits", "Effect",
    "Enqueue", "Flow", "FlowError", "FlowRegistry", "FlowSyntaxError", "HangUp",
    "InputRecorded", "IvrSession", "LookupRequest", "LoopWithoutExit", "MisplacedStep",
    "MissingFallback", "OfferCallback", "PlayPrompt", "PromptPart", "RecordSurvey",
    "RequestCallback", "StartTimer", "StartVoicemail", "Status", "StopPrompt",
    "TransferExternal", "UnknownStepType", "UnknownTarget", "UnreachableStep",
    "engine_commands", "load_flow", "parse_flow",
]
