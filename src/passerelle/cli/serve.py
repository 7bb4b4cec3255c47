"""`passerelle serve` and `passerelle demo`."""

from __future__ import annotations

import os
import signal
from types import FrameType

import typer
import uvicorn

from passerelle.cli.common import settings, upgrade_database, with_state
from passerelle.cli.outbox_worker import OutboxPlace, WorkerSupervisor, runs_in_worker
from passerelle.config import Settings

Host = typer.Option(os.environ.get("HOST", "127.0.0.1"), help="Interface to listen on (HOST).")
Port = typer.Option(int(os.environ.get("PORT", "8000")), help="TCP port (PORT).")
Outbox = typer.Option(
    OutboxPlace.auto,
    envvar="PASSERELLE_OUTBOX",
    help="Where the outbox is consumed (payment webhooks, paid-order bookings, mails): 'worker' starts a "
    "`passerelle worker` beside the server, 'server' keeps it in the server's process, 'auto' is 'worker' "
    "on two cores or more (PASSERELLE_OUTBOX).",
)


def _run(host: str, port: int, workers: int, current: Settings, outbox: OutboxPlace) -> None:
    supervisor: WorkerSupervisor | None = None
    if runs_in_worker(outbox, current):
        # Read by the server's settings too (uvicorn builds the app from the environment):
        # it then keeps only the topics its festival engine needs and nudges the worker.
        os.environ["PASSERELLE_OUTBOX_PROCESS"] = "true"
        supervisor = WorkerSupervisor()
        supervisor.start()
        # uvicorn raises the SIGTERM it caught again once the server is down: with the
        # default handler the process would die there, leaving the worker to notice alone.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        _serve(host, port, workers)
    finally:
        if supervisor is not None:
            supervisor.stop()  # after the server: what it queued last is consumed first


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def _serve(host: str, port: int, workers: int) -> None:
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
    workers: int = typer.Option(1, min=1, help="Server processes (more than one needs PASSERELLE_REDIS_URL)."),
    outbox: OutboxPlace = Outbox,
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
    _run(host, port, workers, current, outbox)


def demo(host: str = Host, port: int = Port, outbox: OutboxPlace = Outbox) -> None:
    from passerelle.seed.demo import seed_demo_if_empty

    current = settings()
    upgrade_database(current)
    report = with_state(current, seed_demo_if_empty)
    typer.echo(report.summary())
    typer.echo(f"passerelle demo on http://{host}:{port}")
    _run(host, port, 1, current, outbox)
