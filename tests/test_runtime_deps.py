"""`make run` installs only the runtime dependencies of pyproject.toml (the test
tools come with `make test`): every third-party module the package imports must
come from them, directly or through one of their own requirements."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _name(text: str) -> str:
    return re.sub(r"[-_.]+", "-", text).lower()


def runtime_closure() -> set[str]:
    """The runtime requirements of pyproject.toml and everything they require
    (installed versions' metadata; extras and markers of this machine)."""
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [Requirement(d) for d in deps]
    seen: set[str] = set()
    while todo:
        req = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue
        name = _name(req.name)
        if name in seen:
            continue
        seen.add(name)
        for sub in metadata.requires(req.name) or []:
            child = Requirement(sub)
            wanted = list(req.extras)
            if child.marker is not None and not any(
                    child.marker.evaluate({"extra": e}) for e in [*wanted, ""]):
                continue
            child.marker = None
            todo.append(child)
    return seen


def imported_modules() -> set[str]:
    out: set[str] = set()
    for path in (ROOT / "switchboard").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                out.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                out.add(node.module.split(".")[0])
    return {m for m in out if m not in sys.stdlib_module_names and m != "switchboard"}


def test_every_imported_package_is_a_runtime_dependency() -> None:
    closure = runtime_closure()
    providers = metadata.packages_distributions()
    missing = {m: providers.get(m, ["?"]) for m in imported_modules()
               if not any(_name(d) in closure for d in providers.get(m, []))}
    assert missing == {}, (
        f"switchboard imports {sorted(missing)} from {missing}, which `make run` does not "
        "install: add them to [project] dependencies in pyproject.toml")
