"""`passerelle edge`: write the tracked-link edge's nginx config and run nginx in front of a server."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from passerelle.cli.common import settings
from passerelle.connect.edge.nginx import EdgeServer, config_for


def edge(
    upstream: str = typer.Option(
        "127.0.0.1:8000", help="host:port of `passerelle serve` (run with PASSERELLE_CONNECT_EDGE=true)."
    ),
    bind: str = typer.Option("0.0.0.0", help="Interface nginx listens on."),
    port: int = typer.Option(0, help="HTTP port (default PASSERELLE_CONNECT_EDGE_PORT)."),
    workers: str = typer.Option("1", help="nginx worker processes (a number or `auto`)."),
    write_only: bool = typer.Option(False, "--write-only", help="Write the config, print its path, do not start."),
) -> None:
    current = settings()
    count = int(workers) if workers.isdigit() else workers
    config = config_for(current, upstream=upstream, bind=bind, port=port, workers=count)
    server = EdgeServer(config)
    if write_only:
        typer.echo(str(server.write()))
        return
    server.start()
    typer.echo(
        f"edge: {server.url} -> {upstream}; click log {config.log} "
        "(the server ingests it with PASSERELLE_CONNECT_EDGE=true and the same data dir)",
        err=True,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        # Only ask: the wait below returns when nginx has written its buffered log and exited
        # (waiting inside the handler would contend with that wait).
        server.nginx.signal(signal.SIGQUIT)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    assert server.nginx.process is not None
    code = server.nginx.process.wait()
    if code > 0:
        typer.echo(server.nginx.error_log(), err=True)
    raise typer.Exit(max(code, 0))
