"""Unpaid orders whose hold ran out go back on sale."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from passerelle.infra import outbox
from passerelle.orders.models import Order, OrderStatus
from passerelle.orders.service.lifecycle import release_hold, set_status


async def expire_due(session: AsyncSession, *, now: datetime, limit: int = 500) -> list[int]:
    """Cancel up to `limit` orders still unpaid at `now` and release their stock.
    Safe to run concurrently with payments: the status change is conditional."""
    due = list(
        (
            await session.execute(
                select(Order.id)
                .where(Order.status == OrderStatus.pending_payment, Order.expires_at <= now)
                .order_by(Order.expires_at)
                .limit(limit)
            )
        ).scalars()
    )
    expired = []
    for order_id in due:
        previous = await set_status(
            session,
            order_id=order_id,
            from_statuses=frozenset({OrderStatus.pending_payment}),
            to_status=OrderStatus.cancelled,
            actor_id=None,
            actor_kind="system",
            now=now,
            note="payment not received in time",
        )
        if previous is None:
            continue
        order = await session.get(Order, order_id)
        assert order is not None
        await release_hold(session, order=order)
        outbox.emit(
            session,
            topic="orders.status_changed",
            payload={"order_id": order_id, "status": "cancelled", "reason": "expired"},
        )
        expired.append(order_id)
    return expired
