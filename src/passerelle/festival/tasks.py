"""Outbox consumers of the festival: tell the engine a deal order was paid or dropped."""

from __future__ import annotations

from typing import Any

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
