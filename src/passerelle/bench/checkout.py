"""`passerelle bench checkout`: the whole buying path against a real server.

A separate load process runs many buyers concurrently through add to cart -> checkout ->
sandbox payment; the PSP's webhooks then mark orders paid through the outbox (in the worker
`passerelle serve` runs beside itself on two cores or more, as it does by default). The figure
is paid orders per second of wall time, from the load's first request until the last order
is paid (polled every 5 ms; until session 17 the clock also held the load process's start-up
and polled every 50 ms, ~0.1 - 0.2 s of a 3,000-buyer run). One SKU is scarce
and raced for, to check that nothing is oversold."""

from __future__ import annotations

import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from passerelle.bench.fixtures import make_buyers, make_catalog
from passerelle.bench.server import BenchServer, children_of, process_cpu_seconds
from passerelle.catalog.models import Sku
from passerelle.cli.outbox_worker import OutboxPlace, runs_in_worker
from passerelle.config import Settings
from passerelle.db import migrate
from passerelle.orders.models import Order, OrderStatus
from passerelle.state import AppState

POLL_SECONDS = 0.005  # how often the last webhooks are looked for, one read each (~1 ms)


async def _prepare(settings: Settings, buyers: int) -> tuple[list[dict[str, Any]], int, int]:
    state = AppState.from_settings(settings)
    try:
        catalog = await make_catalog(state)
        tokens = await make_buyers(state, buyers)
    finally:
        await state.db.dispose()
    rng = random.Random(11)
    plan = [
        {"token": t, "sku_id": catalog.scarce_sku_id if i % 10 == 0 else rng.choice(catalog.sku_ids)}
        for i, t in enumerate(tokens)
    ]
    return plan, catalog.scarce_sku_id, catalog.scarce_stock


async def _paid_and_pending(state: AppState) -> tuple[int, int]:
    async with state.db.read_sessions() as session:
        rows = dict((await session.execute(select(Order.status, func.count()).group_by(Order.status))).all())
    return rows.get(OrderStatus.paid, 0), rows.get(OrderStatus.pending_payment, 0)


async def _until_paid(settings: Settings, give_up_after: float) -> tuple[int, int, float]:
    """Paid and still pending orders once none is pending (or after `give_up_after` seconds), and the wall
    clock then. Polled every few milliseconds: the figure's clock stops here."""
    state = AppState.from_settings(settings)
    try:
        deadline = time.monotonic() + give_up_after
        paid, pending = await _paid_and_pending(state)
        while pending and time.monotonic() < deadline:
            await asyncio.sleep(POLL_SECONDS)
            paid, pending = await _paid_and_pending(state)
        return paid, pending, time.time()
    finally:
        await state.db.dispose()


async def _stock_check(settings: Settings, skus_initial: dict[int, int]) -> int:
    state = AppState.from_settings(settings)
    oversold = 0
    try:
        async with state.db.read_sessions() as session:
            for sku in (await session.execute(select(Sku))).scalars():
                initial = skus_initial.get(sku.id, 1_000_000)
                if sku.stock < 0 or sku.stock + sku.reserved + sku.sold != initial or sku.sold > initial:
                    oversold += abs(sku.stock + sku.reserved + sku.sold - initial) or 1
    finally:
        await state.db.dispose()
    return oversold


def _cpu_when_quiet(pid: int, *, timeout: float = 15.0) -> float | None:
    """The server's CPU once the work left after the last payment (mail, creator credits)
    is done: when it stops growing for half a second."""
    last = process_cpu_seconds(pid)
    deadline = time.monotonic() + timeout
    while last is not None and time.monotonic() < deadline:
        time.sleep(0.5)
        now = process_cpu_seconds(pid)
        if now is None or now - last < 0.02:
            return now
        last = now
    return last


