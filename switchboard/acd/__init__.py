"""The automatic call distributor: a deterministic routing core with no I/O."""

from switchboard.acd.engine import Engine, replay

__all__ = ["Engine", "replay"]
