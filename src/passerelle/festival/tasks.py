"""Outbox consumers of the festival: tell the engine a deal order was paid or dropped."""

from __future__ import annotations

from typing import Any

from passerelle.festival import service
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
        await service.close_deal(session, deal_id=deal_id, unsold=remaining)
