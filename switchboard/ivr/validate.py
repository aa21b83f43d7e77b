"""Graph checks of a flow, run before it is saved.

1. every target (``next``, options, fallbacks, ``start``) names a step;
2. every step can be reached from ``start``;
3. from every step a terminal step (enqueue, voicemail, transfer, hangup) can
   be reached: a cycle with no way out is refused;
4. a caller who keys nothing ends somewhere: following the paths taken
   without input (a menu's ``fallback``, every other step's targets) meets no
   cycle; in particular no cycle runs through instant steps only (set,
   branch, hours), which would spin forever without waiting at all;
5. after a callback is accepted or after the call with an agent, routing no
   longer owns the contact: no enqueue or callback step follows.

Each check collects all its problems; the first is raised with ``errors``
holding every one of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from switchboard.ivr.errors import (
    FlowError,
    LoopWithoutExit,
    MisplacedStep,
    UnknownTarget,
    UnreachableStep,
)
from switchboard.ivr.model import Ask, Callback, Enqueue, Flow

if TYPE_CHECKING:
    from switchboard.ivr.fields import Fields

TERMINALS = "enqueue, voicemail, transfer or hangup"


def _raise(errors: Sequence[FlowError]) -> None:
    if errors:
        first = errors[0]
        first.errors = tuple(errors)
        raise first


def _error(f: Fields, cls: type[FlowError], path: str, step: str | None,
           message: str) -> FlowError:
    line = f.doc.line(path) if f.doc is not None else None
    return cls(message, field=path, step=step, line=line, source=f.source)


def check_graph(flow: Flow, f: Fields) -> None:
    """Raise the first graph error of ``flow`` (see the module's docstring)."""
    known = ", ".join(flow.steps)
    errors: list[FlowError] = []
    if flow.start not in flow.steps:
        errors.append(_error(f, UnknownTarget, "start", None,
                             f"unknown step {flow.start!r}; known steps: {known}"))
    for sid, step in flow.steps.items():
        for field, target in step.targets():
            if target not in flow.steps:
                errors.append(_error(f, UnknownTarget, f"steps.{sid}.{field}", sid,
                                     f"unknown step {target!r}; known steps: {known}"))
    _raise(errors)

    graph = {sid: [t for _, t in step.targets()] for sid, step in flow.steps.items()}
    seen = _reachable([flow.start], graph)
    for sid in flow.steps:
        if sid not in seen:
            errors.append(_error(f, UnreachableStep, f"steps.{sid}", sid,
                                 f"step {sid!r} cannot be reached from start "
                                 f"({flow.start!r}); link it or remove it"))

    reverse: dict[str, list[str]] = {sid: [] for sid in graph}
    for sid, targets in graph.items():
        for t in targets:
            reverse[t].append(sid)
    exits = _reachable([s for s, step in flow.steps.items() if step.terminal], reverse)
    stuck = {s: [t for t in graph[s] if t not in exits] for s in graph
             if s not in exits and s in seen}
    for scc in _cycles(stuck):
        path = " -> ".join(_cycle_path(scc, stuck))
        errors.append(_error(f, LoopWithoutExit, f"steps.{scc[0]}", scc[0],
                             f"loop without exit: {path} never reaches a terminal step "
                             f"({TERMINALS})"))

    reported = {s for scc in _cycles(stuck) for s in scc}
    silent = {s: ([step.fallback] if isinstance(step, Ask) else graph[s])
              for s, step in flow.steps.items() if s in seen}
    for scc in _cycles(silent):
        if reported & set(scc):
            continue
        path = " -> ".join(_cycle_path(scc, silent))
        if all(flow.steps[s].instant for s in scc):
            message = (f"loop without a wait: {path} would run forever without waiting "
                       "for the caller (put a play, menu or collect in it)")
        else:
            message = (f"loop without exit for a silent caller: {path} goes round forever "
                       "when the caller keys nothing (let a fallback lead to an end)")
        errors.append(_error(f, LoopWithoutExit, f"steps.{scc[0]}", scc[0], message))

    for sid, step in flow.steps.items():
        roots = [step.accepted] if isinstance(step, Callback) else \
            [step.after_call] if isinstance(step, Enqueue) and step.after_call else []
        why = "a callback was accepted" if isinstance(step, Callback) else "the call"
        for bad in sorted(_reachable(roots, graph), key=list(flow.steps).index):
            if isinstance(flow.steps[bad], Enqueue | Callback):
                errors.append(_error(
                    f, MisplacedStep, f"steps.{bad}", bad,
                    f"step {bad!r} ({flow.steps[bad].type}) follows {sid!r} after {why}, "
                    "when routing no longer owns the contact"))
    _raise(errors)


def _reachable(roots: Iterable[str], graph: Mapping[str, list[str]]) -> set[str]:
    seen = set(roots)
    todo = list(seen)
    while todo:
        for t in graph[todo.pop()]:
            if t not in seen:
                seen.add(t)
                todo.append(t)
    return seen


def _cycle_path(scc: list[str], graph: Mapping[str, list[str]]) -> list[str]:
    """A shortest cycle through the component's first step, as a list of steps
    that starts and ends with it."""
    start, members = scc[0], set(scc)
    parent: dict[str, str] = {}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for t in graph[node]:
            if t == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if t in members and t not in parent:
                parent[t] = node
                todo.append(t)
    return [start, start]  # unreachable for a component with a cycle


def _cycles(graph: Mapping[str, list[str]]) -> list[list[str]]:
    """The strongly connected components that hold a cycle (Tarjan's algorithm,
    iterative), each in the graph's order, in the order of their first step."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[list[str]] = []
    order = {s: i for i, s in enumerate(graph)}
    for root in graph:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = len(index)
                stack.append(node)
                on_stack.add(node)
            targets = graph[node]
            if i < len(targets):
                work.append((node, i + 1))
                t = targets[i]
                if t not in index:
                    work.append((t, 0))
                elif t in on_stack:
                    low[node] = min(low[node], index[t])
                continue
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    s = stack.pop()
                    on_stack.discard(s)
                    comp.append(s)
                    if s == node:
                        break
                if len(comp) > 1 or node in graph[node]:
                    found.append(sorted(comp, key=order.__getitem__))
    return sorted(found, key=lambda c: order[c[0]])
