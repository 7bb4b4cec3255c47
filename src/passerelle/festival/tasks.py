"""Outbox consumers of the festival: tell the engine a deal order was paid or dropped."""

from __future__ import annotations

from typing import Any

from passerelle.festival import presale, service
from passerelle.festival.models import Deal
from passerelle.festival.reservations import reservations_of_order


async def confirm_paid_deal(state: Any, payload: dict[str, Any]) -> None:
    if state.engine is None:
        raise RuntimeError("festival engine offline")
    async with state.db.read_sessions() as session:
        seqs = await reservations_of_order(session, order_id=int(payload["order_id"]))
    for seq in seqs:
        await state.engine.confirm(seq)


async def release_deal_hold(state: Any, payload: dict[str, Any]) -> None:
    if state.engine is None:
        raise RuntimeError("festival engine offline")
    await state.engine.release(int(payload["reservation"]))


async def close_ended_deal(state: Any, payload: dict[str, Any]) -> None:
    """Scheduled at the deal's end plus its hold time: unsold units return to the SKU."""
    if state.engine is None:
        raise RuntimeError("festival engine offline")
    deal_id = int(payload["deal_id"])
    await state.engine.expire_due()  # release any hold the sweep has not reached yet
    remaining, held, _sold = await state.engine.counts(deal_id)
    if held:
        raise RuntimeError(f"deal {deal_id} still has {held} held units")  # retried later by the outbox
    async with state.db.writing() as session:
        # Presale units whose balance was never paid are unsold too (forfeit first, in case
        # its own run has not happened yet).
        await presale.forfeit_unpaid(session, deal_id=deal_id, now=state.clock.now())
        deal = await session.get(Deal, deal_id)
        presale_unsold = deal.presale_stock - await presale.sold_units(session, deal_id=deal_id) if deal else 0
        await service.close_deal(session, deal_id=deal_id, unsold=remaining + presale_unsold)


async def presale_order_paid(state: Any, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await presale.on_order_paid(session, order_id=int(payload["order_id"]))


async def presale_order_dropped(state: Any, payload: dict[str, Any]) -> None:
    async with state.db.writing() as session:
        await presale.on_order_dropped(session, order_id=int(payload["order_id"]), now=state.clock.now())


async def forfeit_unpaid_balances(state: Any, payload: dict[str, Any]) -> None:
    """Scheduled at a presale deal's balance due time."""
    async with state.db.writing() as session:
        await presale.forfeit_unpaid(session, deal_id=int(payload["deal_id"]), now=state.clock.now())
