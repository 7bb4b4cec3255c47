"""Outbox consumers of auctions."""

from __future__ import annotations

from typing import Any

from passerelle.auctions import service


async def close_auction(state: Any, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await service.close(session, auction_id=int(payload["auction_id"]), now=state.clock.now())


async def auction_order_paid(state: Any, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await service.on_order_paid(session, order_id=int(payload["order_id"]))


async def auction_order_dropped(state: Any, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await service.on_order_dropped(session, order_id=int(payload["order_id"]))


async def expire_unpaid_auction(state: Any, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await service.expire_unpaid(session, auction_id=int(payload["auction_id"]), now=state.clock.now())
