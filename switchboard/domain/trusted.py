"""Events built on the routing engine's trusted path, without re-validation.

Every event class validates its fields when built from outside (an API body,
``Event.from_dict``, a test): that is the boundary. The engine, however, builds
events only from state it has already checked (ids it holds, enums it stores,
times it has refused unless finite and increasing), and does so ten times per
routing decision; checking again there is pure cost.

``trusted.Offered(at=..., ...)`` takes exactly the keyword arguments of
``events.Offered(...)`` (mypy checks them: each builder has its class's
signature) and returns an equal, equally frozen event, skipping only the
checks. What validation would normalise is still done: a mapping field is
copied into a read-only mapping, so the event never shares the engine's
mutable dicts. ``tests/domain/test_trusted.py`` checks that each builder
gives the event its class would.

:func:`builder` serves any keyword-only frozen dataclass of the vocabulary:
the simulator builds the commands of each contact with it too, from a
scenario it has validated once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from switchboard.domain import events as e
from switchboard.domain.model import Customer

P = ParamSpec("P")
T = TypeVar("T")

_SHARED_DEFAULTS: dict[Any, object] = {
    dict: e._EMPTY,  # mapping fields: read-only, so one empty mapping serves all
    Customer: Customer(),  # frozen: safe to share
}


def builder(cls: Callable[P, T]) -> Callable[P, T]:
    """A function with ``cls``'s keyword-only signature that builds the frozen
    dataclass by setting its slots directly (no ``__init__``, no checks)."""
    if not (isinstance(cls, type) and dataclasses.is_dataclass(cls)):
        raise TypeError(f"{cls!r} is not a dataclass")
    params: list[str] = []
    body: list[str] = []
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls, "_fm": e._frozen_map}
    for f in dataclasses.fields(cls):
        if not f.kw_only:
            raise TypeError(f"{cls.__name__}.{f.name} is not keyword-only")
        scope[f"_set_{f.name}"] = getattr(cls, f.name).__set__  # the slot's descriptor
        if f.default is not dataclasses.MISSING:
            scope[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            if f.default_factory not in _SHARED_DEFAULTS:
                raise TypeError(f"{cls.__name__}.{f.name}: no shared default for its factory")
            scope[f"_d_{f.name}"] = _SHARED_DEFAULTS[f.default_factory]
            params.append(f"{f.name}=_d_{f.name}")
        else:
            params.append(f.name)
        value = f"_fm({f.name})" if f.default_factory is dict else f.name
        body.append(f"    _set_{f.name}(self, {value})\n")
    source = (f"def {cls.__name__}(*, {', '.join(params)}):\n"
              f"    self = _new(_cls)\n{''.join(body)}    return self\n")
    exec(source, scope)  # the same technique as dataclasses' own generated __init__
    built: Callable[P, T] = scope[cls.__name__]
    built.__qualname__ = f"trusted.{cls.__name__}"
    built.__doc__ = f"Build a :class:`{cls.__module__}.{cls.__name__}` without checks."
    return built


Arrived = builder(e.Arrived)
IvrInput = builder(e.IvrInput)
Enqueued = builder(e.Enqueued)
EnqueueRefused = builder(e.EnqueueRefused)
Offered = builder(e.Offered)
OfferTimedOut = builder(e.OfferTimedOut)
OfferRejected = builder(e.OfferRejected)
OfferWithdrawn = builder(e.OfferWithdrawn)
Answered = builder(e.Answered)
Held = builder(e.Held)
Resumed = builder(e.Resumed)
TransferStarted = builder(e.TransferStarted)
TransferCancelled = builder(e.TransferCancelled)
Transferred = builder(e.Transferred)
ConferenceJoined = builder(e.ConferenceJoined)
ConferenceLeft = builder(e.ConferenceLeft)
Overflowed = builder(e.Overflowed)
Abandoned = builder(e.Abandoned)
Exited = builder(e.Exited)
Ended = builder(e.Ended)
WrapupExtended = builder(e.WrapupExtended)
WrapupEnded = builder(e.WrapupEnded)
CallbackRequested = builder(e.CallbackRequested)
CallbackScheduled = builder(e.CallbackScheduled)
AgentStateChanged = builder(e.AgentStateChanged)
AgentUpdated = builder(e.AgentUpdated)
SurveyAnswered = builder(e.SurveyAnswered)
DialFailed = builder(e.DialFailed)

# Every event kind has its builder (checked when this module loads).
BUILDERS: dict[type[e.Event], Callable[..., e.Event]] = {
    cls: globals()[cls.__name__] for cls in e.EVENT_TYPES.values()
}