def _worker_of(server: BenchServer) -> int:
    """The pid of the `passerelle worker` the server started beside itself, once it consumes
    (its start-up left out)."""
    assert server.process is not None
    deadline = time.monotonic() + 60
    while b"worker: consuming" not in server.log_path.read_bytes():
        if server.process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(
                f"passerelle worker did not start: {server.log_path.read_text(errors='replace')[-2000:]}"
            )
        time.sleep(0.05)
    return children_of(server.process.pid)[0]


def run(
    *,
    buyers: int = 3000,
    concurrency: int = 64,
    drain_timeout: float = 120.0,
    outbox: OutboxPlace = OutboxPlace.auto,
    worker_poll: float | None = None,
) -> dict[str, Any]:
    """`outbox`: where the server consumes its outbox (`passerelle serve --outbox`, whose
    default the bench measures); `worker_poll`: the worker's seconds between polls."""
    with tempfile.TemporaryDirectory(prefix="passerelle-bench-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        migrate.upgrade(settings.resolved_database_url)
        plan, scarce_sku, scarce_stock = asyncio.run(_prepare(settings, buyers))
        plan_file = data_dir / "buyers.json"
        plan_file.write_text(json.dumps(plan))
        in_worker = runs_in_worker(outbox, settings)
        env = {"PASSERELLE_OUTBOX": outbox.value}
        if worker_poll is not None:
            env["PASSERELLE_WORKER_POLL"] = str(worker_poll)
        with BenchServer(data_dir, env=env) as server:
            assert server.process is not None
            worker = _worker_of(server) if in_worker else None
            worker_before = process_cpu_seconds(worker) if worker is not None else None
            cpu_before = process_cpu_seconds(server.process.pid)  # start-up left out
            load = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "passerelle.bench.checkout_load",
                    "--url",
                    server.url,
                    "--buyers",
                    str(plan_file),
                    "--concurrency",
                    str(concurrency),
                ],
                capture_output=True,
                text=True,
                check=True,
            )
            stats = json.loads(load.stdout)
            # Wait for the PSP's webhooks to land: an order counts once it is paid. The clock
            # runs from the load's first request (its process's start-up left out).
            paid, pending, ended_unix = asyncio.run(_until_paid(settings, drain_timeout))
            elapsed = ended_unix - stats["started_unix"]
            # The worker's CPU when the last order is paid (it never goes quiet: it polls).
            worker_after = process_cpu_seconds(worker) if worker is not None else None
            cpu_after = _cpu_when_quiet(server.process.pid)
            worker_cpu = None
            if worker_before is not None and worker_after is not None:
                worker_cpu = worker_after - worker_before
        server_cpu = cpu_after - cpu_before if cpu_before is not None and cpu_after is not None else None
        oversold = asyncio.run(_stock_check(settings, {scarce_sku: scarce_stock}))
    return {
        "orders_per_s": round(paid / elapsed, 1),
        "paid_orders": paid,
        "unpaid_orders": pending,
        "buyers": buyers,
        "concurrency": concurrency,
        "p50_ms": stats["p50_ms"],
        "p99_ms": stats["p99_ms"],
        "requests_phase_s": round(stats["elapsed_s"], 2),
        # Buyers served per second while the load ran (the server's side alone; the figure
        # above also waits for the last webhook).
        "buyers_per_s_while_loading": round(buyers / stats["elapsed_s"], 1) if stats["elapsed_s"] else None,
        "total_s": round(elapsed, 2),
        "out_of_stock_answers": stats["out_of_stock"],
        "oversold": oversold,
        "errors": stats["errors"],
        # Server CPU (all threads) per paid order, mail and creator consumers included.
        "server_cpu_ms_per_paid_order": round(1000 * server_cpu / paid, 3) if server_cpu is not None and paid else None,
        "outbox": "passerelle worker process" if in_worker else "in the server",
        "worker_cpu_ms_per_paid_order": round(1000 * worker_cpu / paid, 3) if worker_cpu is not None and paid else None,
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }
