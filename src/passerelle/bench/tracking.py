"""`passerelle bench tracking`: carrier tracking events through the real webhook endpoint.

A real `passerelle serve` on 127.0.0.1 over a fresh embedded database holds shipments;
a separate load-generator process signs and posts their events (each parcel's journey,
partly out of order, with some events sent twice on purpose), either one event per
request or in carrier batches. Afterwards the database is checked: every distinct event
stored once (`lost` = distinct events sent and answered but not stored) and none applied
twice (`duplicates_applied` = applied answers beyond the distinct events, plus stored rows
beyond the distinct ids)."""

from __future__ import annotations

import asyncio
import json
import random
import subprocess
import sys
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from passerelle.accounts.models import Role, User
from passerelle.bench.server import BenchServer
from passerelle.config import Settings
from passerelle.db import migrate
from passerelle.db.base import utcnow
from passerelle.logistics.carriers.registry import carrier_secret
from passerelle.logistics.models import Direction, Shipment, TrackingEvent, TrackingStatus
from passerelle.merchants.models import Merchant, MerchantKind, MerchantStatus
from passerelle.orders.models import Order, OrderStatus, Purchase
from passerelle.state import AppState

SECRET_KEY = "bench-tracking-secret"
JOURNEY = ("picked_up", "in_transit", "customs", "out_for_delivery", "delivered")
DUPLICATE_SHARE = 0.02


