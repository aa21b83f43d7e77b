"""The `switchboard` command line.

Each subcommand lives in its own module under :mod:`switchboard.commands` and is
registered here, so that a command's heavy imports are paid only when it runs.
"""

from __future__ import annotations

import importlib
import sys

import typer

HELP = "Switchboard: contact-center routing, reports, staffing and simulation."


def _root() -> None:
    """Switchboard: contact-center routing, reports, staffing and simulation."""
    # A callback keeps `switchboard <command>` a group even while only one command is registered.


# (command name, module under switchboard.commands, function in it)
COMMANDS: list[tuple[str, str, str]] = [
    ("demo", "demo", "demo"),
    ("ivr-validate", "ivr", "ivr_validate"),
    ("erlang", "erlang", "erlang"),
    ("simulate", "simulate", "simulate"),
    ("report", "report", "report"),
    ("export", "export", "export"),
    ("serve", "serve", "serve"),
    ("admin", "admin", "admin"),
]


def build(only: str | None = None) -> typer.Typer:
    """The command line with every command, or with the one named ``only``
    (then only that command's module, and what it imports, is loaded)."""
    app = typer.Typer(name="switchboard", help=HELP, no_args_is_help=True,
                      add_completion=False, pretty_exceptions_enable=False)
    app.callback()(_root)
    for name, module, func in COMMANDS:
        if only is None or name == only:
            mod = importlib.import_module(f"switchboard.commands.{module}")
            app.command(name)(getattr(mod, func))
    return app


def __getattr__(name: str) -> typer.Typer:
    """``switchboard.cli.app``: every command, built on first use (CliRunner, tests)."""
    if name == "app":
        app = globals()["app"] = build()
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def main() -> None:
    """Run the command named on the command line, loading only its module (the
    other commands import a web stack, a database layer and SciPy: about a
    second before any work); help, no command or an unknown one load them all."""
    names = {name for name, _, _ in COMMANDS}
    first = sys.argv[1] if len(sys.argv) > 1 else None
    build(first if first in names else None)()


if __name__ == "__main__":
    main()
