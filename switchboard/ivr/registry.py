"""Saved flows and their versions, in memory (the store keeps them later).

Saving validates the text and gives the flow the next version number for its
name; saving content identical to the latest version (the same digest) is a
no-op that returns that version. Old versions stay readable, so a call that
started on version 3 keeps running version 3 after version 4 is saved: the
:class:`~switchboard.ivr.session.IvrSession` holds its own flow object.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection

from switchboard.domain.errors import NotFound
from switchboard.ivr.loader import parse_flow
from switchboard.ivr.model import Flow


class FlowRegistry:
    """Flows by name, each with its versions 1, 2, 3, ..."""

    def __init__(self) -> None:
        self._versions: dict[str, list[Flow]] = {}

    def save(self, text: str, *, source: str = "flow",
             known_queues: Collection[str] | None = None,
             known_calendars: Collection[str] | None = None) -> Flow:
        """Validate ``text`` and store it as the next version of its flow name.

        Returns the stored flow (with ``version`` set). Raises FlowError and
        stores nothing when the flow is invalid."""
        flow = parse_flow(text, source=source, known_queues=known_queues,
                          known_calendars=known_calendars)
        versions = self._versions.setdefault(flow.name, [])
        if versions and versions[-1].digest == flow.digest:
            return versions[-1]
        saved = dataclasses.replace(flow, version=len(versions) + 1)
        versions.append(saved)
        return saved

    def get(self, name: str, version: int | None = None) -> Flow:
        """The latest version of ``name``, or the given one. Raises NotFound."""
        versions = self._versions.get(name)
        if not versions:
            raise NotFound(f"no flow named {name!r}", field="name")
        if version is None:
            return versions[-1]
        if isinstance(version, bool) or not isinstance(version, int) \
                or not 1 <= version <= len(versions):
            raise NotFound(f"flow {name!r} has versions 1 to {len(versions)}, not {version!r}",
                           field="version")
        return versions[version - 1]

    def names(self) -> list[str]:
        """The saved flow names, sorted."""
        return sorted(self._versions)

    def versions(self, name: str) -> list[int]:
        """The version numbers of ``name`` (empty when unknown)."""
        return list(range(1, len(self._versions.get(name, ())) + 1))
