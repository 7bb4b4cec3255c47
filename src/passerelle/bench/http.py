"""`passerelle bench http`: deal claims through the real server over loopback, driven by
wrk from a separate process, against the same server's no-op route (the stack ceiling);
with `--edge`, both through `passerelle edge` (nginx gathering the claims into batches)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import secrets
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

from passerelle.bench import wrk_scripts
from passerelle.bench.fixtures import make_buyers, make_catalog
from passerelle.bench.server import BenchServer, free_port, process_cpu_seconds
from passerelle.config import Settings
from passerelle.connect.edge.nginx import EdgeServer, config_for
from passerelle.db import migrate
from passerelle.db.base import utcnow
from passerelle.festival import edge as claims_edge
from passerelle.festival import service as festival
from passerelle.festival.engine.journal import SqliteJournal
from passerelle.state import AppState

DEALS = 20
DEAL_STOCK = 5_000_000


async def _prepare(settings: Settings, buyers: int) -> tuple[list[str], list[int]]:
    from sqlalchemy import select

    from passerelle.accounts.models import Role, User
    from passerelle.merchants.models import MerchantMember

    state = AppState.from_settings(settings)
    try:
        catalog = await make_catalog(state, merchants_count=1, products_each=DEALS + 1)
        tokens = await make_buyers(state, buyers)
        now = utcnow()
        async with state.db.sessions() as session:
            operator = (await session.execute(select(User).where(User.role == Role.operator))).scalars().first()
            seller = (
                await session.execute(select(User).join(MerchantMember, MerchantMember.user_id == User.id).limit(1))
            ).scalar_one()
            merchant_id = (
                await session.execute(select(MerchantMember.merchant_id).where(MerchantMember.user_id == seller.id))
            ).scalar_one()
            assert operator is not None
            fest = await festival.create_festival(
                session,
                actor=operator,
                name="Bench 11.11",
                starts_at=now - timedelta(hours=1),
                ends_at=now + timedelta(hours=6),
                time_zone="Europe/Paris",
            )
            deal_ids = []
            for sku_id in catalog.sku_ids[:DEALS]:
                deal = await festival.create_deal(
                    session,
                    actor=seller,
                    merchant_id=merchant_id,
                    festival_id=fest.id,
                    sku_id=sku_id,
                    price_amount=500,
                    stock=DEAL_STOCK // 10,
                    per_buyer_limit=1_000_000,
                    starts_at=now - timedelta(minutes=5),
                    ends_at=now + timedelta(hours=5),
                )
                await festival.arm_deal(session, actor=seller, deal_id=deal.id)
                deal_ids.append(deal.id)
            await session.commit()
    finally:
        await state.db.dispose()
    return tokens, deal_ids


async def _touch_every_buyer(url: str, tokens: list[str], concurrency: int = 32) -> None:
    """One authenticated request per buyer on the claim route (deal 0 does not exist, so
    nothing is claimed): the server caches each token's user as it would in a festival."""
    queue = list(tokens)
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:

        async def worker() -> None:
            while queue:
                token = queue.pop()
                await client.post(
                    "/api/v1/deals/0/claims", json={"quantity": 1}, headers={"Authorization": f"Bearer {token}"}
                )

        await asyncio.gather(*(worker() for _ in range(concurrency)))


