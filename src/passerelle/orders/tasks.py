"""Outbox consumers of the orders domain."""

from __future__ import annotations

from typing import Any

from passerelle.orders.service.expiry import expire_due


async def expire_due_orders(state: Any, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await expire_due(session, now=state.clock.now())
