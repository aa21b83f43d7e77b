"""Helpers: build scenarios from YAML text, with CDR files served from memory."""

from __future__ import annotations

from collections.abc import Mapping

from switchboard.sim.model import Scenario
from switchboard.sim.scenario import parse_scenario


def cdr_of(offsets_s: list[float], day: str = "2024-03-04") -> str:
    """A CDR whose rows arrived at these seconds after midnight of ``day``."""
    lines = ["id,queue,arrived_at"]
    for i, off in enumerate(offsets_s):
        h, rest = divmod(off, 3600)
        m, s = divmod(rest, 60)
        lines.append(f"c{i},main,{day}T{int(h):02d}:{int(m):02d}:{s:06.3f}")
    return "\n".join(lines) + "\n"


def scenario(text: str, files: Mapping[str, str] | None = None) -> Scenario:
    store = dict(files or {})

    def read(name: str) -> str:
        if name not in store:
            raise FileNotFoundError(2, "No such file or directory", name)
        return store[name]

    return parse_scenario(text, "scenario.yaml", read)