async def prepare_shipments(settings: Settings, parcels: int, prefix: str) -> list[str]:
    """One shipped order per 50 parcels (so delivery also moves orders), straight in SQL."""
    state = AppState.from_settings(settings)
    numbers = [f"{prefix}{i:09d}" for i in range(parcels)]
    now = utcnow()
    try:
        async with state.db.sessions() as session:
            user = (
                await session.execute(select(User).where(User.email == "bench-track@passerelle.fr"))
            ).scalar_one_or_none()
            if user is None:
                user = User(
                    email="bench-track@passerelle.fr",
                    password_hash="!",
                    display_name="bench",
                    role=Role.buyer,
                    country="FR",
                    language="fr",
                    currency="EUR",
                )
                session.add(user)
                shop = Merchant(
                    name="Bench carrier shop",
                    slug="bench-carrier-shop",
                    kind=MerchantKind.brand,
                    country="FR",
                    currency="EUR",
                    status=MerchantStatus.approved,
                )
                session.add(shop)
                await session.flush()
            else:
                shop = (
                    await session.execute(select(Merchant).where(Merchant.slug == "bench-carrier-shop"))
                ).scalar_one()
            order_ids = []
            for _ in range((parcels + 49) // 50):
                purchase = Purchase(
                    buyer_id=user.id, currency="EUR", total_amount=1000, shipping_address={"country": "DE"}
                )
                session.add(purchase)
                await session.flush()
                order = Order(
                    purchase_id=purchase.id,
                    merchant_id=shop.id,
                    buyer_id=user.id,
                    status=OrderStatus.shipped,
                    currency="EUR",
                    subtotal_amount=1000,
                    shipping_amount=0,
                    vat_amount=0,
                    total_amount=1000,
                    commission_amount=0,
                    buyer_currency="EUR",
                    buyer_total_amount=1000,
                    fx_rate="1",
                    ship_to_country="DE",
                )
                session.add(order)
                await session.flush()
                order_ids.append(order.id)
            await session.execute(
                insert(Shipment),
                [
                    {
                        "order_id": order_ids[i // 50],
                        "merchant_id": shop.id,
                        "direction": Direction.outbound,
                        "carrier": "sandbox",
                        "service": "standard",
                        "tracking_number": number,
                        "origin_country": "FR",
                        "destination_country": "DE",
                        "status": TrackingStatus.label_created,
                        "estimated_delivery": (now + timedelta(days=6)).date(),
                        "shipped_at": now,
                    }
                    for i, number in enumerate(numbers)
                ],
            )
            await session.commit()
    finally:
        await state.db.dispose()
    return numbers


def _plan(numbers: list[str], *, seed: int) -> tuple[list[dict[str, Any]], int]:
    """Every parcel's journey, shuffled in windows (late events), plus some duplicates."""
    rng = random.Random(seed)
    start = utcnow() - timedelta(days=5)
    events: list[dict[str, Any]] = []
    for n, number in enumerate(numbers):
        for step, kind in enumerate(JOURNEY):
            at = start + timedelta(hours=step * 20, seconds=n % 3600)
            events.append(
                {
                    "id": f"b{number}-{step}",
                    "type": kind,
                    "tracking_number": number,
                    "occurred_at": at.isoformat(),
                    "location": "",
                }
            )
    distinct = len(events)
    for window in range(0, len(events), 64):
        chunk = events[window : window + 64]
        rng.shuffle(chunk)
        events[window : window + 64] = chunk
    for index in sorted(rng.sample(range(distinct), int(distinct * DUPLICATE_SHARE)), reverse=True):
        events.insert(min(len(events), index + rng.randint(1, 500)), events[index])
    return events, distinct


async def _stored(settings: Settings, prefix: str) -> tuple[int, int, int]:
    state = AppState.from_settings(settings)
    try:
        async with state.db.read_sessions() as session:
            rows, distinct = (
                await session.execute(
                    select(func.count(), func.count(func.distinct(TrackingEvent.event_id))).where(
                        TrackingEvent.event_id.like(f"b{prefix}%")
                    )
                )
            ).one()
            delivered = (
                await session.execute(
                    select(func.count()).where(
                        Shipment.tracking_number.like(f"{prefix}%"), Shipment.status == TrackingStatus.delivered
                    )
                )
            ).scalar_one()
    finally:
        await state.db.dispose()
    return int(rows), int(distinct), int(delivered)


def _phase(
    settings: Settings, server: BenchServer, data_dir: Path, *, parcels: int, batch: int, concurrency: int, prefix: str
) -> dict[str, Any]:
    numbers = asyncio.run(prepare_shipments(settings, parcels, prefix))
    events, distinct = _plan(numbers, seed=len(prefix) + batch)
    plan_file = data_dir / f"events-{prefix}.json"
    plan_file.write_text(json.dumps(events))
    load = subprocess.run(
        [
            sys.executable,
            "-m",
            "passerelle.bench.tracking_load",
            "--url",
            server.url,
            "--events",
            str(plan_file),
            "--secret",
            carrier_secret(settings, "sandbox"),
            "--batch",
            str(batch),
            "--concurrency",
            str(concurrency),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    stats = json.loads(load.stdout)
    rows, stored_distinct, delivered = asyncio.run(_stored(settings, prefix))
    return {
        "events_per_s": round(stats["sent"] / stats["elapsed_s"], 1),
        "p99_ms": stats["p99_ms"],
        "lost": distinct - stored_distinct,
        "duplicates_applied": max(0, stats["applied"] - distinct) + (rows - stored_distinct),
        "events_sent": stats["sent"],
        "distinct_events": distinct,
        "duplicates_sent": stats["sent"] - distinct,
        "batch_size": batch,
        "requests": stats["requests"],
        "p50_ms": stats["p50_ms"],
        "errors": stats["errors"],
        "parcels_delivered": delivered,
        "parcels": parcels,
    }


def run(*, parcels: int = 8000, batch: int = 500, concurrency: int = 8, single_parcels: int = 600) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="passerelle-bench-tracking-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(data_dir=data_dir, secret_key=SECRET_KEY)
        migrate.upgrade(settings.resolved_database_url)
        with BenchServer(data_dir, env={"PASSERELLE_SECRET_KEY": SECRET_KEY}) as server:
            single = _phase(settings, server, data_dir, parcels=single_parcels, batch=1, concurrency=64, prefix="S")
            batched = _phase(
                settings, server, data_dir, parcels=parcels, batch=batch, concurrency=concurrency, prefix="B"
            )
    return {
        "events_per_s": batched["events_per_s"],
        "p99_ms": batched["p99_ms"],
        "lost": batched["lost"] + single["lost"],
        "duplicates_applied": batched["duplicates_applied"] + single["duplicates_applied"],
        "batched": batched,
        "one_event_per_request": single,
    }
