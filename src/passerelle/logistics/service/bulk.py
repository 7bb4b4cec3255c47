"""Festival-scale shipping: a merchant ships many paid orders at once. The request only
queues outbox messages (one per chunk of orders); each is handled in one transaction that
books every order of the chunk, skipping orders that already have a parcel, so a
redelivered message books nothing twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.accounts.models import User
from passerelle.errors import DomainError, Invalid
from passerelle.infra import outbox
from passerelle.logistics.carriers.base import Carrier
from passerelle.logistics.models import Direction, Shipment
from passerelle.logistics.service.shipments import ParcelSpec, create_shipment

CHUNK = 200
MAX_ORDERS = 20_000
TOPIC = "logistics.ship_batch"


def queue(
    session: AsyncSession,
    *,
    actor: User,
    merchant_id: int,
    order_ids: Sequence[int],
    carrier: str,
    service: str,
    parcel: ParcelSpec,
) -> int:
    """Queue the orders in chunks; returns how many messages were written."""
    wanted = sorted(set(order_ids))
    if not 0 < len(wanted) <= MAX_ORDERS:
        raise Invalid("invalid_orders", f"Between 1 and {MAX_ORDERS} orders", field="order_ids")
    chunks = [wanted[i : i + CHUNK] for i in range(0, len(wanted), CHUNK)]
    for chunk in chunks:
        outbox.emit(
            session,
            topic=TOPIC,
            payload={
                "actor_id": actor.id,
                "merchant_id": merchant_id,
                "order_ids": chunk,
                "carrier": carrier,
                "service": service,
                "parcel": asdict(parcel),
            },
        )
    return len(chunks)


async def ship_chunk(
    session: AsyncSession, *, payload: dict[str, Any], carrier: Carrier, now: datetime, signing_secret: str
) -> dict[str, int]:
    actor = await session.get(User, int(payload["actor_id"]))
    if actor is None:
        return {"shipped": 0, "skipped": len(payload["order_ids"])}
    order_ids = [int(i) for i in payload["order_ids"]]
    done = set(
        (
            await session.execute(
                select(Shipment.order_id).where(
                    Shipment.order_id.in_(order_ids), Shipment.direction == Direction.outbound
                )
            )
        ).scalars()
    )
    parcel = ParcelSpec(**payload["parcel"])
    shipped = skipped = 0
    for order_id in order_ids:
        if order_id in done:
            skipped += 1
            continue
        try:
            async with session.begin_nested():
                await create_shipment(
                    session,
                    actor=actor,
                    order_id=order_id,
                    carrier=carrier,
                    service=str(payload["service"]),
                    parcels=[parcel],
                    now=now,
                    signing_secret=signing_secret,
                )
            shipped += 1
        except DomainError:
            skipped += 1  # not the merchant's, not paid, cancelled meanwhile...
    return {"shipped": shipped, "skipped": skipped}
