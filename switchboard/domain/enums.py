"""Enumerations shared by the whole vocabulary."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    VOICE = "voice"
    CHAT = "chat"
    EMAIL = "email"
    SMS = "sms"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class InteractionState(StrEnum):
    """Where a contact is. ``scheduled``: a callback waiting for its due time."""

    IVR = "ivr"
    SCHEDULED = "scheduled"
    QUEUED = "queued"
    OFFERED = "offered"
    CONNECTED = "connected"
    HELD = "held"
    WRAPUP = "wrapup"
    ENDED = "ended"
    ABANDONED = "abandoned"


class AgentStatus(StrEnum):
    """What the agent chose (or a supervisor chose for the agent)."""

    OFFLINE = "offline"
    READY = "ready"
    NOT_READY = "not_ready"


class AgentState(StrEnum):
    """What the system is doing with the agent; derived from its contacts."""

    IDLE = "idle"
    RESERVED = "reserved"
    BUSY = "busy"
    WRAPUP = "wrapup"


class Strategy(StrEnum):
    """Which free agent a queue picks. Asterisk's names in brackets."""

    LONGEST_IDLE = "longest_idle"  # MIA: most idle agent
    LEAST_OCCUPIED = "least_occupied"  # LOA: lowest occupancy over a window
    ROUND_ROBIN = "round_robin"  # UCD, [rrmemory]: next after the last one picked
    FEWEST_HANDLED = "fewest_handled"  # [fewestcalls]
    RING_ALL = "ring_all"  # [ringall]: offer to every free agent at once
    LINEAR = "linear"  # top-down, [linear]: always the first free in list order
    RANDOM = "random"  # [random]
    WEIGHTED_RANDOM = "weighted_random"  # [wrandom]
    BEST_SKILL = "best_skill"  # highest proficiency in the required skills


class EndReason(StrEnum):
    """Why a contact left a queue without an agent (in Abandoned/Exited events)."""

    CUSTOMER_HANGUP = "customer_hangup"  # ABANDON
    TIMEOUT = "timeout"  # EXITWITHTIMEOUT
    NO_AGENTS = "no_agents"  # EXITEMPTY: no agent logged in (leave rule)
    QUEUE_FULL = "queue_full"  # FULL: max queue length reached (join refused)
    KEY_PRESSED = "key_pressed"  # EXITWITHKEY
    CALLBACK = "callback"  # left the line, kept its place as a callback
    WITHDRAWN = "withdrawn"  # taken out of routing by the system (Withdraw)


class OfferEnd(StrEnum):
    """How an offer (a reservation) ended without being accepted."""

    TIMEOUT = "timeout"  # RNA: ring no answer
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"  # another agent took it (ring all), or the customer left
