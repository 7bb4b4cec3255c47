"""What logistics adds to the festival's big screen: deliveries created during the
festival and the share of parcels shipped in recyclable packaging."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from passerelle.festival.models import Festival
from passerelle.logistics.models import Direction, Shipment
from passerelle.logistics.service import packaging


async def add_to_screen(state: Any, festival: Festival, data: dict[str, Any]) -> None:
    async with state.db.read_sessions() as session:
        deliveries = await session.scalar(
            select(func.count(Shipment.id)).where(
                Shipment.direction == Direction.outbound,
                Shipment.shipped_at >= festival.starts_at,
                Shipment.shipped_at < festival.ends_at,
            )
        )
        stats = await packaging.stats(session)
    data["deliveries"] = int(deliveries or 0)
    data["recyclable_share"] = stats.recyclable_share if stats.parcels else None
