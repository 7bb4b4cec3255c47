"""`passerelle serve` and `passerelle demo`."""

from __future__ import annotations

import os

import typer
import uvicorn

from passerelle.cli.common import settings, upgrade_database, with_state

Host = typer.Option(os.environ.get("HOST", "127.0.0.1"), help="Interface to listen on (HOST).")
Port = typer.Option(int(os.environ.get("PORT", "8000")), help="TCP port (PORT).")


def _run(host: str, port: int, workers: int) -> None:
    uvicorn.run(
        "passerelle.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop",
        # uvicorn's httptools protocol, answering the flash-deal claim route below ASGI
        # (passerelle/direct_http.py); every other request is served through ASGI as usual.
        http="passerelle.direct_http:DirectHttpProtocol",
        proxy_headers=True,
        # A live room sends the same frame to thousands of sockets: compressing it once per
        # socket costs more CPU than the bandwidth it saves on short JSON frames.
        ws_per_message_deflate=False,
        # The same WebSocket implementation as uvicorn's default, letting the live hub write a
        # room's frame, encoded once, to each viewer's socket (passerelle/live/direct.py).
        ws="passerelle.live.direct:DirectWebSocketProtocol",
        log_level=os.environ.get("PASSERELLE_LOG_LEVEL", "info"),
    )


def serve(
    host: str = Host,
    port: int = Port,
    workers: int = typer.Option(1, min=1, help="Worker processes (more than one needs PASSERELLE_REDIS_URL)."),
) -> None:
    current = settings()
    if workers > 1 and not current.redis_url:
        # Each process would run its own festival engine over the one journal and sell
        # every deal's stock once per process.
        raise typer.BadParameter(
            "several workers share flash deals and live rooms only through Redis: "
            "set PASSERELLE_REDIS_URL, or run one worker",
            param_hint="--workers",
        )
    upgrade_database(current)
    _run(host, port, workers)


def demo(host: str = Host, port: int = Port) -> None:
    from passerelle.seed.demo import seed_demo_if_empty

    current = settings()
    upgrade_database(current)
    report = with_state(current, seed_demo_if_empty)
    typer.echo(report.summary())
    typer.echo(f"passerelle demo on http://{host}:{port}")
    _run(host, port, 1)
