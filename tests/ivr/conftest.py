"""Helpers for the IVR tests: build flows from small YAML texts, drive sessions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from switchboard.ivr import CallInfo, IvrSession, parse_flow
from switchboard.ivr import effects as fx
from switchboard.ivr.model import Flow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ivr"
T0 = 1_741_082_400.0  # 2025-03-04 10:00 UTC, a Tuesday


def flow(text: str, **kw: Any) -> Flow:
    """Parse a flow written as YAML text."""
    return parse_flow(text, source="test.yaml", **kw)


def session(text_or_flow: str | Flow, now: float = T0, **call: Any) -> IvrSession:
    f = flow(text_or_flow) if isinstance(text_or_flow, str) else text_or_flow
    call.setdefault("interaction_id", "c1")
    call.setdefault("caller", "+393331234567")
    return IvrSession(f, CallInfo(**call), now)


def kinds(effects: tuple[fx.Effect, ...]) -> list[str]:
    """The effect class names, in order."""
    return [type(e).__name__ for e in effects]


def only(effects: tuple[fx.Effect, ...], cls: type[fx.Effect]) -> list[Any]:
    return [e for e in effects if isinstance(e, cls)]


def texts(effects: tuple[fx.Effect, ...]) -> list[str | None]:
    """The texts of every prompt part played, in order."""
    return [p.text for e in effects if isinstance(e, fx.PlayPrompt) for p in e.parts]


def records(effects: tuple[fx.Effect, ...]) -> list[tuple[str | None, str, str]]:
    """(step, digits, outcome) of every InputRecorded."""
    return [(e.step, e.digits, e.outcome) for e in effects if isinstance(e, fx.InputRecorded)]


def played(s: IvrSession, effects: tuple[fx.Effect, ...], now: float) -> tuple[fx.Effect, ...]:
    """Finish the prompt the effects started (by its id) and return what follows."""
    plays = only(effects, fx.PlayPrompt)
    assert plays, f"no prompt in {kinds(effects)}"
    return s.prompt_finished(now, plays[-1].play_id)
