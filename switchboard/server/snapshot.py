"""Snapshots of a tenant's routing engine, so that a restart replays a bounded tail.

The runtime writes a snapshot every :data:`SNAPSHOT_EVERY` log entries and at
a clean stop (table ``engine_snapshots``), tagged with the sequence number of
the last engine input it reflects and with :func:`code_version`, a digest of
the routing code. At start, :func:`switchboard.server.runtime.rebuild` loads
the newest snapshot of the running code's version and replays only the later
inputs, checking their events against the log as a full replay does. A
snapshot of other code (an upgrade) is ignored: the log is replayed whole.

The format is a pickle of the engine's attributes (its table of command
handlers left out, rebuilt by the constructor). It is read back with an
unpickler that admits only the routing core's own classes (``switchboard.acd``
and ``switchboard.domain``, which do no I/O by contract), ``sortedcontainers``,
``random.Random`` and ``collections.deque``: whoever can write to the database
cannot make the server run other code through a snapshot.
"""

from __future__ import annotations

import copyreg
import hashlib
import io
import os
import pickle
import sys
import threading
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sortedcontainers import SortedKeyList

from switchboard import acd, domain
from switchboard.acd import Engine
from switchboard.domain.errors import SwitchboardError
from switchboard.domain.model import RoutingConfig

# Log entries between two snapshots of a tenant (``SWITCHBOARD_SNAPSHOT_EVERY``).
SNAPSHOT_EVERY = int(os.environ.get("SWITCHBOARD_SNAPSHOT_EVERY", "10000"))
_LEFT_OUT = frozenset({"_handlers"})
_MODULES = ("switchboard.acd.", "switchboard.domain.", "sortedcontainers.")
_GLOBALS = frozenset({("random", "Random"), ("collections", "deque"),
                      (__name__, "_proxy"), (__name__, "_sorted_key_list"),
                      (__name__, "_fill_later")})
_pending = threading.local()


class SnapshotError(SwitchboardError):
    """A snapshot could not be read back (the caller replays the whole log)."""

    code = "snapshot_unreadable"
    http_status = 500


@cache
def code_version() -> str:
    """A digest of the routing core's source and the Python version: a snapshot
    is used only by the code that wrote it."""
    h = hashlib.sha256(f"{sys.version_info[0]}.{sys.version_info[1]}".encode())
    for package in (acd, domain):
        folder = Path(package.__file__ or "").parent
        for path in sorted(folder.glob("*.py")):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:32]


def _proxy(data: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(data)


def _sorted_key_list(key: Any) -> SortedKeyList[Any, Any]:
    return SortedKeyList(key=key)


def _fill_later(lst: SortedKeyList[Any, Any], items: list[Any]) -> None:
    # A waiting line holds contacts whose own state may not be read back yet
    # (a contact refers to its pool, which holds the line): sort them once the
    # whole snapshot is loaded.
    _pending.lists.append((lst, items))


def _reduce_sorted_key_list(lst: SortedKeyList[Any, Any]) -> tuple[Any, ...]:
    return (_sorted_key_list, (lst.key,), list(lst), None, None, _fill_later)


def dump(engine: Engine) -> bytes:
    """The engine's state as bytes for :func:`load`."""
    state = {k: v for k, v in vars(engine).items() if k not in _LEFT_OUT}
    buf = io.BytesIO()
    pickler = pickle.Pickler(buf, protocol=5)
    table = copyreg.dispatch_table.copy()
    table[MappingProxyType] = lambda m: (_proxy, (dict(m),))
    table[SortedKeyList] = _reduce_sorted_key_list
    pickler.dispatch_table = table
    pickler.dump(state)
    return buf.getvalue()


class _Unpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if module.startswith(_MODULES) or (module, name) in _GLOBALS:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"a snapshot may not name {module}.{name}")


def load(data: bytes, seed: int) -> Engine:
    """An engine in the state :func:`dump` saved; :class:`SnapshotError` when the
    bytes are not such a snapshot."""
    _pending.lists = []
    try:
        state = _Unpickler(io.BytesIO(data)).load()
        for lst, items in _pending.lists:
            lst.update(items)
    except Exception as exc:  # any malformed input: the caller replays the log
        raise SnapshotError(f"unreadable engine snapshot: {exc}") from exc
    finally:
        _pending.lists = []
    if not isinstance(state, dict) or not isinstance(state.get("config"), RoutingConfig):
        raise SnapshotError("an engine snapshot holds the engine's attributes")
    engine = Engine(RoutingConfig(seed=seed))
    vars(engine).update(state)
    return engine
