"""The nginx edge half of `passerelle bench clicks`: nginx (connect/edge) in front of the bench
server, wrk against nginx, then wait until the server has ingested the whole click log."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from passerelle.bench import wrk_scripts
from passerelle.bench.server import free_port
from passerelle.config import Settings
from passerelle.connect.edge.ingest import SOURCE
from passerelle.connect.edge.links import all_links
from passerelle.connect.edge.nginx import PING, EdgeServer, config_for
from passerelle.connect.models import EdgeCursor
from passerelle.infra.nginx import nginx_binary
from passerelle.state import AppState

Wrk = Callable[..., dict[str, Any]]
INGEST_TIMEOUT = 300.0


def available() -> bool:
    return nginx_binary() is not None


async def _position(settings: Settings) -> tuple[int, int] | None:
    state = AppState.from_settings(settings)
    try:
        async with state.db.read_sessions() as session:
            row = (
                await session.execute(select(EdgeCursor.inode, EdgeCursor.offset).where(EdgeCursor.source == SOURCE))
            ).first()
            return (int(row[0]), int(row[1])) if row is not None else None
    finally:
        await state.db.dispose()


def _wait_ingested(settings: Settings, log: Path) -> float:
    """Seconds until the server's stored position is the end of the (complete) click log."""
    started = time.monotonic()
    stat = log.stat()
    while time.monotonic() - started < INGEST_TIMEOUT:
        if asyncio.run(_position(settings)) == (stat.st_ino, stat.st_size):
            return time.monotonic() - started
        time.sleep(0.25)
    raise SystemExit(f"the server did not ingest the edge's click log within {INGEST_TIMEOUT:.0f}s")


def measure(
    settings: Settings, upstream_port: int, script: Path, wrk: Wrk, *, seconds: int, connections: int
) -> dict[str, Any]:
    """wrk through the edge; returns its summary plus the edge's ceiling and the ingestion wait."""
    config = config_for(settings, upstream=f"127.0.0.1:{upstream_port}", bind="127.0.0.1", port=free_port())
    edge = EdgeServer(config)
    edge.start(asyncio.run(all_links(settings.resolved_database_url)))
    try:
        ping = script.with_name("ping.lua")
        ping.write_text(wrk_scripts.SUMMARY)
        # nginx answering on its own: the edge's ceiling on this machine, right now.
        ceiling = wrk(edge.url + PING, ping, seconds=max(3, seconds // 2), connections=connections)
        print("bench clicks: through the nginx edge...", file=sys.stderr)
        result = wrk(edge.url, script, seconds=seconds, connections=connections)
    finally:
        edge.stop()  # writes out nginx's log buffer
    print("bench clicks: waiting for the server to ingest the click log...", file=sys.stderr)
    result["ingest_wait_s"] = round(_wait_ingested(settings, config.log), 1)
    result["ceiling_per_s"] = ceiling["requests"] / (ceiling["duration_us"] / 1e6)
    return result
