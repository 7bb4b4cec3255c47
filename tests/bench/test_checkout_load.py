"""The checkout benchmark's load process (bench/checkout_load.py, bench/raw_http.py) against a
real server: its plain HTTP/1.1 client must drive the real routes, or the figure means nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from passerelle.bench import checkout_load
from passerelle.bench.fixtures import make_buyers, make_catalog
from passerelle.bench.raw_http import Connection
from passerelle.state import AppState
from tests import live_server

BUYERS = 12


@pytest.fixture
def server_and_plan(tmp_path: Path) -> Iterator[tuple[live_server.LiveServer, list[dict[str, Any]]]]:
    plan: list[dict[str, Any]] = []

    async def setup(state: AppState) -> None:
        catalog = await make_catalog(state)
        tokens = await make_buyers(state, BUYERS)
        # Half the buyers race for the scarce SKU.
        plan.extend(
            {"token": token, "sku_id": catalog.scarce_sku_id if i % 2 else catalog.sku_ids[0]}
            for i, token in enumerate(tokens)
        )

    live_server.prepare(tmp_path, setup)
    server = live_server.start(tmp_path)
    try:
        yield server, plan
    finally:
        server.stop()


async def test_given_buyers_then_each_adds_checks_out_and_pays_over_kept_alive_connections(
    server_and_plan: tuple[live_server.LiveServer, list[dict[str, Any]]],
) -> None:
    server, plan = server_and_plan
    stats = await checkout_load.run(server.url, plan, concurrency=3)
    assert stats["errors"] == 0
    assert stats["submitted"] + stats["out_of_stock"] == BUYERS
    assert stats["submitted"] >= BUYERS // 2  # everyone on the plentiful SKU gets through


async def test_given_a_dropped_connection_then_the_next_request_opens_a_new_one(
    server_and_plan: tuple[live_server.LiveServer, list[dict[str, Any]]],
) -> None:
    server, _ = server_and_plan
    host, port = server.url.removeprefix("http://").split(":")
    connection = Connection(host, int(port))
    try:
        status, body = await connection.post("/api/v1/noop", b"{}")
        assert (status, body) == (200, b'{"ok":true}')
        assert connection._streams is not None
        connection._streams[1].close()  # as if the server had closed it
        await asyncio.sleep(0)
        with pytest.raises((OSError, asyncio.IncompleteReadError, ValueError)):
            await connection.post("/api/v1/noop", b"{}")
        status, _ = await connection.post("/api/v1/noop", b"{}")
        assert status == 200
    finally:
        connection.close()
