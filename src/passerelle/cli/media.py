"""`passerelle media`: write the nginx-rtmp config and run nginx in the foreground."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import typer

from passerelle.cli.common import settings
from passerelle.live.media import MediaServer, config_for


def media(
    app_url: str = typer.Option("", help="Where nginx reaches passerelle; default PASSERELLE_PUBLIC_URL or :8000."),
    bind: str = typer.Option("0.0.0.0", help="Interface nginx listens on (RTMP and HTTP)."),
    rtmp_port: int = typer.Option(0, help="RTMP port (default PASSERELLE_MEDIA_RTMP_PORT)."),
    http_port: int = typer.Option(0, help="HLS/control HTTP port (default PASSERELLE_MEDIA_HTTP_PORT)."),
    write_only: bool = typer.Option(False, "--write-only", help="Write the config, print its path, do not start."),
) -> None:
    current = settings()
    if rtmp_port:
        current.media_rtmp_port = rtmp_port
    if http_port:
        current.media_http_port = http_port
    config = config_for(current, app_url=app_url or current.public_url or "http://127.0.0.1:8000", bind=bind)
    server = MediaServer(config)
    if write_only:
        typer.echo(str(server.write()))
        return
    server.start()
    typer.echo(
        f"media server: rtmp://{bind}:{config.rtmp_port}/live, HLS http://{bind}:{config.http_port}/hls/, "
        f"callbacks to {config.app_url}",
        err=True,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        server.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    assert server.process is not None
    code = server.process.wait()
    if code:
        typer.echo(server.error_log(), err=True)
    raise typer.Exit(code)