def _wrk(url: str, script: Path, *, seconds: int, connections: int) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        raise SystemExit("bench http needs wrk: apt-get install wrk")
    out = subprocess.run(
        [wrk, "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("{"))
    return dict(json.loads(line))


def _audit(journal_path: Path) -> dict[str, float]:
    journal = SqliteJournal(journal_path)
    book = journal.load()
    stocks = journal.stocks()
    oversold = 0
    for deal_id, deal in book.deals.items():
        held_or_sold = stocks[deal_id] - deal.remaining
        if deal.remaining < 0 or held_or_sold > stocks[deal_id]:
            oversold += 1
    reservations = len(book.reservations)
    # How many reservations each durable batch carried: small batches mean a commit (and
    # its thread hop) per few claims.
    sizes = [len(rows) for rows, _changes in journal.replay() if rows]
    journal.close()
    return {
        "oversold": oversold,
        "reservations": reservations,
        "batches": len(sizes),
        "mean_batch": round(sum(sizes) / len(sizes), 1) if sizes else 0.0,
    }


class ScreenWatcher(threading.Thread):
    """Follows the big screen's feed while the claims run: the screen must keep its
    once-a-second refresh under full load. Records when each event arrived."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True, name="screen-watcher")
        self.url = f"{url}/api/v1/festivals/current/screen"
        self.arrivals: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with contextlib.suppress(httpx.HTTPError), httpx.stream("GET", self.url, timeout=30) as response:
            for line in response.iter_lines():
                if line.startswith("event: screen"):
                    self.arrivals.append(time.monotonic())
                if self.stop.is_set():
                    return

    def max_gap_ms(self) -> float | None:
        gaps = [b - a for a, b in zip(self.arrivals, self.arrivals[1:], strict=False)]
        return round(max(gaps) * 1000) if gaps else None


@contextlib.contextmanager
def _edge_in_front(settings: Settings, server: BenchServer, gateway: str) -> Iterator[EdgeServer]:
    """`passerelle edge` (nginx gathering the claims) in front of the bench server."""
    if not claims_edge.lua_available():
        raise SystemExit("bench http --edge needs nginx's Lua module: apt-get install libnginx-mod-http-lua lua-cjson")
    config = config_for(settings, upstream=f"127.0.0.1:{server.port}", bind="127.0.0.1", port=free_port())
    edge = EdgeServer(dataclasses.replace(config, gateway_token=gateway))
    edge.start()
    try:
        yield edge
    finally:
        edge.stop()


def run(
    *,
    batched: bool = False,
    edge: bool = False,
    seconds: int = 8,
    connections: int = 64,
    buyers: int = 2_000,
    batch: int = 500,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="passerelle-http-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir)
        migrate.upgrade(settings.resolved_database_url)
        tokens, deal_ids = asyncio.run(_prepare(settings, buyers))
        gateway = secrets.token_urlsafe(24)
        env = {
            "PASSERELLE_MAX_OPEN_RESERVATIONS": "0",
            "PASSERELLE_CLAIMS_PER_ACCOUNT_PER_SECOND": "1000000000",
            "PASSERELLE_CLAIMS_PER_IP_PER_SECOND": "1000000000",
            "PASSERELLE_GATEWAY_TOKEN": gateway,
            "PASSERELLE_RUN_WORKER": "false",
        }
        (data_dir / "noop.lua").write_text(wrk_scripts.noop_script())
        claims_lua = data_dir / "claims.lua"
        if batched:
            claims_lua.write_text(wrk_scripts.batch_script(gateway, deal_ids, buyers, batch))
        else:
            claims_lua.write_text(wrk_scripts.claims_script(tokens, deal_ids))
        with BenchServer(data_dir, env=env) as server, contextlib.ExitStack() as fronts:
            front = fronts.enter_context(_edge_in_front(settings, server, gateway)) if edge else None
            url = front.url if front is not None else server.url
            nginx_pid = front.nginx.process.pid if front is not None and front.nginx.process is not None else None
            edge_cpu = (lambda: process_cpu_seconds(nginx_pid, children=True) or 0.0) if nginx_pid is not None else None
            _wrk(url, data_dir / "noop.lua", seconds=2, connections=connections)  # warm-up
            cpu_before = server.cpu_seconds()
            ceiling = _wrk(url, data_dir / "noop.lua", seconds=seconds, connections=connections)
            ceiling_cpu = server.cpu_seconds() - cpu_before
            # Warm-up: each buyer's first request looks the token up once in the database (a
            # few ms each); measure the steady state, where every buyer has been seen.
            if not batched:
                asyncio.run(_touch_every_buyer(server.url, tokens))
            _wrk(url, claims_lua, seconds=3, connections=connections if not batched else 8)
            watcher = ScreenWatcher(server.url)
            watcher.start()
            cpu_before = server.cpu_seconds()
            edge_before = edge_cpu() if edge_cpu else 0.0
            claims = _wrk(url, claims_lua, seconds=seconds, connections=connections if not batched else 8)
            claims_cpu = server.cpu_seconds() - cpu_before
            claims_edge_cpu = edge_cpu() - edge_before if edge_cpu else 0.0
            watcher.stop.set()
        audit = _audit(data_dir / "engine" / "journal.db")
    per_request = batch if batched else 1
    claims_per_s = claims["requests"] * per_request / (claims["duration_us"] / 1e6)
    ceiling_per_s = ceiling["requests"] / (ceiling["duration_us"] / 1e6)
    result: dict[str, Any] = {
        "claims_per_s": round(claims_per_s),
        "p50_ms": round(claims["p50_us"] / 1000, 2),
        "p99_ms": round(claims["p99_us"] / 1000, 2),
        "ceiling_per_s": round(ceiling_per_s),
        "ratio": round(claims_per_s / ceiling_per_s, 2) if not batched else None,
        "oversold": audit["oversold"],
        "errors": claims["socket_errors"],
        "durable_reservations": audit["reservations"],
        "durable_batches": audit["batches"],
        "mean_reservations_per_batch": audit["mean_batch"],
        "connections": connections,
        "seconds": seconds,
        # Server CPU (user + system) per claim and per no-op request: steadier than the
        # rates when other work shares the machine.
        "server_cpu_us_per_claim": round(claims_cpu * 1e6 / (claims["requests"] * per_request), 1),
        "server_cpu_us_per_noop": round(ceiling_cpu * 1e6 / ceiling["requests"], 1),
        # The big screen's feed during the claims: its longest gap between two refreshes.
        "screen_refreshes": len(watcher.arrivals),
        "screen_max_gap_ms": watcher.max_gap_ms(),
    }
    if batched:
        result["claims_per_request"] = batch
    # Through the edge, the ceiling is the server's no-op route reached through the same edge
    # (a plain proxied request), while the edge hands claims over in batches.
    result["through"] = "passerelle edge (nginx + Lua)" if edge else "server"
    if edge:
        result["edge_cpu_us_per_claim"] = round(claims_edge_cpu * 1e6 / claims["requests"], 1)
    return result
