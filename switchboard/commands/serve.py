"""``switchboard serve``: the API server (FastAPI on uvicorn) over SQLite or PostgreSQL."""

from __future__ import annotations

from typing import Annotated

import typer

from switchboard.domain.errors import SwitchboardError
from switchboard.store.db import DEFAULT_URL


def serve(
    db: Annotated[str, typer.Option(help="database URL (sqlite:///... or postgresql://...)")]
    = DEFAULT_URL,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port", min=1, max=65535)] = 8080,
) -> None:
    """Serve the REST API under /api/v1 (migrating the database first)."""
    import uvicorn

    from switchboard.server.app import create_app
    from switchboard.store.db import migrate, open_db

    try:
        engine = open_db(db)
        migrate(engine)
    except SwitchboardError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Switchboard API on http://{host}:{port}/api/v1 (OpenAPI: "
               f"/api/v1/openapi.json), database {engine.url.render_as_string()}")
    uvicorn.run(create_app(engine), host=host, port=port, log_level="warning")
