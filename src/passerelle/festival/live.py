"""Live festival counters for the big screen: per-deal remaining stock (from the engine's
memory), paid orders and GMV since the festival started (from the database), orders/s."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from sqlalchemy import func, select

from passerelle.festival import service
from passerelle.money import Money
from passerelle.orders.models import Order, OrderStatus
from passerelle.state import AppState

SOLD = (OrderStatus.paid, OrderStatus.accepted, OrderStatus.shipped, OrderStatus.delivered, OrderStatus.completed)


async def snapshot(state: AppState) -> dict[str, Any]:
    now = state.clock.now()
    fx = await state.fx()
    async with state.db.read_sessions() as session:
        festival = await service.current_festival(session, now=now)
        if festival is None:
            return {"festival": None, "at": now.isoformat()}
        deals = await service.list_deals(session, festival_id=festival.id)
        rows = (
            await session.execute(
                select(Order.currency, func.count(), func.coalesce(func.sum(Order.total_amount), 0))
                .where(Order.created_at >= festival.starts_at, Order.status.in_(SOLD))
                .group_by(Order.currency)
            )
        ).all()
    base = state.settings.base_currency
    gmv = sum(fx.convert(Money(int(total), currency), base).amount for currency, _, total in rows if fx.knows(currency))
    engine = state.engine
    return {
        "at": now.isoformat(),
        "festival": {"id": festival.id, "name": festival.name, "ends_at": festival.ends_at.isoformat()},
        "orders": sum(int(count) for _, count, _ in rows),
        "gmv": {"amount": gmv, "currency": base},
        "deals": [
            {
                "id": deal.id,
                "remaining": await engine.remaining(deal.id) if engine is not None and deal.status == "armed" else 0,
            }
            for deal in deals
        ],
    }


async def stream(state: AppState, *, once: bool, is_disconnected: Any) -> AsyncIterator[bytes]:
    """Server-sent events, one snapshot a second, with orders/s from the last two."""
    previous: tuple[float, int] | None = None
    while True:
        data = await snapshot(state)
        now = time.monotonic()
        if previous is not None and data.get("orders") is not None:
            data["orders_per_s"] = round((data["orders"] - previous[1]) / (now - previous[0]), 2)
        previous = (now, int(data.get("orders") or 0))
        yield b"event: festival\ndata: " + orjson.dumps(data) + b"\n\n"
        if once or await is_disconnected():
            return
        await asyncio.sleep(1.0)
