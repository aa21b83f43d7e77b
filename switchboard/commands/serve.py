"""``switchboard serve``: the API server (FastAPI on uvicorn) over SQLite or PostgreSQL.

``--demo`` runs demo mode instead (:mod:`switchboard.server.demo`): its own
SQLite database (``var/demo.db``, or ``--demo-db``), a demo tenant of
``--demo-agents`` agents in ``--demo-queues`` queues with live traffic,
127.0.0.1 only.
"""

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
    demo: Annotated[bool, typer.Option(
        "--demo", help="demo mode: var/demo.db, a demo tenant, live traffic, 127.0.0.1 only")]
    = False,
    demo_agents: Annotated[int, typer.Option(
        help="demo mode: agents (two of them are yours, the rest virtual)")] = 20,
    demo_queues: Annotated[int, typer.Option(
        help="demo mode: queues (the last, vip, is served by your two agents)")] = 4,
    demo_db: Annotated[str | None, typer.Option(
        help="demo mode: the SQLite file [default: var/demo.db, or "
             "var/demo-N-agents-M-queues.db for another size]")] = None,
    demo_rate: Annotated[float | None, typer.Option(
        help="demo mode: new contacts a minute [default: 1.25 per agent]")] = None,
    demo_speed: Annotated[float, typer.Option(
        help="demo mode: time compression (2 = twice as fast)")] = 1.0,
    voice: Annotated[str | None, typer.Option(
        help="telephony configuration (YAML): SIP, rtpengine, trunks, numbers, phones; "
             "see docs/voice.md")] = None,
) -> None:
    """Serve the REST API under /api/v1 (migrating the database first)."""
    import uvicorn

    from switchboard.server.app import create_app
    from switchboard.store.db import migrate, open_db

    try:
        if demo:
            from switchboard.server.demo import (
                DemoSettings,
                check_demo_options,
                check_size,
                run_demo,
            )
            from switchboard.server.demo_tenant import Shape

            settings = DemoSettings(rate_per_min=demo_rate, speed=demo_speed, db_path=demo_db,
                                    shape=Shape(agents=demo_agents, queues=demo_queues))
            db = check_demo_options(db, host, DEFAULT_URL, settings)
        engine = open_db(db)
        migrate(engine)
        if demo:
            check_size(engine, settings)
        if voice is not None:
            from switchboard.voice.config import load_voice_config

            voice_config = load_voice_config(voice)
    except SwitchboardError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if demo:
        run_demo(engine, port, settings)
        return
    typer.echo(f"Switchboard API on http://{host}:{port}/api/v1 (OpenAPI: "
               f"/api/v1/openapi.json), database {engine.url.render_as_string()}")
    app = create_app(engine)
    if voice is not None:
        from switchboard.voice.service import install

        install(app, voice_config)
        typer.echo(f"SIP on udp:{voice_config.address}:{voice_config.port}")
    freeze_startup_objects()
    uvicorn.run(app, host=host, port=port, log_level="warning")


def freeze_startup_objects() -> None:
    """Move what start-up made (modules, the app, hundreds of thousands of
    objects that live as long as the process) out of the garbage collector's
    sight: a full collection then scans only newer objects, instead of
    pausing the event loop for a hundred milliseconds and more now and then."""
    import gc

    gc.collect()
    gc.freeze()
