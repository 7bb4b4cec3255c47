"""`passerelle edge`: write the edge's nginx config and run nginx in front of a server: tracked
links answered from a map, and (with the gateway token and nginx's Lua module) flash-deal
claims gathered into batches for the server."""

from __future__ import annotations

import asyncio
import signal

import typer

from passerelle.cli.common import settings
from passerelle.config import Settings
from passerelle.connect.edge.links import LinkMap
from passerelle.connect.edge.nginx import EdgeServer, config_for
from passerelle.db.engine import Database


def edge(
    upstream: str = typer.Option(
        "127.0.0.1:8000", help="host:port of `passerelle serve` (run with PASSERELLE_CONNECT_EDGE=true)."
    ),
    bind: str = typer.Option("0.0.0.0", help="Interface nginx listens on."),
    port: int = typer.Option(0, help="HTTP port (default PASSERELLE_CONNECT_EDGE_PORT)."),
    workers: str = typer.Option("1", help="nginx worker processes (a number or `auto`)."),
    refresh: float = typer.Option(10.0, min=0.5, help="Seconds between two looks for new links (map reload)."),
    write_only: bool = typer.Option(False, "--write-only", help="Write the config, print its path, do not start."),
) -> None:
    current = settings()
    count = int(workers) if workers.isdigit() else workers
    server = EdgeServer(config_for(current, upstream=upstream, bind=bind, port=port, workers=count))
    raise typer.Exit(asyncio.run(_run(current, server, refresh=refresh, write_only=write_only)))


async def _run(current: Settings, server: EdgeServer, *, refresh: float, write_only: bool) -> int:
    db = Database(current.resolved_database_url)
    links = LinkMap()
    try:
        await links.refresh(db)
        if write_only:
            typer.echo(str(server.write(links.links)))
            return 0
        server.start(links.links)
        typer.echo(
            f"edge: {server.url} -> {server.config.upstream}, {len(links.links)} links; click log "
            f"{server.config.log} (the server ingests it with PASSERELLE_CONNECT_EDGE=true)",
            err=True,
        )
        typer.echo(f"edge: flash-deal claims {_claims_mode(server)}", err=True)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, server.nginx.signal, signal.SIGQUIT)  # nginx writes its log out
        process = server.nginx.process
        assert process is not None
        looked = loop.time()
        while process.poll() is None:
            await asyncio.sleep(0.5)
            if loop.time() - looked >= refresh and process.poll() is None and await links.refresh(db):
                server.write_links(links.links)  # codes missing meanwhile went through the cache
                server.reload()
            looked = loop.time()
        if process.returncode > 0:
            typer.echo(server.nginx.error_log(), err=True)
        return max(process.returncode, 0)
    finally:
        await db.dispose()


def _claims_mode(server: EdgeServer) -> str:
    if server.config.claims:
        return "gathered here into batches (POST /api/v1/claims:edge)"
    if not server.config.gateway_token:
        return "proxied one by one (set PASSERELLE_GATEWAY_TOKEN, the same as the server's, to gather them)"
    return "proxied one by one (install libnginx-mod-http-lua and lua-cjson to gather them)"
