"""Estimated delivery dates: the carrier service's transit days for the route (domestic or
cross-border), replaced by the median of past transit times once the same carrier,
service and route has enough delivered parcels."""

from __future__ import annotations

import math
import statistics
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.logistics.carriers.base import CarrierService
from passerelle.logistics.models import Direction, Shipment

MIN_SAMPLES = 5
SAMPLES = 200


async def transit_days(
    session: AsyncSession, *, carrier: str, service: CarrierService, origin: str, destination: str
) -> int:
    rows = await session.execute(
        select(Shipment.shipped_at, Shipment.delivered_at)
        .where(
            Shipment.carrier == carrier,
            Shipment.service == service.code,
            Shipment.origin_country == origin,
            Shipment.destination_country == destination,
            Shipment.direction == Direction.outbound,
            Shipment.delivered_at.is_not(None),
        )
        .order_by(Shipment.delivered_at.desc())
        .limit(SAMPLES)
    )
    hours = [(delivered - shipped).total_seconds() / 3600 for shipped, delivered in rows.all() if delivered]
    if len(hours) >= MIN_SAMPLES:
        return max(1, math.ceil(statistics.median(hours) / 24))
    return service.transit_days(cross_border=origin != destination)


async def estimate(
    session: AsyncSession,
    *,
    carrier: str,
    service: CarrierService,
    origin: str,
    destination: str,
    shipped_at: datetime,
) -> date:
    days = await transit_days(session, carrier=carrier, service=service, origin=origin, destination=destination)
    return (shipped_at + timedelta(days=days)).date()
