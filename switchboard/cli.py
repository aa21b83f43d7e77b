"""The `switchboard` command line.

Each subcommand lives in its own module under :mod:`switchboard.commands` and is
registered here, so that a command's heavy imports are paid only when it runs.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="switchboard",
    help="Switchboard: contact-center routing, reports, staffing and simulation.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
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


def _register() -> None:
    for name, module, func in COMMANDS:
        mod = importlib.import_module(f"switchboard.commands.{module}")
        app.command(name)(getattr(mod, func))


_register()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
